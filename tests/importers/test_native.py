"""The native JSON Lines format: parsing, errors with line numbers, IRC mention inference."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qunyun.events import Event
from qunyun.importers.base import Rejected, open_input
from qunyun.importers.native import NativeImporter, parse_event_line


def read_all(data: bytes, known: dict[tuple[str, str], list[str]] | None = None) -> list[Event | Rejected]:
    def lookup(platform: str, group: str) -> list[str]:
        return (known or {}).get((platform, group), [])

    return list(NativeImporter().read(io.BytesIO(data), source="t", known=lookup))


def test_good_line_with_extras_and_int_ids() -> None:
    rec = parse_event_line(
        b'{"platform": "QQ", "group_id": 123, "message_id": "m1", "user_id": 42, "type": "message",'
        b' "text": "hi", "time": "2024-05-01T12:00:00+08:00", "host": "x@y", "mentions": null}',
        1,
    )
    assert isinstance(rec, Event)
    assert rec.platform == "qq" and rec.group_id == "123" and rec.user_id == "42"
    assert rec.raw == {"host": "x@y"} and rec.mentions == []
    assert rec.time.utcoffset() is not None


def test_errors_name_the_problem() -> None:
    bad = {
        b"not json": "invalid JSON",
        b"[1, 2]": "expected a JSON object",
        b'{"platform": "qq", "group_id": "1", "message_id": "m", "user_id": "u", "time": "2024-05-01T12:00:00"}':
            "timezone-aware",
        b'{"platform": "qq", "group_id": "1", "message_id": "m", "time": "2024-05-01T12:00:00Z"}': "user_id",
        b'{"platform": "qq", "group_id": "1", "message_id": "m", "user_id": "u", "type": "dance",'
        b' "time": "2024-05-01T12:00:00Z"}': "type",
    }
    for line, fragment in bad.items():
        rec = parse_event_line(line, 7)
        assert isinstance(rec, Rejected), line
        assert rec.line == 7 and fragment in rec.reason, (line, rec.reason)
    assert parse_event_line(b"   \n", 3) is None


def test_irc_leading_nick_counts_as_mention_of_known_member() -> None:
    lines = [
        b'{"platform": "irc", "group_id": "c", "message_id": "1", "user_id": "alice", "type": "message",'
        b' "text": "Bob: try apt-get", "time": "2024-05-01T12:00:00Z"}',
        b'{"platform": "irc", "group_id": "c", "message_id": "2", "user_id": "bob", "type": "message",'
        b' "text": "thanks alice", "time": "2024-05-01T12:01:00Z"}',
        b'{"platform": "irc", "group_id": "c", "message_id": "3", "user_id": "bob", "type": "message",'
        b' "text": "stranger, hi", "time": "2024-05-01T12:02:00Z"}',
        b'{"platform": "irc", "group_id": "c", "message_id": "4", "user_id": "bob", "type": "message",'
        b' "text": "carol: explicit list wins", "mentions": [], "time": "2024-05-01T12:03:00Z"}',
        b'{"platform": "irc", "group_id": "c", "message_id": "5", "user_id": "bob", "type": "message",'
        b' "text": "Dave, from the store", "time": "2024-05-01T12:04:00Z"}',
    ]
    recs = read_all(b"\n".join(lines), {("irc", "c"): ["dave", "carol"]})
    by_id = {r.message_id: r for r in recs if isinstance(r, Event)}
    assert by_id["1"].mentions == ["bob"]  # bob speaks later: still a known member
    assert by_id["2"].mentions == []  # no leading address
    assert by_id["3"].mentions == []  # not a member
    assert by_id["4"].mentions == []  # explicit mentions are kept as given
    assert by_id["5"].mentions == ["dave"]


def test_gzip_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'{"platform": "qq", "group_id": "1", "message_id": "a", "user_id": "u",'
                 b' "time": "2024-05-01T12:00:00Z"}\n')
    stream, _ = open_input(path)
    head = stream.read(1000)
    assert NativeImporter().sniff(path, head)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_crashes(data: bytes) -> None:
    rec = parse_event_line(data, 1)
    assert rec is None or isinstance(rec, (Event, Rejected))
    if isinstance(rec, Rejected):
        assert rec.reason


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["platform", "group_id", "message_id", "user_id", "time", "type", "text",
                                         "mentions", "reply_to"]),
                       st.one_of(st.none(), st.integers(-(2**62), 2**62), st.text(max_size=20),
                                 st.lists(st.integers(0, 2**40), max_size=3))))
def test_garbage_objects_never_crash(obj: dict[str, object]) -> None:
    import orjson

    rec = parse_event_line(orjson.dumps(obj), 1)
    assert rec is None or isinstance(rec, (Event, Rejected))
