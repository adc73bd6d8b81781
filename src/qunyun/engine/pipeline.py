"""The event pipeline: store first, then policies, then handlers, then the executor.

1. The batch is written in one transaction together with the projections (rollups, counters):
   an event that was accepted is durable before anything acts on it. Duplicates stop here.
2. For each new event, policies run by priority; one may ``ctx.stop()`` (spam).
3. Handlers run by priority and *return* actions; none calls a platform.
4. All actions of the batch are audited and queued in the outbox in one transaction.
   The :class:`~qunyun.engine.executor.Dispatcher` sends them later, rate-limited.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qunyun.actions import Action
from qunyun.config import Settings
from qunyun.engine.context import Context
from qunyun.engine.executor import submit_actions
from qunyun.engine.plugins import Registered, Registry
from qunyun.events import Event, EventType, utcnow
from qunyun.store.db import Database
from qunyun.store.writer import WriteResult, write_dead_letters, write_events

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What the engine did with one event (for tests, the CLI and "why did this happen")."""

    event: Event
    stored: bool
    actions: list[Action] = field(default_factory=list)
    stopped_by: str | None = None
    stop_reason: str | None = None
    errors: list[str] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: Registry,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.clock = clock

    @property
    def dry_run(self) -> bool:
        return self.settings.engine.dry_run

    # -- storing ---------------------------------------------------------------------------
    def store(self, events: Sequence[Event]) -> WriteResult:
        """Write events and run projections on the new ones, in one transaction.

        Heartbeats and lifecycle (META) events are connection status, not group activity: they
        are never stored (adapters turn them into connection state).
        """
        if any(ev.type is EventType.META for ev in events):
            events = [ev for ev in events if ev.type is not EventType.META]
        with self.db.engine.begin() as conn:
            result = write_events(conn, events)
            if result.inserted:
                for name, projection in self.registry.projections:
                    try:
                        projection(conn, result.inserted)
                    except Exception as exc:
                        raise RuntimeError(f"projection {name} failed: {exc}") from exc
        return result

    def dead_letter(self, source: str, reason: str, raw: str | None, line: int | None = None) -> None:
        with self.db.engine.begin() as conn:
            write_dead_letters(
                conn, [{"source": source, "line": line, "reason": reason, "raw": raw, "created_at": self.clock()}]
            )

    # -- processing ------------------------------------------------------------------------
    async def aprocess(self, events: Sequence[Event]) -> list[Outcome]:
        """Store, decide and queue. Returns one outcome per input event, in order."""
        result = self.store(events)
        new = {id(e) for e in result.inserted}
        outcomes: list[Outcome] = []
        all_actions: list[Action] = []
        batch_state: dict[str, Any] = {}
        live = [ev for ev in result.inserted if ev.type is not EventType.META]
        for name, hook in self.registry.batch_hooks if live else ():
            try:
                produced = hook(live, batch_state)
                if inspect.isawaitable(produced):
                    await produced
            except Exception:  # a failed hook leaves the per-event path to do the work
                log.exception("batch hook %s failed", name)
        for ev in events:
            if id(ev) not in new:
                outcomes.append(Outcome(ev, stored=False))
                continue
            outcome = await self._decide(ev, batch_state)
            outcomes.append(outcome)
            all_actions.extend(outcome.actions)
        if all_actions:
            with self.db.engine.begin() as conn:
                submit_actions(conn, all_actions, dry_run=self.dry_run, now=self.clock())
        return outcomes

    def process(self, events: Sequence[Event]) -> list[Outcome]:
        """Synchronous :meth:`aprocess` for scripts, importers and tests."""
        return asyncio.run(self.aprocess(events))

    async def _decide(self, ev: Event, batch_state: dict[str, Any] | None = None) -> Outcome:
        ctx = Context(
            event=ev, db=self.db, settings=self.settings, registry=self.registry, now=self.clock(),
            dry_run=self.dry_run, batch=batch_state if batch_state is not None else {},
        )
        outcome = Outcome(ev, stored=True)
        if ev.type is EventType.META:
            return outcome
        for chain in (self.registry.policies, self.registry.handlers):
            await self._run_chain(chain, ctx, outcome)
            if ctx.stopped:
                break
        outcome.stopped_by, outcome.stop_reason = ctx.stopped_by, ctx.stop_reason
        return outcome

    async def _run_chain(self, chain: Iterable[Registered], ctx: Context, outcome: Outcome) -> None:
        for reg in chain:
            if not reg.matches(ctx.event):
                continue
            ctx._current = reg.name
            try:
                produced: Any = reg.fn(ctx)
                if inspect.isawaitable(produced):
                    produced = await produced
            except Exception as exc:  # one broken feature must not stop the others
                log.exception("%s failed on %s", reg.name, ctx.event.key)
                outcome.errors.append(f"{reg.name}: {type(exc).__name__}: {exc}")
                continue
            for action in produced or ():
                if not isinstance(action, Action):
                    outcome.errors.append(f"{reg.name} returned {type(action).__name__}, not Action")
                    continue
                if action.cause is None:
                    was_default = action.idempotency_key == action.default_key()
                    action = action.model_copy(update={"cause": ":".join(ctx.event.key)})
                    if was_default:
                        action.idempotency_key = action.default_key()
                outcome.actions.append(action)
            if ctx.stopped:
                return
