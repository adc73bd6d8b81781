"""OneBot v11 event payloads → qunyun :class:`~qunyun.events.Event`.

This is the hot path of a busy bot (thousands of events a second), so it validates by hand what
the :class:`Event` model would check and then uses ``model_construct`` (no second validation).
Anything malformed raises :class:`OneBotParseError` naming the field; the caller keeps it as a
dead letter. Mapping:

- ``message`` / ``message_sent`` (group or private) → MESSAGE; private chats get the group id
  ``private:<user_id>``; ``message_sent`` (the bot's own message, reported by go-cqhttp/NapCat)
  sets ``raw["self_sent"]`` — it confirms what the outbox sent.
- ``notice``: group_increase → JOIN, group_decrease → LEAVE (``raw["operator_id"]`` for invite /
  kick attribution), group_recall → RECALL, group_ban / group_admin / others → NOTICE.
- ``request`` → REQUEST (``raw["flag"]`` is what approve/reject need).
- ``meta_event`` (heartbeat, lifecycle) → META: connection status, never stored as activity.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qunyun.adapters.onebot import cqcode
from qunyun.adapters.onebot.errors import OneBotParseError
from qunyun.events import Event, EventType, Segment, SegmentType

_SEG_TYPES: dict[str, SegmentType] = {
    "text": SegmentType.TEXT,
    "at": SegmentType.AT,
    "image": SegmentType.IMAGE,
    "reply": SegmentType.REPLY,
    "face": SegmentType.FACE,
    "record": SegmentType.VOICE,
    "video": SegmentType.VIDEO,
    "share": SegmentType.LINK,
    "file": SegmentType.FILE,
}
_NOTICE_TYPES = {
    "group_increase": EventType.JOIN,
    "group_decrease": EventType.LEAVE,
    "group_recall": EventType.RECALL,
}


def _fast_constructor(cls: type[Any]) -> Any:
    """What ``cls.model_construct`` does for a model without private attributes, extras or
    post-init, minus its per-field loop (it dominated the parse profile). Every field must be
    passed. Falls back to ``model_construct`` if the model ever grows such features."""
    if cls.__private_attributes__ or cls.model_config.get("extra") == "allow" or cls.__pydantic_post_init__:
        return cls.model_construct
    fields = frozenset(cls.model_fields)
    new = object.__new__
    setattr_ = object.__setattr__

    def construct(**values: Any) -> Any:
        obj = new(cls)
        setattr_(obj, "__dict__", values)
        setattr_(obj, "__pydantic_fields_set__", set(fields))
        setattr_(obj, "__pydantic_extra__", None)
        setattr_(obj, "__pydantic_private__", None)
        return obj

    return construct


_construct_event = _fast_constructor(Event)
_construct_segment = _fast_constructor(Segment)


def _id(payload: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = payload.get(key)
    if type(value) is int and -(10**18) < value < 10**19:  # the common case: a QQ number
        return str(value)
    if value is None:
        if required:
            raise OneBotParseError(f"{_where(payload)}: field {key!r} is missing", raw=payload)
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise OneBotParseError(
            f"{_where(payload)}: field {key!r} must be an id (int or string), got {type(value).__name__}",
            raw=payload,
        )
    text = str(value)
    if not text or len(text) > 128:
        raise OneBotParseError(f"{_where(payload)}: field {key!r} is empty or too long", raw=payload)
    return text


def _rid(payload: dict[str, Any], key: str) -> str:
    value = _id(payload, key)
    if value is None:  # pragma: no cover - _id raises for a missing required id
        raise OneBotParseError(f"{_where(payload)}: field {key!r} is missing", raw=payload)
    return value


def _where(payload: dict[str, Any]) -> str:
    kind = payload.get("post_type")
    detail = payload.get(f"{kind}_type") if isinstance(kind, str) else None
    if kind == "message_sent":
        detail = payload.get("message_type")
    return f"onebot {kind}/{detail}" if detail else f"onebot {kind}"


_TIMES: dict[int, datetime] = {}


def _time(payload: dict[str, Any]) -> datetime:
    value = payload.get("time")
    if type(value) is int:
        cached = _TIMES.get(value)
        if cached is not None:
            return cached  # events of the same second share one (immutable) datetime
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OneBotParseError(
            f"{_where(payload)}: field 'time' must be a unix timestamp, got {value!r}"[:300], raw=payload
        )
    try:
        when = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise OneBotParseError(f"{_where(payload)}: 'time' {value!r} is out of range", raw=payload) from exc
    if type(value) is int:
        if len(_TIMES) > 4096:
            _TIMES.clear()
        _TIMES[value] = when
    return when


def segments_of(message: Any, payload: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The message as OneBot segment dicts, whether it came as an array or a CQ-code string."""
    if isinstance(message, str):
        return cqcode.parse(message)
    if not isinstance(message, list):
        raise OneBotParseError(
            f"{_where(payload or {})}: 'message' must be an array or a CQ-code string, got {type(message).__name__}",
            raw=payload,
        )
    for seg in message:
        if (
            type(seg) is not dict
            or type(seg.get("type")) is not str
            or not isinstance(seg.get("data", {}), dict | type(None))
        ):
            raise OneBotParseError(
                f"{_where(payload or {})}: message segment {str(seg)[:80]!r} is not {{type, data}}",
                raw=payload,
            )
    return message


def to_segments(raw_segments: list[dict[str, Any]]) -> tuple[list[Segment], str, list[str], str | None]:
    """OneBot segments → (qunyun segments, plain text, mentioned ids, replied-to message id)."""
    segs: list[Segment] = []
    texts: list[str] = []
    mentions: list[str] = []
    reply_to: str | None = None
    for seg in raw_segments:
        typ = seg["type"]
        data = seg.get("data") or {}
        st = _SEG_TYPES.get(typ, SegmentType.OTHER)
        if st is SegmentType.TEXT:
            text = data.get("text")
            text = text if isinstance(text, str) else ("" if text is None else str(text))
            texts.append(text)
            data = {"text": text}
        elif st is SegmentType.AT:
            qq = str(data.get("qq", ""))
            mentions.append(qq)
            data = {"user_id": qq}
        elif st is SegmentType.REPLY:
            reply_to = str(data.get("id", "")) or None
        elif st is SegmentType.OTHER:
            data = {"onebot_type": typ, **data}
        segs.append(_construct_segment(type=st, data=data))
    return segs, "".join(texts), mentions, reply_to


def parse_event(payload: Any, *, platform: str = "qq") -> Event:
    """One OneBot v11 event (a decoded JSON object) → an Event. Raises OneBotParseError."""
    if not isinstance(payload, dict):
        raise OneBotParseError(f"an OneBot event must be a JSON object, got {type(payload).__name__}", raw=payload)
    post_type = payload.get("post_type")
    if post_type in ("message", "message_sent"):
        return _message(payload, platform, post_type == "message_sent")
    if post_type == "notice":
        return _notice(payload, platform)
    if post_type == "request":
        return _request(payload, platform)
    if post_type == "meta_event":
        return _meta(payload, platform)
    raise OneBotParseError(f"unknown post_type {post_type!r}"[:200], raw=payload)


def _message(payload: dict[str, Any], platform: str, self_sent: bool) -> Event:
    mtype = payload.get("message_type")
    user_id = _rid(payload, "user_id")
    if mtype == "group":
        group_id = _rid(payload, "group_id")
    elif mtype == "private":
        group_id = f"private:{user_id}"
    else:
        raise OneBotParseError(
            f"{_where(payload)}: message_type must be 'group' or 'private', got {mtype!r}"[:300], raw=payload
        )
    message_id = _rid(payload, "message_id")
    if "message" not in payload:
        raise OneBotParseError(f"{_where(payload)}: field 'message' is missing", raw=payload)
    segs, text, mentions, reply_to = to_segments(segments_of(payload["message"], payload))
    if len(segs) == 1 and segs[0].type is SegmentType.TEXT:
        segs = []  # a plain-text message: ``text`` says it all (and storing it twice costs)
    sender = payload.get("sender")
    name = None
    if isinstance(sender, dict):
        name = sender.get("card") or sender.get("nickname") or None
        if name is not None and not isinstance(name, str):
            name = str(name)
    raw: dict[str, Any] = {}
    if self_sent:
        raw["self_sent"] = True
    if isinstance(sender, dict) and sender.get("role") in ("owner", "admin"):
        raw["role"] = sender["role"]
    anonymous = payload.get("anonymous")
    if anonymous:
        raw["anonymous"] = anonymous
    return _construct_event(
        platform=platform,
        group_id=group_id,
        message_id=message_id,
        user_id=user_id,
        type=EventType.MESSAGE,
        time=_time(payload),
        user_name=name,
        group_name=None,
        text=text or None,
        segments=segs,
        reply_to=reply_to,
        mentions=mentions,
        subtype=mtype if mtype == "private" else (payload.get("sub_type") or None),
        self_id=_id(payload, "self_id", required=False),
        raw=raw,
    )


def _notice(payload: dict[str, Any], platform: str) -> Event:
    ntype = payload.get("notice_type")
    if not isinstance(ntype, str) or not ntype:
        raise OneBotParseError("onebot notice: field 'notice_type' is missing", raw=payload)
    sub = payload.get("sub_type")
    sub = str(sub) if sub is not None else None
    user_id = _id(payload, "user_id", required=False) or "0"
    group_id = _id(payload, "group_id", required=False)
    if group_id is None:
        group_id = f"private:{user_id}"
    when = _time(payload)
    raw: dict[str, Any] = {"notice_type": ntype}
    for key in ("operator_id", "duration", "message_id", "target_id", "honor_type", "file"):
        if key in payload:
            raw[key] = payload[key]
    etype = _NOTICE_TYPES.get(ntype, EventType.NOTICE)
    # notices carry no id of their own: derive a stable one so a replayed notice stays a no-op
    extra = payload.get("message_id", payload.get("operator_id", ""))
    message_id = f"n:{ntype}:{sub or ''}:{user_id}:{extra}:{payload.get('time')}"[:191]
    return _construct_event(
        platform=platform,
        group_id=group_id,
        message_id=message_id,
        user_id=user_id,
        type=etype,
        time=when,
        user_name=None,
        group_name=None,
        text=None,
        segments=[],
        mentions=[],
        reply_to=str(payload["message_id"]) if etype is EventType.RECALL and "message_id" in payload else None,
        subtype=(sub or ntype)[:32],
        self_id=_id(payload, "self_id", required=False),
        raw=raw,
    )


def _request(payload: dict[str, Any], platform: str) -> Event:
    rtype = payload.get("request_type")
    if rtype not in ("friend", "group"):
        raise OneBotParseError(
            f"onebot request: request_type must be 'friend' or 'group', got {rtype!r}"[:300], raw=payload
        )
    user_id = _rid(payload, "user_id")
    flag = _rid(payload, "flag")
    group_id = _rid(payload, "group_id") if rtype == "group" else f"private:{user_id}"
    comment = payload.get("comment")
    sub = payload.get("sub_type") or rtype
    return _construct_event(
        platform=platform,
        group_id=group_id,
        message_id=f"r:{rtype}:{flag}"[:191],
        user_id=user_id,
        type=EventType.REQUEST,
        time=_time(payload),
        user_name=None,
        group_name=None,
        text=comment if isinstance(comment, str) and comment else None,
        segments=[],
        mentions=[],
        reply_to=None,
        subtype=str(sub)[:32],
        self_id=_id(payload, "self_id", required=False),
        raw={"request_type": rtype, "flag": flag, "sub_type": sub},
    )


def _meta(payload: dict[str, Any], platform: str) -> Event:
    mtype = payload.get("meta_event_type")
    if mtype not in ("heartbeat", "lifecycle"):
        raise OneBotParseError(f"onebot meta_event: unknown meta_event_type {mtype!r}"[:300], raw=payload)
    self_id = _id(payload, "self_id", required=False) or "0"
    raw: dict[str, Any] = {"meta_event_type": mtype}
    if mtype == "heartbeat":
        raw["interval"] = payload.get("interval")
        status = payload.get("status")
        if isinstance(status, dict):
            raw["online"] = status.get("online")
            raw["good"] = status.get("good")
    sub = payload.get("sub_type") if mtype == "lifecycle" else mtype
    return _construct_event(
        platform=platform,
        group_id=f"meta:{self_id}",
        message_id=f"m:{mtype}:{payload.get('time')}",
        user_id=self_id,
        type=EventType.META,
        time=_time(payload),
        user_name=None,
        group_name=None,
        text=None,
        segments=[],
        mentions=[],
        reply_to=None,
        subtype=str(sub)[:32] if sub else None,
        self_id=self_id,
        raw=raw,
    )
