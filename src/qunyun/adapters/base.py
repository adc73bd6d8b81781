"""The one interface every platform adapter implements (NoneBot2's adapter/driver split in spirit).

An adapter receives platform traffic and hands normalized :class:`~qunyun.events.Event` objects to
an ``EventSink``; it applies :class:`~qunyun.actions.Action` objects and says honestly what
happened (:class:`Delivery`): *sent* (the platform accepted the call), *confirmed* (the platform
echoed it back), *unknown* (we cannot tell — never reported as success) or *failed* (with the reason).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from qunyun.actions import Action
from qunyun.events import Event

EventSink = Callable[[Sequence[Event]], Awaitable[None]]


class DeliveryState(StrEnum):
    SENT = "sent"
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"
    FAILED = "failed"


class Delivery(BaseModel):
    state: DeliveryState
    external_id: str | None = None
    error: str | None = None
    #: the platform asked us to wait this long (Telegram 429 retry_after ...)
    retry_after: float | None = None
    #: retrying cannot help (no permission, group gone ...)
    permanent: bool = False

    @classmethod
    def ok(cls, external_id: str | None = None, *, confirmed: bool = False) -> Delivery:
        return cls(state=DeliveryState.CONFIRMED if confirmed else DeliveryState.SENT, external_id=external_id)

    @classmethod
    def fail(cls, error: str, *, permanent: bool = False, retry_after: float | None = None) -> Delivery:
        return cls(state=DeliveryState.FAILED, error=error, permanent=permanent, retry_after=retry_after)


class ConnectionStatus(BaseModel):
    platform: str
    account: str
    state: str  # connecting / connected / disconnected / paused
    last_event_at: datetime | None = None
    lag_seconds: float | None = None
    detail: str | None = None


class Adapter(ABC):
    """Base class of platform adapters."""

    platform: str = ""

    def __init__(self, account: str = "default") -> None:
        self.account = account

    @abstractmethod
    async def execute(self, action: Action) -> Delivery:
        """Apply one action on the platform; never raise for platform errors, return a failure."""

    async def start(self, sink: EventSink) -> None:  # noqa: B027 - optional for send-only adapters
        """Start receiving; call ``sink`` with batches of events."""

    async def stop(self) -> None:  # noqa: B027
        """Close connections."""

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(platform=self.platform, account=self.account, state="unknown")

    def supports(self, action: Action) -> bool:
        """Whether this platform can do ``action`` at all (WeCom bots cannot kick, for instance)."""
        return True
