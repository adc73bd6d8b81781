"""The explicit context handed to every policy and handler (no globals, as in python-telegram-bot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qunyun.events import Event

if TYPE_CHECKING:
    from qunyun.config import Settings
    from qunyun.engine.plugins import Registry
    from qunyun.store.db import Database


@dataclass
class Context:
    """What a policy/handler may look at while deciding about one event.

    ``state`` is shared by the policies and handlers of this one event (a policy can leave its
    verdict there for a handler). ``stop()`` ends propagation: no later policy or handler runs.
    """

    event: Event
    db: Database
    settings: Settings
    registry: Registry
    now: datetime
    dry_run: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    #: shared by every event of the batch; filled by batch hooks (e.g. precomputed spam verdicts)
    batch: dict[str, Any] = field(default_factory=dict)
    stopped_by: str | None = None
    stop_reason: str | None = None
    _current: str = ""

    def stop(self, reason: str = "") -> None:
        """Stop propagation (e.g. spam: no FAQ answer, no check-in credit for this message)."""
        self.stopped_by = self._current or "?"
        self.stop_reason = reason

    @property
    def stopped(self) -> bool:
        return self.stopped_by is not None

    def feature_config(self, name: str, model: Any) -> Any:
        return self.settings.feature(name, model)
