from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qunyun.adapters.telegram.parse import TelegramParseError, parse_update, segments_of, utf16_slice
from qunyun.events import Event, EventType, SegmentType
from tests.adapters.telegram.updates import ADMIN, ANN, BOB, GROUP, member_update, message


def one(update: dict[str, Any]) -> Event:
    events = parse_update({"update_id": 1, **update})
    assert len(events) == 1
    return events[0]


def test_message_entities_use_utf16_offsets() -> None:
    ev = one({"message": message(reply_to_message={"message_id": 99, "chat": GROUP, "date": 1})})
    assert (ev.group_id, ev.message_id, ev.user_id, ev.user_name) == ("-1001234567890", "100", "42", "Ann Lee")
    assert ev.reply_to == "99" and ev.group_name == "运营群" and ev.raw["username"] == "ann"
    kinds = [(s.type, s.data.get("text")) for s in ev.segments]
    assert kinds == [
        (SegmentType.TEXT, "👋 "),
        (SegmentType.AT, "@bob"),
        (SegmentType.TEXT, " see "),
        (SegmentType.LINK, "https://x.org"),
    ]
    assert utf16_slice("👋a", 2, 1) == "a"


def test_text_mention_command_photo_and_caption() -> None:
    ev = one(
        {
            "message": {
                "message_id": 5,
                "from": ANN,
                "chat": GROUP,
                "date": 1,
                "caption": "/ban Bob",
                "caption_entities": [
                    {"type": "bot_command", "offset": 0, "length": 4},
                    {"type": "text_mention", "offset": 5, "length": 3, "user": BOB},
                ],
                "photo": [{"file_id": "small", "file_unique_id": "s"}, {"file_id": "big", "file_unique_id": "b"}],
            }
        }
    )
    assert ev.type is EventType.COMMAND and ev.mentions == ["7"] and ev.text == "/ban Bob"
    assert ev.segments[-1].type is SegmentType.IMAGE and ev.segments[-1].data["file_id"] == "big"


def test_edit_member_updates_and_join_request() -> None:
    edit = one({"edited_message": message(edit_date=1714536050, text="fixed", entities=[])})
    assert (edit.type, edit.message_id, edit.reply_to) == (EventType.EDIT, "100:e1714536050", "100")
    join = one({"chat_member": member_update("left", "member", link_name="promoter-7")})
    assert (join.type, join.user_id, join.subtype) == (EventType.JOIN, "7", "invite_link")
    assert join.raw["invite_link_name"] == "promoter-7" and join.raw["invite_link_creator"] == "1"
    kicked = one({"chat_member": member_update("member", "kicked", actor=ADMIN)})
    assert (kicked.type, kicked.subtype, kicked.raw["operator_id"]) == (EventType.LEAVE, "kicked", "1")
    muted = one({"chat_member": member_update("member", "restricted", actor=ADMIN, is_member=True, until_date=9)})
    assert (muted.type, muted.subtype, muted.raw["until_date"]) == (EventType.NOTICE, "member->restricted", 9)
    gone = one({"chat_member": member_update("restricted", "restricted", actor=BOB, is_member=False)})
    assert gone.type is EventType.NOTICE  # was not "in chat" by status alone either: no phantom leave
    mine = one(
        {
            "my_chat_member": member_update(
                "left", "administrator", user={"id": 123456, "is_bot": True, "first_name": "qy"}, actor=ADMIN
            )
        }
    )
    assert (mine.type, mine.subtype) == (EventType.NOTICE, "bot_administrator")
    req = one(
        {
            "chat_join_request": {
                "chat": GROUP,
                "from": BOB,
                "user_chat_id": 7,
                "date": 1714536200,
                "bio": "hi",
                "invite_link": {"invite_link": "x", "name": "ad-1"},
            }
        }
    )
    assert (req.type, req.raw["invite_link_name"], req.text) == (EventType.REQUEST, "ad-1", "hi")


def test_reactions() -> None:
    ev = one(
        {
            "message_reaction": {
                "chat": GROUP,
                "message_id": 100,
                "user": BOB,
                "date": 1714536300,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        }
    )
    assert (ev.type, ev.reply_to, ev.text, ev.user_id, ev.subtype) == (EventType.REACTION, "100", "👍", "7", "added")


def test_service_messages_channels_and_private() -> None:
    svc = one({"message": {"message_id": 9, "from": ANN, "chat": GROUP, "date": 1, "new_chat_members": [BOB]}})
    assert svc.type is EventType.SYSTEM and svc.raw["user_ids"] == ["7"]
    chan = {
        "update_id": 2,
        "message": {
            "message_id": 1,
            "chat": {"id": -100, "type": "channel"},
            "date": 1,
            "sender_chat": {"id": -100, "title": "c"},
            "text": "x",
        },
    }
    assert parse_update(chan) == []
    private = {
        "update_id": 3,
        "message": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "from": ANN, "date": 1, "text": "hi"},
    }
    assert parse_update(private) == []
    assert parse_update(private, include_private=True)[0].group_id == "private:42"
    assert parse_update({"update_id": 4, "poll": {}}) == []


def test_errors_name_the_field() -> None:
    for bad, field in (
        ({"message": {"chat": GROUP, "from": ANN, "date": 1}}, "message_id"),
        ({"message": {"message_id": 1, "chat": GROUP, "date": 1}}, "from"),
        ({"chat_member": {"chat": GROUP, "date": 1}}, "old_chat_member"),
    ):
        try:
            parse_update({"update_id": 1, **bad})
        except TelegramParseError as exc:
            assert field in str(exc)
        else:
            raise AssertionError(f"{bad} accepted")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "message_id",
                    "chat",
                    "from",
                    "date",
                    "text",
                    "entities",
                    "id",
                    "type",
                    "offset",
                    "length",
                    "user",
                    "status",
                    "old_chat_member",
                    "new_chat_member",
                    "photo",
                    "invite_link",
                    "caption",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(
        ["message", "edited_message", "chat_member", "my_chat_member", "chat_join_request", "message_reaction"]
    ),
    body=_JSON,
    update_id=st.one_of(st.integers(), st.text(max_size=3)),
)
def test_garbage_updates_give_events_or_a_clear_error(kind: str, body: Any, update_id: Any) -> None:
    try:
        events = parse_update({"update_id": update_id, kind: body})
    except TelegramParseError as exc:
        assert str(exc)
        return
    assert all(isinstance(e, Event) for e in events)


@given(
    text=st.text(max_size=30),
    ents=st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["mention", "url", "text_link", "bold", "bot_command", "text_mention"]),
                "offset": st.integers(-3, 40),
                "length": st.integers(-3, 40),
            }
        ),
        max_size=5,
    ),
)
def test_entities_never_crash(text: str, ents: list[dict[str, Any]]) -> None:
    segments, _, _ = segments_of(text, ents)
    assert all(s.type in SegmentType for s in segments)
