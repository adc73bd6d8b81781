from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import orjson
from sqlalchemy import text

from qunyun.app import QunyunApp
from qunyun.events import Event, EventType, SegmentType
from qunyun.importers.base import Rejected
from qunyun.importers.telegram import TelegramExportImporter, chat_id_for, user_id_for
from tests.importers.conftest import run_import


def read(obj: object) -> list[Event | Rejected]:
    data = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    return list(TelegramExportImporter().read(io.BytesIO(data), source="result.json"))


def test_sample_export(shared_dir: Path) -> None:
    path = shared_dir / "exports" / "telegram_result_sample.json"
    recs = read(path.read_bytes())
    assert all(isinstance(r, Event) for r in recs)
    events = [r for r in recs if isinstance(r, Event)]
    kinds = Counter((e.type, e.subtype) for e in events)
    assert kinds[(EventType.MESSAGE, None)] == 250
    assert kinds[(EventType.JOIN, "invited")] == 3
    assert events[0].group_id == "-69420" and events[0].group_name == "Sample Chat Group"
    # every message has id 69420 in the hand-made sample: none may be lost to a key collision
    assert len({e.message_id for e in events}) == 256
    assert events[0].time.isoformat() == "2022-03-21T11:11:11+00:00"  # date_unixtime is 0: "date" used


MSGS = [
    {
        "id": 10,
        "type": "message",
        "date": "2024-05-01T12:00:00",
        "date_unixtime": "1714564800",
        "from": "Ann",
        "from_id": "user42",
        "text": [
            "hi ",
            {"type": "mention_name", "text": "Bob", "user_id": 7},
            " see ",
            {"type": "link", "text": "https://x.org"},
        ],
        "text_entities": [
            {"type": "plain", "text": "hi "},
            {"type": "mention_name", "text": "Bob", "user_id": 7},
            {"type": "plain", "text": " see "},
            {"type": "link", "text": "https://x.org"},
        ],
    },
    {
        "id": 11,
        "type": "message",
        "date_unixtime": "1714564801",
        "from": "Bob",
        "from_id": "user7",
        "text": "",
        "photo": "photos/p.jpg",
        "reply_to_message_id": 10,
    },
    {
        "id": 12,
        "type": "service",
        "date_unixtime": "1714564802",
        "actor": "Cy",
        "actor_id": "user9",
        "action": "join_group_by_link",
        "text": "",
    },
    {
        "id": 13,
        "type": "service",
        "date_unixtime": "1714564803",
        "actor": "Cy",
        "actor_id": "user9",
        "action": "remove_members",
        "members": ["Cy"],
        "text": "",
    },
    {"id": 14, "type": "message", "date_unixtime": "not a time", "from_id": "user7", "text": "x"},
    {"id": 15, "type": "message", "date_unixtime": "1714564805", "text": "no sender"},
    {"id": 16, "type": "message", "date_unixtime": "1714564806", "from_id": "channel99", "text": "/start"},
]


def test_whole_account_export_maps_bot_api_ids() -> None:
    export = {
        "about": "x",
        "chats": {
            "about": "y",
            "list": [
                {"name": "Super", "type": "private_supergroup", "id": 1234, "messages": MSGS},
                {"name": "Basic", "type": "private_group", "id": 55, "messages": MSGS[:1]},
                {"name": "Ann", "type": "personal_chat", "id": 42, "messages": MSGS[:1]},
            ],
        },
    }
    recs = read(export)
    events = [r for r in recs if isinstance(r, Event)]
    rejected = [r for r in recs if isinstance(r, Rejected)]
    assert [(r.line, "id 14" in r.reason, "id 15" in r.reason) for r in rejected] == [
        (5, True, False),
        (6, False, True),
    ]
    first = events[0]
    assert (first.group_id, first.user_id, first.mentions, first.text) == (
        "-1001234",
        "42",
        ["7"],
        "hi Bob see https://x.org",
    )
    assert [s.type for s in first.segments] == [SegmentType.TEXT, SegmentType.AT, SegmentType.TEXT, SegmentType.LINK]
    photo = events[1]
    assert photo.reply_to == "10" and photo.segments[-1].type is SegmentType.IMAGE
    assert (events[2].type, events[2].user_id, events[2].subtype) == (EventType.JOIN, "9", "invite_link")
    assert (events[3].type, events[3].user_id, events[3].subtype) == (EventType.LEAVE, "9", "left")
    assert (events[4].type, events[4].user_id) == (EventType.COMMAND, "-10099")
    assert events[-1].group_id == "-55"  # the personal chat is skipped by default
    with_private = [
        r
        for r in TelegramExportImporter()
        .with_options(private="include")
        .read(io.BytesIO(orjson.dumps(export)), source="result.json")
        if isinstance(r, Event)
    ]
    assert with_private[-1].group_id == "42" and len(with_private) == len(events) + 1


def test_truncated_json_keeps_what_came_before() -> None:
    data = orjson.dumps({"name": "G", "type": "public_supergroup", "id": 1, "messages": MSGS[:2]})[:-40]
    recs = read(data)
    assert isinstance(recs[0], Event)
    assert isinstance(recs[-1], Rejected) and "invalid JSON" in recs[-1].reason


def test_id_mapping() -> None:
    assert chat_id_for(5, "public_channel") == "-1005" and chat_id_for(5, "personal_chat") == "5"
    assert user_id_for("user1") == "1" and user_id_for("chat3") == "-3"


def test_import_and_reimport(qapp: QunyunApp, shared_dir: Path) -> None:
    path = shared_dir / "exports" / "telegram_result_sample.json"
    first = run_import(qapp, path)
    assert (first.imported, first.rejected) == (256, 0)
    again = run_import(qapp, path, fmt="telegram")
    assert (again.imported, again.duplicates) == (0, 256)
    with qapp.db.engine.connect() as conn:
        assert conn.execute(text("select name from groups where group_id = '-69420'")).scalar() == "Sample Chat Group"
