"""``qunyun run``: the bot process.

adapters (one per ``[[accounts]]`` entry) → :class:`~qunyun.run.ingest.Ingestor` (micro-batched,
durable before acknowledged) → engine → outbox → :class:`~qunyun.engine.executor.Dispatcher`
loop → adapters; plus the plugins' scheduled jobs (APScheduler) and a status row per account in
``kv`` for the dashboard. SIGINT/SIGTERM stop it gracefully: receiving stops, what was received
is stored, the send in flight finishes, and the status says ``stopped``.

Adapters come from plugins: ``registry.add_adapter(protocol, factory)`` with
``factory(entry: dict, *, index: int, dead_letter: DeadLetter) -> Adapter``. An adapter that
the platform calls into exposes ``listen_addr`` (host, port) and ``inbound_router(adapters)``
(a FastAPI router); the runner serves each address once with a :class:`Listener`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from qunyun.adapters.base import Adapter
from qunyun.app import QunyunApp
from qunyun.config import ConfigError
from qunyun.engine.executor import Dispatcher, DispatchReport, outbox_summary, recover_interrupted
from qunyun.engine.ratelimit import CircuitBreaker
from qunyun.events import Event, utcnow
from qunyun.i18n import t
from qunyun.run.ingest import Ingestor
from qunyun.run.listener import Listener
from qunyun.run.status import PREFIX, PROCESS_KEY, write_status

log = logging.getLogger(__name__)


def build_adapters(app: QunyunApp, dead_letter: Any, lang: str = "en") -> list[Adapter]:
    """One adapter per enabled ``[[accounts]]`` entry; ConfigError names a bad entry."""
    adapters: list[Adapter] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(app.settings.accounts):
        if not isinstance(entry, dict):
            raise ConfigError(f"accounts[{index}] must be a table")
        if entry.get("enabled") is False:
            continue
        protocol = str(entry.get("protocol") or entry.get("platform") or "")
        factory = app.registry.adapters.get(protocol) or app.registry.adapters.get(str(entry.get("platform", "")))
        if factory is None:
            known = ", ".join(sorted(app.registry.adapters)) or "-"
            label = entry.get("name") or f"#{index + 1}"
            raise ConfigError(t("run.no_adapter", lang, account=label, protocol=protocol or "?", known=known))
        adapter = factory(entry, index=index, dead_letter=dead_letter)
        key = (adapter.platform, adapter.account)
        if key in seen:
            raise ConfigError(
                f"accounts[{index}]: account name {adapter.account!r} is used twice on {adapter.platform}"
            )
        seen.add(key)
        adapters.append(adapter)
    return adapters


class BotRunner:
    def __init__(
        self,
        app: QunyunApp,
        adapters: Sequence[Adapter] | None = None,
        *,
        dispatch_interval: float = 0.5,
        status_interval: float = 5.0,
        batch_max: int = 2000,
        batch_wait: float = 0.005,
        dispatch: bool = True,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.app = app
        self.ingestor = Ingestor(app.engine, batch_max=batch_max, batch_wait=batch_wait)
        self.adapters: list[Adapter] = (
            list(adapters) if adapters is not None else build_adapters(app, self.ingestor.dead_letter)
        )
        self.dispatch_interval = dispatch_interval
        self.status_interval = status_interval
        self.dispatch_enabled = dispatch
        cfg = app.settings.engine
        self.breaker = breaker or CircuitBreaker(cfg.breaker_threshold, cfg.breaker_cooldown)
        self.dispatcher = Dispatcher(app.db, app.settings, self.adapter_for, breaker=self.breaker, route=self._route)
        self.listeners: list[Listener] = []
        self.sent = DispatchReport()
        self.recovered: list[int] = []
        self._group_account: dict[tuple[str, str], Adapter] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._scheduler: Any = None
        self.started_at = utcnow()

    # -- routing actions to accounts ------------------------------------------------------
    def adapter_for(self, platform: str, account: str | None) -> Adapter | None:
        """The named account, else the account that receives this group's events, else any."""
        candidates = [a for a in self.adapters if a.platform == platform]
        if account:
            for a in candidates:
                if account in (a.account, getattr(a, "self_id", None)):
                    return a
            return None
        return candidates[0] if len(candidates) == 1 else None

    def _route(self, row_platform: str, group_id: str | None) -> Adapter | None:
        return self._group_account.get((row_platform, group_id or ""))

    def sink_for(self, adapter: Adapter) -> Any:
        async def sink(events: Sequence[Event]) -> None:
            for ev in events:
                self._group_account[(ev.platform, ev.group_id)] = adapter
            await self.ingestor(events)

        return sink

    # -- lifecycle -------------------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    async def start(self) -> None:
        self.recovered = recover_interrupted(self.app.db)
        if self.recovered:
            log.warning(t("run.recovered", "en", n=len(self.recovered)))
        await self.ingestor.start()
        await self._start_listeners()
        for adapter in self.adapters:
            await adapter.start(self.sink_for(adapter))
        if self.dispatch_enabled:
            self._tasks.append(asyncio.create_task(self._dispatch_loop(), name="qunyun-dispatch"))
        self._tasks.append(asyncio.create_task(self._status_loop(), name="qunyun-status"))
        self._start_jobs()

    async def _start_listeners(self) -> None:
        groups: dict[tuple[str, int], list[Adapter]] = {}
        for adapter in self.adapters:
            addr = getattr(adapter, "listen_addr", None)
            if addr:
                groups.setdefault(tuple(addr), []).append(adapter)  # type: ignore[arg-type]
        for (host, port), members in groups.items():
            by_kind: dict[Any, list[Adapter]] = {}
            for a in members:
                by_kind.setdefault(type(a).inbound_router, []).append(a)  # type: ignore[attr-defined]
            routers = [factory(list(group)) for factory, group in by_kind.items()]
            listener = Listener(routers, host, port)
            await listener.start()
            self.listeners.append(listener)

    def _start_jobs(self) -> None:
        jobs = self.app.registry.jobs
        if not jobs:
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(timezone="UTC")
        for job in jobs:
            trigger: Any
            if job.cron:
                trigger = CronTrigger.from_crontab(job.cron, timezone="UTC")
            elif job.interval_seconds:
                trigger = IntervalTrigger(seconds=job.interval_seconds)
            else:
                log.warning("job %s has neither cron nor interval; skipped", job.name)
                continue
            scheduler.add_job(
                self._run_job,
                trigger,
                args=[job],
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=60,
                **({"next_run_time": datetime.now(UTC)} if job.at_start else {}),
            )
        scheduler.start()
        self._scheduler = scheduler

    async def _run_job(self, job: Any) -> None:
        try:
            if inspect.iscoroutinefunction(job.fn):
                await job.fn(self.app)
            else:  # blocking jobs (reports, recomputations) must not stall the sockets
                await asyncio.to_thread(job.fn, self.app)
        except Exception:
            log.exception("scheduled job %s failed", job.name)

    async def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = await self.dispatcher.dispatch()
                for f in ("sent", "failed", "deferred", "retried", "staff"):
                    setattr(self.sent, f, getattr(self.sent, f) + getattr(report, f))
            except Exception:
                log.exception("dispatch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.dispatch_interval)

    async def _status_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.write_status)
            except Exception:
                log.exception("could not write connection status")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.status_interval)

    def status_rows(self, final: bool = False) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for a in self.adapters:
            st = a.status().model_dump()
            breaker = self.breaker.state(a.platform, a.account)
            if breaker != "closed" and st["state"] == "connected":
                st["state"] = "paused"
            if final:
                st["state"] = "stopped"
            st.update(
                breaker=breaker,
                protocol=getattr(getattr(a, "config", None), "protocol", None),
                mode=getattr(getattr(a, "config", None), "mode", None),
                self_id=getattr(a, "self_id", None),
                received=getattr(a, "received", None),
                last_heartbeat_at=getattr(a, "last_heartbeat_at", None),
                rejected=getattr(a, "rejected", None),
                reconnects=getattr(a, "reconnects", None),
            )
            rows[f"{PREFIX}{a.platform}:{a.account}"] = st
        rows[PROCESS_KEY] = {
            "pid": os.getpid(),
            "state": "stopped" if final else "running",
            "started_at": self.started_at,
            "ingest": asdict(self.ingestor.stats),
            "backlog": self.ingestor.backlog,
            "dispatch": asdict(self.sent),
            "listeners": [listener.url for listener in self.listeners],
        }
        return rows

    def write_status(self, final: bool = False) -> None:
        with self.app.db.engine.begin() as conn:
            write_status(conn, self.status_rows(final))

    async def stop(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for listener in self.listeners:  # no new inbound connections or posts
            await listener.stop()
        for adapter in self.adapters:  # stop receiving; what each adapter holds is stored here
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s:%s", adapter.platform, adapter.account)
        for task in self._tasks:  # the dispatch loop finishes its current row, then sees the stop
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        await self.ingestor.stop()
        self.write_status(final=True)

    async def run(self, *, install_signals: bool = True) -> dict[str, Any]:
        """Run until SIGINT/SIGTERM (or :meth:`request_stop`); return a summary."""
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stop.wait()
        finally:
            await self.stop()
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.remove_signal_handler(sig)
        return self.summary()

    def summary(self) -> dict[str, Any]:
        with self.app.db.engine.connect() as conn:
            outbox = outbox_summary(conn, recent=5)
        return {
            "accounts": [f"{a.platform}:{a.account}" for a in self.adapters],
            "ingest": asdict(self.ingestor.stats),
            "dispatch": asdict(self.sent),
            "recovered_unknown": self.recovered,
            "outbox": outbox["counts"],
        }


async def serve_with_bot(app: QunyunApp, asgi: Any, host: str, port: int) -> dict[str, Any]:
    """``qunyun serve --with-bot``: the dashboard and the bot process in one event loop.

    SIGINT/SIGTERM stop both (the bot gracefully); if either ends, the other is stopped too.
    """
    runner = BotRunner(app)
    web = Listener([], host, port, app=asgi, log_level="info")
    await web.start()
    bot = asyncio.create_task(runner.run(), name="qunyun-bot")
    try:
        assert web.task is not None
        await asyncio.wait({web.task, bot}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        runner.request_stop()
        summary = await bot
        await web.stop()
    return summary
