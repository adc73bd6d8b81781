"""The normalized action model: what features *return* instead of calling a platform.

A handler never talks to QQ, Telegram or WeCom itself. It returns :class:`Action` objects; the
executor records them (audit log), queues them (outbox), rate-limits them and applies them through
the adapter. That is what makes dry-run, audit and "why did this happen" free.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ActionKind(StrEnum):
    SEND_MESSAGE = "send_message"
    REPLY = "reply"
    DELETE_MESSAGE = "delete_message"  # 撤回/删除
    MUTE = "mute"  # 禁言
    UNMUTE = "unmute"
    KICK = "kick"  # 移出群
    BAN = "ban"  # 拉黑 (kick + reject re-join)
    UNBAN = "unban"
    INVITE = "invite"
    SET_GROUP_NAME = "set_group_name"
    SET_MEMBER_CARD = "set_member_card"
    WHOLE_MUTE = "whole_mute"
    APPROVE_REQUEST = "approve_request"
    REJECT_REQUEST = "reject_request"
    NOTIFY_STAFF = "notify_staff"  # never leaves qunyun: a task for a human
    WARN = "warn"


#: kinds that touch a member and so always need a target user
_NEEDS_USER = {
    ActionKind.MUTE,
    ActionKind.UNMUTE,
    ActionKind.KICK,
    ActionKind.BAN,
    ActionKind.UNBAN,
    ActionKind.INVITE,
    ActionKind.SET_MEMBER_CARD,
}
_NEEDS_MESSAGE = {ActionKind.DELETE_MESSAGE, ActionKind.REPLY}
_NEEDS_TEXT = {ActionKind.SEND_MESSAGE, ActionKind.REPLY, ActionKind.NOTIFY_STAFF, ActionKind.WARN}


class Reason(BaseModel):
    """Why an action happens, in both languages the product speaks."""

    model_config = ConfigDict(frozen=True)

    zh: str
    en: str
    #: the numbers or evidence behind the decision (rule id, score, matched text ...)
    evidence: dict[str, Any] = Field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh


class Action(BaseModel):
    """One thing qunyun wants done on a platform (or by staff)."""

    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    platform: str
    group_id: str | None = None
    user_id: str | None = None
    message_id: str | None = None
    text: str | None = None
    #: seconds, for mute
    duration: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    reason: Reason
    #: which rule / feature produced it, e.g. ``moderation.ladder``
    source: str
    #: the same key is executed at most once, however often the action is produced
    idempotency_key: str = ""
    #: the event that caused it, as ``platform:group:message``
    cause: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Action:
        if self.kind in _NEEDS_USER and not self.user_id:
            raise ValueError(f"action {self.kind.value} needs user_id")
        if self.kind in _NEEDS_MESSAGE and not self.message_id:
            raise ValueError(f"action {self.kind.value} needs message_id")
        if self.kind in _NEEDS_TEXT and not self.text:
            raise ValueError(f"action {self.kind.value} needs text")
        if self.kind is not ActionKind.NOTIFY_STAFF and not self.group_id and self.kind not in (
            ActionKind.APPROVE_REQUEST,
            ActionKind.REJECT_REQUEST,
        ):
            raise ValueError(f"action {self.kind.value} needs group_id")
        if not self.idempotency_key:
            self.idempotency_key = self.default_key()
        return self

    def default_key(self) -> str:
        """A stable key from what the action does and why, so a replayed event acts once."""
        parts = [
            self.kind.value,
            self.platform,
            self.group_id or "",
            self.user_id or "",
            self.message_id or "",
            self.source,
            self.cause or "",
            self.text or "" if self.cause is None else "",
        ]
        return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
