"""The normalized event model: what every adapter and importer produces.

An :class:`Event` is platform-neutral. Adapters (OneBot/QQ, Telegram, WeCom) and importers
(chat exports, the native JSON Lines format) translate their input into this shape; the engine,
the store and every feature only ever see ``Event``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator


class EventType(StrEnum):
    """Kinds of things that happen in a group."""

    MESSAGE = "message"
    JOIN = "join"  # 入群
    LEAVE = "leave"  # 退群 / kicked
    RECALL = "recall"  # 撤回
    EDIT = "edit"
    REACTION = "reaction"
    COMMAND = "command"
    REQUEST = "request"  # join / friend request
    NOTICE = "notice"  # platform notice (mute, admin change, ...)
    SYSTEM = "system"  # nick change, mode change, ...
    META = "meta"  # heartbeat / lifecycle; never stored as group activity


class SegmentType(StrEnum):
    TEXT = "text"
    AT = "at"
    IMAGE = "image"
    LINK = "link"
    REPLY = "reply"
    FILE = "file"
    FACE = "face"
    VOICE = "voice"
    VIDEO = "video"
    OTHER = "other"


class Segment(BaseModel):
    """One piece of a rich message (OneBot calls these message segments)."""

    model_config = ConfigDict(frozen=True)

    type: SegmentType
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def text(cls, text: str) -> Segment:
        return cls(type=SegmentType.TEXT, data={"text": text})

    @classmethod
    def at(cls, user_id: str) -> Segment:
        return cls(type=SegmentType.AT, data={"user_id": user_id})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must be timezone-aware (ISO 8601 with Z or an offset)")
    return value


class Event(BaseModel):
    """A normalized group event.

    ``(platform, group_id, message_id)`` identifies an event; ingesting it twice is a no-op.
    """

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    platform: Annotated[str, StringConstraints(min_length=1, max_length=32, to_lower=True)]
    group_id: str = Field(min_length=1, max_length=128)
    message_id: str = Field(min_length=1, max_length=191)
    user_id: str = Field(min_length=1, max_length=128)
    type: EventType = EventType.MESSAGE
    time: datetime
    user_name: str | None = None
    group_name: str | None = None
    text: str | None = None
    segments: list[Segment] = Field(default_factory=list)
    reply_to: str | None = None
    mentions: list[str] = Field(default_factory=list)
    subtype: str | None = None
    #: the platform account that received the event (several bot accounts per platform)
    self_id: str | None = None
    #: the original payload (or the fields of it that the model has no place for)
    raw: dict[str, Any] = Field(default_factory=dict)

    _validate_time = field_validator("time")(_aware)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.group_id, self.message_id)

    @property
    def is_activity(self) -> bool:
        """True for events that count as a member speaking (message, command)."""
        return self.type in (EventType.MESSAGE, EventType.COMMAND)

    def plain_text(self) -> str:
        """The text of the message, falling back to the concatenated text segments."""
        if self.text:
            return self.text
        return "".join(s.data.get("text", "") for s in self.segments if s.type is SegmentType.TEXT)


def utcnow() -> datetime:
    return datetime.now(UTC)
