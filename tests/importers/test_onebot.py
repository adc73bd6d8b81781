from __future__ import annotations

import io
from pathlib import Path

import orjson

from qunyun.app import QunyunApp
from qunyun.events import Event, EventType
from qunyun.importers.base import Rejected
from qunyun.importers.onebot import OneBotImporter
from tests.importers.conftest import run_import

LINES = [
    {
        "time": 1714536000,
        "self_id": 1,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": 101,
        "group_id": 555,
        "user_id": 42,
        "message": "[CQ:at,qq=7] 你好&#91;x&#93;",
        "raw_message": "",
        "font": 0,
        "sender": {"nickname": "n", "card": "卡片"},
    },
    {
        "time": 1714536001,
        "self_id": 1,
        "post_type": "message",
        "message_type": "group",
        "message_id": 102,
        "group_id": 555,
        "user_id": 43,
        "message": [{"type": "text", "data": {"text": "hi"}}],
        "sender": {},
    },
    {
        "time": 1714536002,
        "self_id": 1,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": "invite",
        "group_id": 555,
        "user_id": 44,
        "operator_id": 42,
    },
    {
        "time": 1714536003,
        "self_id": 1,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
        "interval": 5000,
        "status": {},
    },
    {
        "time": "yesterday",
        "self_id": 1,
        "post_type": "message",
        "message_type": "group",
        "message_id": 103,
        "group_id": 555,
        "user_id": 43,
        "message": "x",
    },
]


def payload() -> bytes:
    return b"\n".join(orjson.dumps(x) for x in LINES) + b"\n{broken\n\n[1,2]\n"


def test_maps_like_the_live_adapter() -> None:
    recs = list(OneBotImporter().read(io.BytesIO(payload()), source="ob.jsonl"))
    events = [r for r in recs if isinstance(r, Event)]
    rejected = [r for r in recs if isinstance(r, Rejected)]
    assert [(e.type, e.message_id) for e in events][:2] == [(EventType.MESSAGE, "101"), (EventType.MESSAGE, "102")]
    assert events[0].mentions == ["7"] and events[0].user_name == "卡片" and "你好[x]" in (events[0].text or "")
    assert events[2].type is EventType.JOIN and events[2].raw["operator_id"] == 42
    assert len(events) == 3  # the heartbeat is connection state, not history
    assert [r.line for r in rejected] == [5, 6, 8]
    assert "time" in rejected[0].reason and "invalid JSON" in rejected[1].reason


def test_sniff() -> None:
    assert OneBotImporter().sniff(Path("x"), payload())
    assert not OneBotImporter().sniff(Path("x"), b'{"platform": "qq", "group_id": "1", "message_id": "2"}\n')


def test_import_idempotent(qapp: QunyunApp, tmp_path: Path) -> None:
    path = tmp_path / "onebot.jsonl"
    path.write_bytes(payload())
    first = run_import(qapp, path)
    assert (first.imported, first.rejected) == (3, 3)
    again = run_import(qapp, path, fmt="onebot")
    assert (again.imported, again.duplicates) == (0, 3)
