from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunyun.adapters.onebot.errors import OneBotParseError
from qunyun.adapters.onebot.parse import parse_event
from qunyun.events import Event, EventType, SegmentType

from . import payloads as p


def _valid(ev: Event) -> None:
    """What parse_event built with model_construct must pass the model's own validation."""
    Event.model_validate(ev.model_dump())


def test_group_message_array_form() -> None:
    ev = parse_event(p.group_message(1, text="早上好"))
    _valid(ev)
    assert (ev.platform, ev.group_id, ev.message_id, ev.user_id) == ("qq", "20001", "5001", "30001")
    assert ev.type is EventType.MESSAGE and ev.subtype == "normal"
    assert ev.text == " 早上好" and ev.mentions == [str(p.SELF)]
    assert ev.user_name == "群名片" and ev.self_id == str(p.SELF)
    assert ev.time == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
    assert [s.type for s in ev.segments] == [SegmentType.AT, SegmentType.TEXT]


def test_group_message_cq_string_form_gives_the_same_event() -> None:
    a = parse_event(p.group_message(2, text="x&y"))
    b = parse_event(p.group_message(2, text="x&amp;y", cq=True))
    assert (a.text, a.mentions, a.segments) == (" x&y", b.mentions, b.segments) and b.text == " x&y"


def test_private_message_and_self_sent() -> None:
    ev = parse_event(p.private_message())
    assert ev.group_id == "private:30002" and ev.subtype == "private" and ev.text == "你好&再见"
    sent = parse_event(p.group_message(3, user=p.SELF, post_type="message_sent"))
    assert sent.raw["self_sent"] is True and sent.user_id == sent.self_id


def test_notices_map_to_membership_events_with_operator() -> None:
    inc = parse_event(p.group_increase("invite", operator=30001, user=30009))
    assert inc.type is EventType.JOIN and inc.subtype == "invite" and inc.raw["operator_id"] == 30001
    assert inc.user_id == "30009" and inc.group_id == "20001"
    dec = parse_event(p.group_decrease("kick"))
    assert dec.type is EventType.LEAVE and dec.subtype == "kick" and dec.raw["operator_id"] == 30001
    ban = parse_event(p.group_ban())
    assert ban.type is EventType.NOTICE and ban.subtype == "ban" and ban.raw["duration"] == 600
    rec = parse_event(p.group_recall())
    assert rec.type is EventType.RECALL and rec.reply_to == "5001"
    adm = parse_event(p.group_admin())
    assert adm.type is EventType.NOTICE and adm.subtype == "set"
    for ev in (inc, dec, ban, rec, adm):
        _valid(ev)
    # a replayed notice has the same key: storing it twice is a no-op
    assert parse_event(p.group_increase()).key == parse_event(p.group_increase()).key


def test_requests_keep_the_flag() -> None:
    fr = parse_event(p.friend_request())
    assert fr.type is EventType.REQUEST and fr.raw["flag"] == "flag-f-1" and fr.text == "加个好友"
    gr = parse_event(p.group_request())
    assert gr.group_id == "20001" and gr.subtype == "add" and gr.raw["request_type"] == "group"
    _valid(fr)
    _valid(gr)


def test_meta_events() -> None:
    hb = parse_event(p.heartbeat())
    assert hb.type is EventType.META and hb.subtype == "heartbeat" and hb.raw["online"] is True
    lc = parse_event(p.lifecycle())
    assert lc.type is EventType.META and lc.subtype == "connect"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ([], "JSON object"),
        ({"post_type": "bogus"}, "unknown post_type"),
        ({**p.group_message(), "time": "yesterday"}, "'time'"),
        ({**p.group_message(), "group_id": None}, "'group_id' is missing"),
        ({**p.group_message(), "user_id": {"a": 1}}, "'user_id' must be an id"),
        ({**p.group_message(), "message": 42}, "'message' must be an array"),
        ({**p.group_message(), "message": [{"data": {}}]}, "segment"),
        ({**p.group_message(), "message_type": "channel"}, "message_type"),
        ({**p.group_request(), "flag": None}, "'flag'"),
        ({**p.heartbeat(), "meta_event_type": "x"}, "meta_event_type"),
        ({**p.group_message(), "time": 10**20}, "out of range"),
    ],
)
def test_bad_payloads_name_what_is_wrong(payload: Any, fragment: str) -> None:
    with pytest.raises(OneBotParseError, match=fragment.replace("(", r"\(")):
        parse_event(payload)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "post_type": st.sampled_from(["message", "message_sent", "notice", "request", "meta_event", "x"]) | _json,
        "message_type": st.sampled_from(["group", "private"]) | _json,
        "notice_type": st.sampled_from(["group_increase", "group_ban", "notify"]) | _json,
        "request_type": st.sampled_from(["friend", "group"]) | _json,
        "meta_event_type": st.sampled_from(["heartbeat", "lifecycle"]) | _json,
        "time": st.integers(min_value=-(10**12), max_value=10**12) | _json,
        "self_id": st.integers(min_value=0, max_value=10**10) | _json,
        "user_id": st.integers(min_value=0, max_value=10**10) | _json,
        "group_id": st.integers(min_value=0, max_value=10**10) | _json,
        "message_id": st.integers() | _json,
        "message": st.text() | st.lists(st.fixed_dictionaries({"type": st.text(max_size=6), "data": _json})) | _json,
        "sender": _json,
        "flag": st.text(max_size=10) | _json,
        "sub_type": _json,
    },
)


@given(_fields)
def test_property_garbage_is_an_event_or_a_clear_error(payload: dict[str, Any]) -> None:
    try:
        ev = parse_event(payload)
    except OneBotParseError as exc:
        assert str(exc)
        return
    Event.model_validate(ev.model_dump())  # whatever passed must be a valid Event
    orjson.dumps(ev.model_dump(mode="json"))


@given(_json)
def test_property_any_json_value(value: Any) -> None:
    with contextlib.suppress(OneBotParseError):
        parse_event(value)


def test_fast_construction_equals_validation() -> None:
    for payload in p.ALL_EXAMPLES:
        ev = parse_event(payload)
        again = Event.model_validate(ev.model_dump())
        assert ev == again and ev.model_dump() == again.model_dump()
        assert ev.model_copy(update={"text": "x"}).text == "x"


def test_plain_text_message_keeps_only_text() -> None:
    payload = p.group_message(1)
    payload["message"] = [{"type": "text", "data": {"text": "只有文字"}}]
    ev = parse_event(payload)
    assert ev.segments == [] and ev.text == "只有文字" and ev.plain_text() == "只有文字"


@given(
    st.binary(max_size=300)
    | _json.map(lambda v: json.dumps(v).encode())
    | _fields.map(lambda v: json.dumps(v).encode())
)
def test_property_http_post_body_is_stored_or_refused_never_raises(body: bytes) -> None:
    import asyncio

    from qunyun.adapters.onebot import OneBotAccount, OneBotAdapter

    dead: list[str] = []
    adapter = OneBotAdapter(
        OneBotAccount(mode="http", url="http://127.0.0.1:9"), dead_letter=lambda s, r, raw: dead.append(r)
    )
    stored: list[Event] = []

    async def sink(events: Any) -> None:
        stored.extend(events)

    adapter._sink = sink
    status = asyncio.run(adapter.receive_post(body, None))
    assert status in (204, 400)
    assert (status == 400) == bool(dead) and len(stored) <= 1
