"""Garbage in: every importer yields Events or Rejected (or raises ImporterError), never crashes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qunyun.engine.ingest import available_importers, pick_importer
from qunyun.events import Event
from qunyun.importers.base import ImporterError, Rejected
from qunyun.importers.irc import IrcImporter
from qunyun.importers.onebot import OneBotImporter
from qunyun.importers.qq_txt import QQTxtImporter
from qunyun.importers.telegram import TelegramExportImporter
from qunyun.importers.wechat_csv import LAYOUTS, WeChatCsvImporter

IMPORTERS: list[Any] = [
    IrcImporter().with_options(date="2024-05-01"),
    QQTxtImporter(),
    WeChatCsvImporter(),
    TelegramExportImporter(),
    OneBotImporter(),
]
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def drain(importer: Any, data: bytes) -> list[Any]:
    try:
        out = list(importer.read(io.BytesIO(data), source="/x/2024-05-01.txt"))
    except ImporterError as exc:
        assert str(exc)
        return []
    for rec in out:
        assert isinstance(rec, Event | Rejected)
        if isinstance(rec, Rejected):
            assert rec.reason
    return out


@pytest.mark.parametrize("importer", IMPORTERS, ids=lambda i: i.name)
@FAST
@given(data=st.binary(max_size=600))
def test_random_bytes(importer: Any, data: bytes) -> None:
    drain(importer, data)
    assert isinstance(importer.sniff(Path("x"), data), bool)


_LINE_PARTS = st.sampled_from(
    [
        "[10:00] <a> hi",
        "[99:99] <a> x",
        "=== a [h] has joined #c",
        "=== ",
        "* x",
        "-a- n",
        "2024-05-01 12:00:00 a(123)",
        "2024-02-30 12:00:00 b(1234)",
        "消息对象:",
        "消息对象:群",
        "=" * 64,
        "",
        "\ufeff",
        "\r",
        "[",
        "<>",
        "10:00 -!- x",
    ]
)


@pytest.mark.parametrize("importer", IMPORTERS[:2], ids=lambda i: i.name)
@FAST
@given(lines=st.lists(st.one_of(_LINE_PARTS, st.text(max_size=40)), max_size=30))
def test_line_formats_with_near_miss_lines(importer: Any, lines: list[str]) -> None:
    blob = "\n".join(lines)
    out = drain(importer, blob.encode("utf-8", "surrogatepass"))
    # at most one record per physical line: each is an event, part of a message body, or a rejection
    assert len(out) <= blob.count("\n") + 1
    lines_seen = [r.line for r in out if isinstance(r, Rejected)]
    assert lines_seen == sorted(lines_seen)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_MSG = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(), st.text(max_size=5)), "type": st.sampled_from(["message", "service", "x"])},
    optional={
        "date": st.one_of(st.text(max_size=25), st.just("2024-05-01T10:00:00")),
        "date_unixtime": st.one_of(st.text(max_size=12), st.just("1714536000"), st.integers()),
        "from_id": st.one_of(st.none(), st.text(max_size=12), st.integers()),
        "text": _JSON,
        "text_entities": _JSON,
        "actor_id": _JSON,
        "members": _JSON,
        "action": _JSON,
        "reply_to_message_id": _JSON,
        "photo": _JSON,
    },
)


@FAST
@given(chat=st.fixed_dictionaries({"name": _JSON, "type": _JSON, "id": _JSON, "messages": st.lists(_MSG, max_size=6)}))
def test_telegram_structured_garbage(chat: dict[str, Any]) -> None:
    drain(TelegramExportImporter(), json.dumps(chat).encode())


@FAST
@given(
    objs=st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "time",
                    "post_type",
                    "message_type",
                    "notice_type",
                    "group_id",
                    "user_id",
                    "message_id",
                    "message",
                    "sender",
                    "self_id",
                    "flag",
                    "request_type",
                    "sub_type",
                ]
            ),
            _JSON,
        ),
        max_size=6,
    )
)
def test_onebot_structured_garbage(objs: list[dict[str, Any]]) -> None:
    drain(OneBotImporter(), "\n".join(json.dumps(o) for o in objs).encode())


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@FAST
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(
                    [
                        "1",
                        "0",
                        "10000",
                        "1714536000",
                        "2024-05-01 12:00:00",
                        "文本",
                        "系统通知",
                        "我",
                        '"a"邀请"b、c"加入了群聊',
                    ]
                ),
            ),
            max_size=14,
        ),
        max_size=8,
    )
)
def test_wechat_rows_garbage(layout: str, rows: list[list[str]]) -> None:
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(LAYOUTS[layout])
    writer.writerows(rows)
    out = drain(WeChatCsvImporter(), buf.getvalue().encode("utf-8", "surrogatepass"))
    assert all(r.line is not None and r.line >= 2 for r in out if isinstance(r, Rejected))


def test_auto_detection_picks_each_format(shared_dir: Path, tmp_path: Path) -> None:
    from qunyun.engine.plugins import Registry
    from qunyun.importers.plugin import ImportersPlugin

    registry = Registry()
    registry.install(ImportersPlugin())
    found = available_importers(registry.importers)
    samples = {
        "telegram": (shared_dir / "exports" / "telegram_result_sample.json").read_bytes(),
        "irc": (shared_dir / "chat" / "ubuntu_irc_raw_sample.txt").read_bytes(),
        "events": b'{"platform":"irc","group_id":"u","message_id":"1","user_id":"a","time":"2024-01-01T00:00:00Z"}\n',
        "onebot": b'{"time":1,"self_id":1,"post_type":"message","message_type":"group","group_id":1}\n',
        "qq-txt": "消息分组:我的QQ群\n消息对象:群\n2024-05-01 12:00:00 a(12345)\nhi\n".encode(),
        "wechat-csv": b"id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\n",
    }
    for name, data in samples.items():
        path = tmp_path / f"sample-{name}"
        path.write_bytes(data)
        assert pick_importer(path, "auto", found).name == name
