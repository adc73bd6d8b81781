"""The bot process's ingest path: micro-batches from every adapter → one transaction each.

Adapters hand batches to :class:`Ingestor` (it is their ``EventSink``). The ingestor gathers
what arrives while the previous batch is being written (or waits ``batch_wait`` seconds when
idle), up to ``batch_max`` events, and runs :meth:`Engine.aprocess` on a dedicated worker thread
with its own event loop, so sockets keep being read while SQLite/PostgreSQL commit. Each
adapter's ``await sink(batch)`` returns only once its events are durably stored (the
acknowledgement), or raises.

META events (heartbeat, lifecycle) never reach the store: they are connection status. A batch
the database refuses is retried event by event; an event that still fails becomes a dead letter
with the reason, so one bad event never blocks or loses the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from qunyun.engine.executor import confirm_delivered, confirm_unknown_echoes
from qunyun.engine.pipeline import Engine
from qunyun.events import Event, EventType

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    meta: int = 0
    dead: int = 0
    batches: int = 0
    actions: int = 0
    confirmed: int = 0


class _Worker:
    """A thread running its own event loop: the database work of the bot process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="qunyun-ingest", daemon=True)
        self.thread.start()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def call() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


class Ingestor:
    """The EventSink of every adapter in ``qunyun run``."""

    def __init__(self, engine: Engine, *, batch_max: int = 2000, batch_wait: float = 0.005) -> None:
        self.engine = engine
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.stats = IngestStats()
        self._buf: list[Event] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._worker: _Worker | None = None
        self._closing = False

    async def start(self) -> None:
        self._worker = _Worker()
        self._task = asyncio.create_task(self._loop(), name="qunyun-ingest")

    async def __call__(self, events: Sequence[Event]) -> None:
        """Queue ``events``; return once they are stored (raise if storing failed for good)."""
        keep = [e for e in events if e.type is not EventType.META]
        self.stats.received += len(events)
        self.stats.meta += len(events) - len(keep)
        if not keep:
            return
        if self._closing and self._task is None:
            raise RuntimeError("ingestor is stopped")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf.extend(keep)
        self._waiters.append((len(self._buf), fut))
        self._wake.set()
        await fut

    async def _loop(self) -> None:
        while True:
            if not self._buf:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                if len(self._buf) < self.batch_max and not self._closing:
                    await asyncio.sleep(self.batch_wait)  # idle: gather a few ms worth of events
            await self._take_and_store()

    async def _take_and_store(self) -> None:
        # take whole sink calls until batch_max, so each caller's future maps to one batch
        n_waiters = 0
        cut = 0
        for end, _ in self._waiters:
            if cut and end > self.batch_max:
                break
            cut = end
            n_waiters += 1
        if not cut:
            return
        batch = self._buf[:cut]
        waiters = [f for _, f in self._waiters[:n_waiters]]
        self._buf = self._buf[cut:]
        self._waiters = [(end - cut, f) for end, f in self._waiters[n_waiters:]]
        try:
            await self._store(batch)
        except Exception as exc:  # the database itself is failing: callers learn it, nothing is acked
            log.exception("storing %d events failed", len(batch))
            for f in waiters:
                if not f.done():
                    f.set_exception(exc)
            return
        for f in waiters:
            if not f.done():
                f.set_result(None)

    async def _store(self, batch: list[Event]) -> None:
        assert self._worker is not None
        try:
            stored, actions, confirmed = await self._worker.run(self._process, batch)
        except Exception as exc:
            if len(batch) == 1:
                raise
            log.warning("batch of %d refused (%s); retrying event by event", len(batch), exc)
            stored = actions = confirmed = 0
            for ev in batch:
                try:
                    s, a, c = await self._worker.run(self._process, [ev])
                except Exception as one_exc:
                    await self._worker.run(self._dead_event, ev, f"{type(one_exc).__name__}: {one_exc}")
                    continue
                stored, actions, confirmed = stored + s, actions + a, confirmed + c
        self.stats.batches += 1
        self.stats.stored += stored
        self.stats.duplicates += len(batch) - stored
        self.stats.actions += actions
        self.stats.confirmed += confirmed

    async def _process(self, batch: list[Event]) -> tuple[int, int, int]:
        """Runs on the worker thread: store + decide + queue, then confirm our echoed sends."""
        outcomes = await self.engine.aprocess(batch)
        stored = sum(1 for o in outcomes if o.stored)
        actions = sum(len(o.actions) for o in outcomes)
        confirmed = 0
        echoed: dict[str, list[str]] = {}
        texts: list[tuple[str, str, str, str]] = []
        for ev in batch:
            if ev.raw.get("self_sent") or (ev.self_id is not None and ev.user_id == ev.self_id):
                echoed.setdefault(ev.platform, []).append(ev.message_id)
                text = ev.plain_text()
                if text:
                    texts.append((ev.platform, ev.group_id, text, ev.message_id))
        if echoed:
            with self.engine.db.engine.begin() as conn:
                for platform, ids in echoed.items():
                    confirmed += confirm_delivered(conn, platform, ids)
                confirmed += confirm_unknown_echoes(conn, texts)
        return stored, actions, confirmed

    def _dead_event(self, ev: Event, reason: str) -> None:
        self.stats.dead += 1
        raw = orjson.dumps(ev.model_dump(mode="json")).decode()
        self.engine.dead_letter(f"ingest:{ev.platform}", f"not stored: {reason}"[:2000], raw)

    def dead_letter(self, source: str, reason: str, raw: str | None) -> None:
        """For adapters: input that could not be parsed (written on the worker thread)."""
        self.stats.dead += 1
        if self._worker is None:
            self.engine.dead_letter(source, reason, raw)
            return
        self._worker.loop.call_soon_threadsafe(self._safe_dead_letter, source, reason, raw)

    def _safe_dead_letter(self, source: str, reason: str, raw: str | None) -> None:
        try:
            self.engine.dead_letter(source, reason[:2000], raw)
        except Exception:
            log.exception("could not write a dead letter from %s", source)

    @property
    def backlog(self) -> int:
        return len(self._buf)

    async def stop(self) -> None:
        """Store what is queued, then stop the worker."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._worker is not None:
            await self._worker.run(lambda: None)  # drain pending dead letters
            self._worker.close()
            self._worker = None
