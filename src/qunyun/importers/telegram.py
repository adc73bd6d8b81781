"""Telegram Desktop export (``result.json``): one chat, or a whole account export (``chats.list``).

Streamed with ijson (constant memory on multi-gigabyte exports): each message object is built on
its own and dropped. Ids are mapped to what the Bot API uses, so imported history and live
traffic of the same group are one history: supergroups and channels ``-100<id>``, basic groups
``-<id>``, ``from_id`` ``user123`` → ``123``, ``channel123`` → ``-100123``. Message ids are the
export's (a repeated or decreasing id — hand-made files — gets ``<id>.<ordinal>``).

``date_unixtime`` gives the time; without it ``date`` is read in ``--option tz=`` (default UTC).
Service messages: ``invite_members`` and ``join_group_by_link`` become joins (members listed only
by name get the user id ``name:<name>``), ``remove_members`` leaves, the rest ``system`` events.
``line`` in errors is the ordinal of the message in its chat (JSON has no useful line numbers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from qunyun.events import Event, EventType, Segment, SegmentType
from qunyun.importers.base import ImporterError, KnownMembers, Record, Rejected
from qunyun.importers.common import check_options, parse_time, parse_tz, reason_of, source_stem

_SUPER_TYPES = {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}
_BASIC_TYPES = {"private_group"}
#: one-to-one chats of a whole-account export: not groups, skipped unless ``--option private=include``
_PRIVATE_TYPES = {"personal_chat", "bot_chat", "saved_messages"}
_ITEM_PREFIXES = {"messages.item", "chats.list.item.messages.item", "left_chats.list.item.messages.item"}
_CHAT_PREFIXES = {
    "": "",
    "chats.list.item": "chats.list.item",
    "left_chats.list.item": "left_chats.list.item",
}
_MEDIA = {
    "sticker": SegmentType.FACE,
    "animation": SegmentType.VIDEO,
    "video_file": SegmentType.VIDEO,
    "video_message": SegmentType.VIDEO,
    "voice_message": SegmentType.VOICE,
    "audio_file": SegmentType.VOICE,
}


@dataclass(frozen=True, slots=True)
class _Opts:
    tz: str = "UTC"
    group: str | None = None
    include_private: bool = False


def chat_id_for(export_id: Any, chat_type: str | None) -> str:
    """The Bot API chat id for an export's chat id."""
    text = str(export_id)
    if not text.lstrip("-").isdigit() or text.startswith("-"):
        return text
    if chat_type in _SUPER_TYPES:
        return f"-100{text}"
    if chat_type in _BASIC_TYPES:
        return f"-{text}"
    return text


def user_id_for(from_id: Any) -> str:
    text = str(from_id)
    if text.startswith("user"):
        return text[4:] or text
    if text.startswith("channel") and text[7:].isdigit():
        return f"-100{text[7:]}"
    if text.startswith("chat") and text[4:].isdigit():
        return f"-{text[4:]}"
    return text


def flatten_text(text: Any) -> str:
    """``text`` is a string, or a list of strings and ``{"type", "text"}`` pieces."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        out = []
        for piece in text:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
                out.append(piece["text"])
        return "".join(out)
    return ""


def _entities(msg: dict[str, Any]) -> tuple[list[Segment], list[str]]:
    ents = msg.get("text_entities")
    if not isinstance(ents, list):
        ents = [p for p in msg.get("text", []) if isinstance(p, dict)] if isinstance(msg.get("text"), list) else []
    segments: list[Segment] = []
    mentions: list[str] = []
    for ent in ents:
        if not isinstance(ent, dict):
            continue
        kind, text = ent.get("type"), ent.get("text")
        if not isinstance(text, str):
            continue
        if kind == "mention_name" and ent.get("user_id") is not None:
            uid = str(ent["user_id"])
            mentions.append(uid)
            segments.append(Segment(type=SegmentType.AT, data={"user_id": uid, "name": text}))
        elif kind == "mention":
            segments.append(Segment(type=SegmentType.AT, data={"username": text.lstrip("@")}))
        elif kind in ("link", "text_link"):
            segments.append(Segment(type=SegmentType.LINK, data={"url": ent.get("href") or text, "text": text}))
        else:
            segments.append(Segment.text(text))
    return segments, mentions


class TelegramExportImporter:
    name = "telegram"
    description = "Telegram Desktop export result.json (one chat or a whole account export)"

    def __init__(self, options: _Opts | None = None) -> None:
        self.options = options or _Opts()
        self._tz: tzinfo = parse_tz(self.options.tz)

    def with_options(self, **options: str) -> TelegramExportImporter:
        """``tz`` for exports without ``date_unixtime`` (default UTC); ``group`` overrides the chat id;
        ``private=include`` also imports one-to-one chats of a whole-account export."""
        check_options(self.name, options, {"tz", "group", "private"})
        opts = self.options
        if "tz" in options:
            parse_tz(options["tz"])
            opts = replace(opts, tz=options["tz"])
        if "group" in options and options["group"].strip():
            opts = replace(opts, group=options["group"].strip())
        if "private" in options:
            if options["private"] not in ("include", "skip"):
                raise ImporterError(f"option private: expected include or skip, got {options['private']!r}")
            opts = replace(opts, include_private=options["private"] == "include")
        return TelegramExportImporter(opts)

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head[:65536].lstrip()
        if not text.startswith(b"{"):
            return False
        if b'"chats"' in text and b'"list"' in text:
            return True
        return b'"messages"' in text and (
            b'"date_unixtime"' in text or b'"from_id"' in text or b'"text_entities"' in text
        )

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        chat: dict[str, Any] = {}
        state: dict[str, Any] = {"ordinal": 0, "last_id": None}
        builder: Any = None
        item_prefix = ""
        fallback = f"export-{source_stem(source)}"
        try:
            for prefix, event, value in ijson.parse(stream, use_float=True):
                if builder is not None:
                    builder.event(event, value)
                    if prefix == item_prefix and event == "end_map":
                        state["ordinal"] += 1
                        yield from self._message(builder.value, chat, state, fallback)
                        builder = None
                    continue
                if event == "start_map" and prefix in _ITEM_PREFIXES:
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    item_prefix = prefix
                    continue
                if event == "start_map" and prefix in ("chats.list.item", "left_chats.list.item"):
                    chat = {}
                    state = {"ordinal": 0, "last_id": None}
                    continue
                parent, _, key = prefix.rpartition(".")
                if key in ("name", "type", "id") and parent in _CHAT_PREFIXES and event in ("string", "number"):
                    chat[key] = value
        except ijson.JSONError as exc:
            where = f" after message #{state['ordinal']}" if state["ordinal"] else ""
            yield Rejected(None, f"invalid JSON{where}: {exc}", None)
        except (UnicodeDecodeError, ValueError) as exc:
            yield Rejected(None, f"unreadable export: {exc}", None)

    def _message(self, msg: Any, chat: dict[str, Any], state: dict[str, Any], fallback: str) -> Iterator[Record]:
        n = state["ordinal"]
        if chat.get("type") in _PRIVATE_TYPES and not self.options.include_private:
            return
        if not isinstance(msg, dict):
            yield Rejected(n, f"message #{n} is not an object", _short(msg))
            return
        if "id" in chat:
            group_id = self.options.group or chat_id_for(chat["id"], chat.get("type"))
        else:
            group_id = self.options.group or fallback
        group_name = chat.get("name") if isinstance(chat.get("name"), str) else None
        mid_raw = msg.get("id")
        if not isinstance(mid_raw, int | float) or isinstance(mid_raw, bool):
            yield Rejected(n, f"message #{n} has no numeric id", _short(msg))
            return
        mid_int = int(mid_raw)
        last = state["last_id"]
        message_id = str(mid_int) if last is None or mid_int > last else f"{mid_int}.{n}"
        state["last_id"] = mid_int if last is None else max(last, mid_int)
        try:
            when = self._time(msg)
        except ValueError as exc:
            yield Rejected(n, f"message #{n} (id {mid_int}): {exc}", _short(msg))
            return
        kind = msg.get("type")
        base: dict[str, Any] = {
            "platform": "telegram",
            "group_id": group_id,
            "group_name": group_name,
            "time": when,
        }
        try:
            if kind == "service":
                yield from self._service(msg, base, message_id)
                return
            if kind != "message":
                yield Rejected(n, f"message #{n} (id {mid_int}): unknown type {kind!r}", _short(msg))
                return
            if msg.get("from_id") is None:
                yield Rejected(n, f"message #{n} (id {mid_int}): no from_id", _short(msg))
                return
            text = flatten_text(msg.get("text"))
            segments, mentions = _entities(msg)
            if msg.get("photo"):
                segments.append(Segment(type=SegmentType.IMAGE, data={"file": str(msg["photo"])}))
            elif msg.get("file") or msg.get("media_type"):
                seg_type = _MEDIA.get(str(msg.get("media_type")), SegmentType.FILE)
                data = {"file": str(msg.get("file") or ""), "mime_type": msg.get("mime_type")}
                if msg.get("sticker_emoji"):
                    data["emoji"] = msg["sticker_emoji"]
                segments.append(Segment(type=seg_type, data=data))
            extra = {k: msg[k] for k in ("edited", "forwarded_from", "via_bot", "reactions", "poll") if k in msg}
            reply = msg.get("reply_to_message_id")
            yield Event(
                **base,
                message_id=message_id,
                user_id=user_id_for(msg["from_id"]),
                user_name=msg.get("from") if isinstance(msg.get("from"), str) else None,
                type=EventType.COMMAND if text.startswith("/") else EventType.MESSAGE,
                text=text,
                segments=segments,
                mentions=mentions,
                reply_to=str(reply) if isinstance(reply, int | str) and not isinstance(reply, bool) else None,
                raw=_jsonable(extra),
            )
        except ValueError as exc:  # pydantic validation
            yield Rejected(n, f"message #{n} (id {mid_int}): {reason_of(exc)}", _short(msg))

    def _service(self, msg: dict[str, Any], base: dict[str, Any], message_id: str) -> Iterator[Event]:
        action = str(msg.get("action") or "service")
        actor_id = user_id_for(msg["actor_id"]) if msg.get("actor_id") is not None else None
        actor = msg.get("actor") if isinstance(msg.get("actor"), str) else None
        listed = msg.get("members")
        members = [m for m in listed if isinstance(m, str)] if isinstance(listed, list) else []
        common = {"action": action, "actor_id": actor_id}
        if action in ("invite_members", "remove_members") and members:
            typ = EventType.JOIN if action == "invite_members" else EventType.LEAVE
            for k, member in enumerate(members):
                self_action = actor is not None and member == actor and actor_id is not None
                uid = actor_id if self_action and actor_id else f"name:{member}"[:128]
                yield Event(
                    **base,
                    message_id=message_id if k == 0 else f"{message_id}:{k}",
                    user_id=uid,
                    user_name=member,
                    type=typ,
                    subtype="invited" if typ is EventType.JOIN else ("left" if self_action else "removed"),
                    raw=common,
                )
            return
        if action == "join_group_by_link" and actor_id:
            inviter = msg.get("inviter")
            yield Event(
                **base,
                message_id=message_id,
                user_id=actor_id,
                user_name=actor,
                type=EventType.JOIN,
                subtype="invite_link",
                raw={**common, "inviter": inviter} if inviter else common,
            )
            return
        if action == "join_group_by_request" and actor_id:
            yield Event(
                **base,
                message_id=message_id,
                user_id=actor_id,
                user_name=actor,
                type=EventType.JOIN,
                subtype="join_request",
                raw=common,
            )
            return
        extra = {k: msg[k] for k in ("title", "members", "message_id") if k in msg}
        yield Event(
            **base,
            message_id=message_id,
            user_id=actor_id or "system",
            user_name=actor,
            type=EventType.SYSTEM,
            subtype=action[:64],
            text=flatten_text(msg.get("text")) or None,
            raw=_jsonable({**common, **extra}),
        )

    def _time(self, msg: dict[str, Any]) -> Any:
        unix = msg.get("date_unixtime")
        if unix not in (None, "") and str(unix).strip("0") != "":
            return parse_time(str(unix), self._tz)
        date = msg.get("date")
        if not isinstance(date, str):
            raise ValueError("no date")
        return parse_time(date, self._tz)


def _jsonable(value: Any) -> Any:
    """ijson yields Decimal for non-integral numbers unless use_float; keep raw JSON-safe anyway."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _short(msg: Any) -> str:
    try:
        import orjson

        return orjson.dumps(_jsonable(msg)).decode()[:2000]
    except TypeError:
        return repr(msg)[:2000]
