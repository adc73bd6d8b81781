"""Telegram Bot API ``Update`` objects → qunyun :class:`~qunyun.events.Event` (pure functions).

- ``message`` → MESSAGE (COMMAND when it starts with a ``bot_command`` entity); text or caption,
  entities → ``at``/``link`` segments (offsets are UTF-16 code units, as the Bot API counts them),
  ``text_mention`` users → ``mentions``, ``reply_to_message`` → ``reply_to``, photos/media →
  segments. Service messages about members (``new_chat_members``/``left_chat_member``) become
  ``system`` events: joins and leaves come from ``chat_member`` updates, which carry the invite
  link and are sent once per change (the service message is not, e.g. in large groups).
- ``edited_message`` → EDIT (``message_id`` ``<id>:e<edit_date>``, ``reply_to`` the edited id).
- ``chat_member`` → JOIN / LEAVE (subtype ``left``/``kicked``) / NOTICE (promotions, restrictions);
  ``raw`` keeps ``invite_link``, ``invite_link_name`` (invite attribution), ``operator_id``.
- ``my_chat_member`` (the bot's own membership) → NOTICE ``bot_<status>``.
- ``chat_join_request`` → REQUEST (``raw.invite_link_name`` when the link was named).
- ``message_reaction`` → REACTION (``reply_to`` the message, ``text`` the new emoji).

Member-update ids are derived from the change itself (user, time, new status), so the same
change seen by two bots in one group, or replayed, is stored once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qunyun.events import Event, EventType, Segment, SegmentType


class TelegramParseError(ValueError):
    """An update that is not what the Bot API documents; the message names the field."""

    def __init__(self, message: str, raw: Any = None) -> None:
        super().__init__(message)
        self.raw = raw


_IN_CHAT = {"creator", "administrator", "member"}
_GROUP_TYPES = {"group", "supergroup"}
_MEDIA: tuple[tuple[str, SegmentType], ...] = (
    ("video", SegmentType.VIDEO),
    ("animation", SegmentType.VIDEO),
    ("video_note", SegmentType.VIDEO),
    ("voice", SegmentType.VOICE),
    ("audio", SegmentType.VOICE),
    ("document", SegmentType.FILE),
    ("sticker", SegmentType.FACE),
)


def _obj(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise TelegramParseError(f"{where}: field {key!r} must be an object", parent)
    return value


def _int(parent: dict[str, Any], key: str, where: str) -> int:
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TelegramParseError(f"{where}: field {key!r} must be an integer, got {type(value).__name__}", parent)
    return value


def _time(parent: dict[str, Any], key: str, where: str) -> datetime:
    value = _int(parent, key, where)
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise TelegramParseError(f"{where}: {key} {value!r} is out of range", parent) from exc


def user_name(user: dict[str, Any]) -> str | None:
    """``first_name last_name`` (a title for chats acting as senders)."""
    parts = [user.get("first_name"), user.get("last_name")]
    name = " ".join(p for p in parts if isinstance(p, str) and p)
    if not name and isinstance(user.get("title"), str):
        name = user["title"]
    return name or None


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The Bot API counts entity offsets in UTF-16 code units (emoji count twice)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")


def segments_of(text: str, entities: Any) -> tuple[list[Segment], list[str], bool]:
    """(segments in order, mentioned user ids, starts with a bot command)."""
    segments: list[Segment] = []
    mentions: list[str] = []
    command = False
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    pos = 0
    ents = (
        sorted(
            (
                e
                for e in entities
                if isinstance(e, dict)
                and isinstance(e.get("offset"), int)
                and isinstance(e.get("length"), int)
                and e["length"] > 0
                and 0 <= e["offset"] < units
            ),
            key=lambda e: e["offset"],
        )
        if isinstance(entities, list)
        else []
    )
    for ent in ents:
        off, length, kind = ent["offset"], ent["length"], ent.get("type")
        if kind == "bot_command" and off == 0:
            command = True
        if kind not in ("mention", "text_mention", "url", "text_link") or off < pos:
            continue
        if off > pos:
            segments.append(Segment.text(utf16_slice(text, pos, off - pos)))
        piece = utf16_slice(text, off, length)
        if kind == "mention":
            segments.append(Segment(type=SegmentType.AT, data={"username": piece.lstrip("@"), "text": piece}))
        elif kind == "text_mention" and isinstance(ent.get("user"), dict) and "id" in ent["user"]:
            uid = str(ent["user"]["id"])
            mentions.append(uid)
            segments.append(Segment(type=SegmentType.AT, data={"user_id": uid, "text": piece}))
        elif kind == "url":
            segments.append(Segment(type=SegmentType.LINK, data={"url": piece, "text": piece}))
        elif kind == "text_link":
            segments.append(Segment(type=SegmentType.LINK, data={"url": str(ent.get("url", "")), "text": piece}))
        else:
            segments.append(Segment.text(piece))
        pos = off + length
    if pos < units:
        segments.append(Segment.text(utf16_slice(text, pos, units - pos)))
    return segments, mentions, command


def _chat(msg: dict[str, Any], where: str, include_private: bool) -> tuple[str, str | None, bool] | None:
    chat = _obj(msg, "chat", where)
    chat_id = _int(chat, "id", f"{where}.chat")
    ctype = chat.get("type")
    if ctype in _GROUP_TYPES:
        return str(chat_id), chat.get("title") if isinstance(chat.get("title"), str) else None, False
    if ctype == "private":
        return (f"private:{chat_id}", None, True) if include_private else None
    return None  # channels: not groups qunyun operates


def _sender(msg: dict[str, Any], where: str) -> tuple[str, str | None, dict[str, Any]]:
    extra: dict[str, Any] = {}
    sender_chat = msg.get("sender_chat")
    if isinstance(sender_chat, dict) and "id" in sender_chat:  # anonymous admin / linked channel
        extra["sender_chat"] = True
        return str(sender_chat["id"]), user_name(sender_chat), extra
    user = _obj(msg, "from", where)
    uid = _int(user, "id", f"{where}.from")
    if isinstance(user.get("username"), str):
        extra["username"] = user["username"]
    if user.get("is_bot"):
        extra["is_bot"] = True
    return str(uid), user_name(user), extra


def parse_message(
    msg: Any, *, edited: bool = False, self_id: str | None = None, include_private: bool = False
) -> Event | None:
    where = "edited_message" if edited else "message"
    if not isinstance(msg, dict):
        raise TelegramParseError(f"{where} must be an object", msg)
    chat = _chat(msg, where, include_private)
    if chat is None:
        return None
    group_id, title, private = chat
    message_id = _int(msg, "message_id", where)
    when = _time(msg, "edit_date" if edited and "edit_date" in msg else "date", where)
    user_id, name, raw = _sender(msg, where)
    text: str = ""
    entities: Any = msg.get("entities")
    if isinstance(msg.get("text"), str):
        text = msg["text"]
    else:
        caption = msg.get("caption")
        text = caption if isinstance(caption, str) else ""
        entities = msg.get("caption_entities")
    segments, mentions, command = segments_of(text, entities or [])
    photo = msg.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        biggest = photo[-1]
        segments.append(
            Segment(
                type=SegmentType.IMAGE,
                data={"file_id": biggest.get("file_id"), "file_unique_id": biggest.get("file_unique_id")},
            )
        )
    for key, seg_type in _MEDIA:
        media = msg.get(key)
        if isinstance(media, dict):
            data = {"file_id": media.get("file_id"), "file_unique_id": media.get("file_unique_id"), "kind": key}
            if key == "sticker" and media.get("emoji"):
                data["emoji"] = media["emoji"]
            segments.append(Segment(type=seg_type, data=data))
            break
    reply = msg.get("reply_to_message")
    reply_to = str(reply["message_id"]) if isinstance(reply, dict) and "message_id" in reply else None
    etype = EventType.COMMAND if command else EventType.MESSAGE
    subtype = "private" if private else None
    if private:
        raw["chat_type"] = "private"
    if msg.get("message_thread_id") is not None:
        raw["thread_id"] = msg["message_thread_id"]
    if isinstance(msg.get("forward_origin"), dict):
        raw["forwarded"] = True
    if edited:
        etype, reply_to = EventType.EDIT, str(message_id)
        message_id_s = f"{message_id}:e{int(when.timestamp())}"
    else:
        message_id_s = str(message_id)
        service = _service(msg)
        if service is not None:
            etype, subtype = EventType.SYSTEM, service[0]
            raw.update(service[1])
    return Event(
        platform="telegram",
        group_id=group_id,
        group_name=title,
        message_id=message_id_s,
        user_id=user_id,
        user_name=name,
        type=etype,
        time=when,
        text=text or None,
        segments=segments,
        mentions=mentions,
        reply_to=reply_to,
        subtype=subtype,
        self_id=self_id,
        raw=raw,
    )


def _service(msg: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if isinstance(msg.get("new_chat_members"), list):
        ids = [str(u.get("id")) for u in msg["new_chat_members"] if isinstance(u, dict)]
        return "new_chat_members", {"user_ids": ids}
    if isinstance(msg.get("left_chat_member"), dict):
        return "left_chat_member", {"user_ids": [str(msg["left_chat_member"].get("id"))]}
    for key in (
        "new_chat_title",
        "pinned_message",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "group_chat_created",
        "supergroup_chat_created",
        "new_chat_photo",
        "delete_chat_photo",
    ):
        if key in msg:
            value = msg[key]
            return key, {key: value} if isinstance(value, int | str) and not isinstance(value, bool) else {}
    return None


def _in_chat(member: dict[str, Any]) -> bool:
    status = member.get("status")
    return status in _IN_CHAT or (status == "restricted" and bool(member.get("is_member")))


def parse_chat_member(update: Any, *, mine: bool = False, self_id: str | None = None) -> Event | None:
    where = "my_chat_member" if mine else "chat_member"
    if not isinstance(update, dict):
        raise TelegramParseError(f"{where} must be an object", update)
    chat = _obj(update, "chat", where)
    if chat.get("type") not in _GROUP_TYPES:
        return None
    old, new = _obj(update, "old_chat_member", where), _obj(update, "new_chat_member", where)
    user = _obj(new, "user", f"{where}.new_chat_member")
    uid = str(_int(user, "id", f"{where}.new_chat_member.user"))
    actor: dict[str, Any] = update["from"] if isinstance(update.get("from"), dict) else {}
    when = _time(update, "date", where)
    was, now = _in_chat(old), _in_chat(new)
    new_status = str(new.get("status"))
    raw: dict[str, Any] = {"old_status": str(old.get("status")), "new_status": new_status}
    if actor.get("id") is not None and str(actor.get("id")) != uid:
        raw["operator_id"] = str(actor["id"])
    link = update.get("invite_link")
    if isinstance(link, dict):
        raw["invite_link"] = link.get("invite_link")
        if link.get("name"):
            raw["invite_link_name"] = link["name"]
        creator = link.get("creator")
        if isinstance(creator, dict) and creator.get("id") is not None:
            raw["invite_link_creator"] = str(creator["id"])
    if update.get("via_join_request"):
        raw["via_join_request"] = True
    if isinstance(user.get("username"), str):
        raw["username"] = user["username"]
    if mine:
        etype, subtype = EventType.NOTICE, f"bot_{new_status}"
    elif now and not was:
        etype, subtype = (
            EventType.JOIN,
            "invite_link" if isinstance(link, dict) else ("added" if "operator_id" in raw else "joined"),
        )
    elif was and not now:
        etype, subtype = EventType.LEAVE, "kicked" if new_status == "kicked" else "left"
    else:
        etype, subtype = EventType.NOTICE, f"{raw['old_status']}->{new_status}"[:32]
    if new_status == "restricted" and new.get("until_date"):
        raw["until_date"] = new["until_date"]
    return Event(
        platform="telegram",
        group_id=str(_int(chat, "id", f"{where}.chat")),
        group_name=chat.get("title") if isinstance(chat.get("title"), str) else None,
        message_id=f"member:{uid}:{int(when.timestamp())}:{new_status}",
        user_id=uid,
        user_name=user_name(user),
        type=etype,
        time=when,
        subtype=subtype,
        self_id=self_id,
        raw=raw,
    )


def parse_join_request(update: Any, *, self_id: str | None = None) -> Event | None:
    if not isinstance(update, dict):
        raise TelegramParseError("chat_join_request must be an object", update)
    chat = _obj(update, "chat", "chat_join_request")
    user = _obj(update, "from", "chat_join_request")
    uid = str(_int(user, "id", "chat_join_request.from"))
    when = _time(update, "date", "chat_join_request")
    raw: dict[str, Any] = {"user_chat_id": update.get("user_chat_id")}
    link = update.get("invite_link")
    if isinstance(link, dict):
        raw["invite_link"] = link.get("invite_link")
        if link.get("name"):
            raw["invite_link_name"] = link["name"]
    bio = update.get("bio")
    return Event(
        platform="telegram",
        group_id=str(_int(chat, "id", "chat_join_request.chat")),
        group_name=chat.get("title") if isinstance(chat.get("title"), str) else None,
        message_id=f"joinreq:{uid}:{int(when.timestamp())}",
        user_id=uid,
        user_name=user_name(user),
        type=EventType.REQUEST,
        time=when,
        text=bio if isinstance(bio, str) and bio else None,
        subtype="join_request",
        self_id=self_id,
        raw=raw,
    )


def _emoji(reactions: Any) -> list[str]:
    out = []
    for r in reactions if isinstance(reactions, list) else []:
        if isinstance(r, dict):
            out.append(str(r.get("emoji") or r.get("custom_emoji_id") or r.get("type") or "?"))
    return out


def parse_reaction(update: Any, *, self_id: str | None = None) -> Event | None:
    """``message_reaction`` (the bot must be admin and ask for it) → REACTION on ``reply_to``."""
    if not isinstance(update, dict):
        raise TelegramParseError("message_reaction must be an object", update)
    chat = _obj(update, "chat", "message_reaction")
    if chat.get("type") not in _GROUP_TYPES:
        return None
    target = _int(update, "message_id", "message_reaction")
    when = _time(update, "date", "message_reaction")
    user = update.get("user")
    actor = update.get("actor_chat")
    if isinstance(user, dict):
        uid, name = str(_int(user, "id", "message_reaction.user")), user_name(user)
    elif isinstance(actor, dict):  # anonymous admin
        uid, name = str(_int(actor, "id", "message_reaction.actor_chat")), user_name(actor)
    else:
        raise TelegramParseError("message_reaction: neither user nor actor_chat", update)
    new, old = _emoji(update.get("new_reaction")), _emoji(update.get("old_reaction"))
    return Event(
        platform="telegram",
        group_id=str(_int(chat, "id", "message_reaction.chat")),
        group_name=chat.get("title") if isinstance(chat.get("title"), str) else None,
        message_id=f"reaction:{target}:{uid}:{int(when.timestamp())}",
        user_id=uid,
        user_name=name,
        type=EventType.REACTION,
        time=when,
        text="".join(new) or None,
        reply_to=str(target),
        subtype="removed" if not new else "added",
        self_id=self_id,
        raw={"new": new, "old": old},
    )


def parse_update(update: Any, *, self_id: str | None = None, include_private: bool = False) -> list[Event]:
    """One Update → zero or one Event (types qunyun does not use give none). Raises TelegramParseError."""
    if not isinstance(update, dict):
        raise TelegramParseError(f"an update must be a JSON object, got {type(update).__name__}", update)
    _int(update, "update_id", "update")
    try:
        if "message" in update:
            ev = parse_message(update["message"], self_id=self_id, include_private=include_private)
        elif "edited_message" in update:
            ev = parse_message(update["edited_message"], edited=True, self_id=self_id, include_private=include_private)
        elif "chat_member" in update:
            ev = parse_chat_member(update["chat_member"], self_id=self_id)
        elif "my_chat_member" in update:
            ev = parse_chat_member(update["my_chat_member"], mine=True, self_id=self_id)
        elif "chat_join_request" in update:
            ev = parse_join_request(update["chat_join_request"], self_id=self_id)
        elif "message_reaction" in update:
            ev = parse_reaction(update["message_reaction"], self_id=self_id)
        else:
            return []
    except TelegramParseError:
        raise
    except ValueError as exc:  # pydantic: a field the model refuses (too long an id ...)
        first = str(exc).splitlines()
        raise TelegramParseError(f"update {update.get('update_id')}: {first[-1] if first else exc}", update) from exc
    except (TypeError, AttributeError, KeyError) as exc:  # a field of the wrong shape (a list for a type ...)
        raise TelegramParseError(
            f"update {update.get('update_id')}: a field has the wrong shape ({type(exc).__name__}: {exc})", update
        ) from exc
    return [ev] if ev is not None else []
