from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from qunyun.app import QunyunApp
from qunyun.engine.ingest import ImportFormatError
from qunyun.events import Event, EventType
from qunyun.importers.base import ImporterError, Rejected
from qunyun.importers.irc import IrcImporter
from tests.importers.conftest import run_import

SAMPLE_NAME = "2004-12-25.train-c.raw.txt"


def read(data: str, source: str = "/logs/2024-05-01.txt", **opts: str) -> list[Event | Rejected]:
    imp = IrcImporter().with_options(**opts) if opts else IrcImporter()
    return list(imp.read(io.BytesIO(data.encode()), source=source))


def test_sample_matches_the_corpus_event_for_event(shared_dir: Path) -> None:
    """The raw log and the corpus' JSON Lines of the same file give the same ids, times, types."""
    raw = (shared_dir / "chat" / "ubuntu_irc_raw_sample.txt").read_bytes()
    mine = {r.message_id: r for r in IrcImporter().read(io.BytesIO(raw), source=SAMPLE_NAME) if isinstance(r, Event)}
    ref = {}
    with gzip.open(shared_dir / "chat" / "ubuntu_irc_train.jsonl.gz", "rb") as fh:
        for line in fh:
            if b'"2004-12-25.train-c-' not in line:
                if ref:
                    break
                continue
            obj = orjson.loads(line)
            if int(obj["message_id"].rsplit("-", 1)[1]) < 300:
                ref[obj["message_id"]] = obj
    assert len(ref) == len(mine) == 300
    for mid, obj in ref.items():
        ev = mine[mid]
        assert (ev.group_id, ev.user_id, ev.type.value, ev.text or "", ev.subtype) == (
            obj["group_id"],
            obj["user_id"],
            obj["type"],
            obj["text"],
            obj.get("subtype"),
        ), mid
        assert ev.time.isoformat().replace("+00:00", "Z") == obj["time"], mid


def test_line_kinds_and_midnight_rollover() -> None:
    log = "\n".join(
        [
            "[23:58] <alice> bob: are you there?",
            "[23:59] * bob waves",
            "=== carol [~c@host] has joined #ops",
            "[00:01] <bob> yes",
            "=== bob [~b@host] has left #ops [bye]",
            "=== dave was kicked off #ops by alice [spam]",
            "=== carol is now known as carol_",
            "=== mode/#ops [+o carol_] by alice",
            "[00:02] -ChanServ:#ops- notice text",
            "10:00 -!- erin [~e@h] has quit [Ping timeout]",
        ]
    )
    recs = read(log)
    assert all(isinstance(r, Event) for r in recs), recs
    evs = {r.message_id: r for r in recs if isinstance(r, Event)}
    first = evs["2024-05-01-0"]
    assert first.group_id == "ops" and first.mentions == ["bob"]
    assert evs["2024-05-01-1"].subtype == "action"
    assert evs["2024-05-01-2"].type is EventType.JOIN and evs["2024-05-01-2"].raw["time_inferred"] is True
    assert evs["2024-05-01-3"].time.isoformat() == "2024-05-02T00:01:00+00:00"  # day advanced
    assert (evs["2024-05-01-4"].type, evs["2024-05-01-4"].subtype, evs["2024-05-01-4"].text) == (
        EventType.LEAVE,
        "part",
        "bye",
    )
    assert (evs["2024-05-01-5"].subtype, evs["2024-05-01-5"].raw["by"]) == ("kick", "alice")
    assert evs["2024-05-01-6"].raw["new_nick"] == "carol_"
    assert evs["2024-05-01-7"].type is EventType.SYSTEM and evs["2024-05-01-7"].user_id == "alice"
    assert evs["2024-05-01-8"].subtype == "notice"
    assert evs["2024-05-01-9"].subtype == "quit"


def test_bad_lines_are_rejected_with_their_line_number_and_the_rest_kept() -> None:
    recs = read("[10:00] <a> hi\nthis is not irc\n[25:99] <b> bad clock\n[10:01] <b> ok\n", channel="x")
    rejected = [r for r in recs if isinstance(r, Rejected)]
    assert [(r.line, r.raw) for r in rejected] == [(2, "this is not irc"), (3, "[25:99] <b> bad clock")]
    assert "invalid time" in rejected[1].reason
    assert [r.text for r in recs if isinstance(r, Event)] == ["hi", "ok"]


def test_twelve_hour_clock_logs() -> None:
    log = "[11:58] <a> x\n[12:01] <a> noon\n[01:30] <a> pm\n[11:59] <a> late\n[12:10] <a> past midnight\n"
    times = [r.time.strftime("%d %H:%M") for r in read(log, clock="12h") if isinstance(r, Event)]
    assert times == ["01 11:58", "01 12:01", "01 13:30", "01 23:59", "02 00:10"]
    with pytest.raises(ImporterError, match="12h or 24h"):
        IrcImporter().with_options(clock="13h")


def test_date_and_options() -> None:
    with pytest.raises(ImporterError, match="no date in the file name"):
        read("[10:00] <a> hi\n", source="channel.log")
    recs = read("[10:00] <a> hi\n", source="channel.log", date="2020-02-29", tz="+08:00", channel="#Chan")
    assert isinstance(recs[0], Event)
    assert recs[0].time.isoformat() == "2020-02-29T02:00:00+00:00" and recs[0].group_id == "Chan"
    with pytest.raises(ImporterError, match="expected YYYY-MM-DD"):
        IrcImporter().with_options(date="29.02.2020")
    with pytest.raises(ImporterError, match="unknown time zone"):
        IrcImporter().with_options(tz="Mars/Olympus")
    with pytest.raises(ImporterError, match="unknown option"):
        IrcImporter().with_options(colour="red")


def test_import_is_idempotent_and_dedupes_with_the_corpus(qapp: QunyunApp, shared_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / SAMPLE_NAME
    path.write_bytes((shared_dir / "chat" / "ubuntu_irc_raw_sample.txt").read_bytes() + b"garbage line\n")
    first = run_import(qapp, path)
    assert (first.imported, first.rejected, first.errors) == (
        300,
        1,
        [{"line": 301, "reason": first.errors[0]["reason"]}],
    )
    again = run_import(qapp, path)
    assert (again.imported, again.duplicates) == (0, 300)
    with qapp.db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from events where group_id = 'ubuntu'")).scalar() == 300
        assert conn.execute(text("select count(*) from dead_letters where line = 301")).scalar() == 2


def test_missing_date_is_a_clear_format_error(qapp: QunyunApp, tmp_path: Path) -> None:
    path = tmp_path / "nodate.log"
    path.write_text("[10:00] <a> hi\n[10:01] <b> yo\n")
    with pytest.raises(ImportFormatError, match="--option date=YYYY-MM-DD"):
        run_import(qapp, path, fmt="irc")
    assert run_import(qapp, path, fmt="irc", date="2024-01-01").imported == 2
