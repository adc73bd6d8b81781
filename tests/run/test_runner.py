"""``qunyun run`` end to end: a fake OneBot implementation ↔ runner ↔ real database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.onebot.plugin import OneBotPlugin
from qunyun.app import QunyunApp
from qunyun.config import ConfigError, Settings
from qunyun.engine.context import Context
from qunyun.engine.plugins import Registry, build_registry
from qunyun.events import EventType
from qunyun.run.runner import BotRunner
from qunyun.run.status import read_connections
from qunyun.store.db import Database
from qunyun.store.tables import DeadLetterRow, EventRow, OutboxRow
from tests.adapters.onebot import payloads as p
from tests.adapters.onebot.fake import FakeOneBot


class PingPlugin:
    name = "ping"

    def setup(self, registry: Registry) -> None:
        def pong(ctx: Context) -> list[Action]:
            if ctx.event.text and ctx.event.text.strip() == "ping":
                return [
                    Action(
                        kind=ActionKind.REPLY,
                        platform=ctx.event.platform,
                        group_id=ctx.event.group_id,
                        message_id=ctx.event.message_id,
                        text="pong",
                        reason=Reason(zh="回应", en="answer"),
                        source="ping",
                    )
                ]
            return []

        registry.add_handler(pong, types=[EventType.MESSAGE])


def make_app(db_url: str, accounts: list[dict[str, Any]]) -> QunyunApp:
    settings = Settings()
    settings.database.url = db_url
    settings.accounts = accounts
    db = Database(db_url)
    db.migrate()
    return QunyunApp(settings=settings, db=db, registry=build_registry([OneBotPlugin(), PingPlugin()]))


async def until(cond: Callable[[], Any], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.02)


def count(app: QunyunApp, table: Any, *where: Any) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar_one())


async def test_events_in_actions_out_confirmed_by_echo(db_url: str) -> None:
    async with FakeOneBot(token="t") as impl:
        app = make_app(
            db_url,
            [
                {
                    "name": "main",
                    "platform": "qq",
                    "protocol": "onebot",
                    "mode": "ws",
                    "url": impl.url,
                    "access_token": "t",
                    "reconnect_min": 0.05,
                }
            ],
        )
        runner = BotRunner(app, dispatch_interval=0.05, status_interval=0.1)
        task = asyncio.create_task(runner.run(install_signals=False))
        try:
            await until(lambda: impl.connections)
            ping = p.group_message(1, text="ping")
            ping["message"] = [{"type": "text", "data": {"text": "ping"}}]
            await impl.push(
                p.lifecycle(),
                p.heartbeat(),
                ping,
                p.group_message(2),
                p.group_message(2),
                p.group_increase(),
                "garbage{",
                p.group_request(),
            )
            await until(lambda: count(app, EventRow) == 4)
            assert count(app, EventRow, EventRow.type == "meta") == 0  # heartbeats are status, not activity
            await until(lambda: count(app, DeadLetterRow) == 1)
            await until(lambda: any(c["action"] == "send_group_msg" for c in impl.calls))
            call = next(c for c in impl.calls if c["action"] == "send_group_msg")
            assert call["params"]["message"][0] == {"type": "reply", "data": {"id": "5001"}}
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "sent") == 1)
            # the implementation reports our own message back: the send is confirmed
            mid = 1000
            echo = p.group_message(50, text="pong", user=p.SELF, post_type="message_sent")
            echo["message_id"] = mid
            await impl.push(echo)
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "confirmed", OutboxRow.kind == "reply") == 1)
            await asyncio.sleep(0.25)
            with app.db.engine.connect() as conn:
                status = read_connections(conn)
            acc = status["accounts"][0]
            assert acc["account"] == "main" and acc["state"] == "connected" and acc["last_event_at"]
            assert acc["self_id"] == str(p.SELF) and acc["lag_seconds"] is not None and not acc["stale"]
            assert status["process"]["ingest"]["stored"] == 5 and acc["last_heartbeat_at"]
        finally:
            runner.request_stop()
            summary = await asyncio.wait_for(task, 15)
        assert summary["ingest"]["stored"] == 5 and summary["dispatch"]["sent"] == 1
        with app.db.engine.connect() as conn:
            assert read_connections(conn)["accounts"][0]["state"] == "stopped"
        app.close()


async def test_reverse_ws_account_through_the_runner(sqlite_url: str) -> None:
    from tests.adapters.onebot.fake import reverse_connect

    app = make_app(
        sqlite_url,
        [
            {
                "name": "rev",
                "protocol": "onebot",
                "mode": "ws-reverse",
                "self_id": p.SELF,
                "access_token": "t",
                "listen": "127.0.0.1:0",
            }
        ],
    )
    runner = BotRunner(app, dispatch_interval=0.05, status_interval=0.1)
    task = asyncio.create_task(runner.run(install_signals=False))
    try:
        await until(lambda: runner.listeners and runner.listeners[0].server.started)
        ws = await reverse_connect(runner.listeners[0].port, self_id=p.SELF, token="t")
        import orjson

        for i in range(1, 51):
            await ws.send(orjson.dumps(p.group_message(i)).decode())
        await until(lambda: count(app, EventRow) == 50)
        await ws.close()
    finally:
        runner.request_stop()
        await asyncio.wait_for(task, 15)
    app.close()


def test_unknown_protocol_is_a_clear_config_error(sqlite_url: str) -> None:
    app = make_app(sqlite_url, [{"name": "x", "protocol": "matrix", "platform": "matrix"}])
    with pytest.raises(ConfigError, match="no adapter for protocol matrix.*onebot"):
        BotRunner(app)
    app.settings.accounts = [
        {"name": "a", "mode": "ws", "url": "ws://h:1"},
        {"name": "a", "mode": "ws", "url": "ws://h:2"},
    ]
    app.settings.accounts = [dict(a, protocol="onebot") for a in app.settings.accounts]
    with pytest.raises(ConfigError, match="used twice"):
        BotRunner(app)
    app.settings.accounts = [{"protocol": "onebot", "mode": "ws"}]
    with pytest.raises(ConfigError, match=r"accounts\[0\].*needs url"):
        BotRunner(app)
    app.close()


async def test_serve_with_bot_runs_both_and_stops_on_sigterm(sqlite_url: str) -> None:
    import os
    import signal

    from fastapi import FastAPI

    from qunyun.run.runner import serve_with_bot

    async with FakeOneBot() as impl:
        app = make_app(sqlite_url, [{"name": "main", "protocol": "onebot", "mode": "ws", "url": impl.url}])
        web = FastAPI()
        task = asyncio.create_task(serve_with_bot(app, web, "127.0.0.1", 0))
        await until(lambda: impl.connections)
        await impl.push(p.group_message(1), p.group_message(2))
        await until(lambda: count(app, EventRow) == 2)
        os.kill(os.getpid(), signal.SIGTERM)  # the runner's handler: graceful stop of bot and web
        summary = await asyncio.wait_for(task, 15)
        assert summary["ingest"]["stored"] == 2
    app.close()


async def test_scheduled_jobs_run_in_the_bot_process(sqlite_url: str) -> None:
    ran: list[str] = []

    class JobPlugin:
        name = "jobs"

        def setup(self, registry: Registry) -> None:
            async def tick(app: QunyunApp) -> None:
                ran.append("async")

            def blocking(app: QunyunApp) -> None:
                ran.append("sync")

            registry.add_job("tick", tick, interval_seconds=0.05)
            registry.add_job("blocking", blocking, interval_seconds=0.05)

    app = make_app(sqlite_url, [])
    app.registry = build_registry([JobPlugin()])
    runner = BotRunner(app, adapters=[])
    task = asyncio.create_task(runner.run(install_signals=False))
    await until(lambda: "async" in ran and "sync" in ran)
    runner.request_stop()
    await asyncio.wait_for(task, 15)
    app.close()


async def test_a_job_marked_at_start_runs_at_once_not_after_its_interval(sqlite_url: str) -> None:
    """The trusted-member cache (KOLs) is refreshed when the bot starts, not an interval later."""
    ran: list[str] = []

    class JobPlugin:
        name = "jobs"

        def setup(self, registry: Registry) -> None:
            registry.add_job("now", lambda app: ran.append("now"), interval_seconds=3600, at_start=True)
            registry.add_job("later", lambda app: ran.append("later"), interval_seconds=3600)

    app = make_app(sqlite_url, [])
    app.registry = build_registry([JobPlugin()])
    runner = BotRunner(app, adapters=[])
    task = asyncio.create_task(runner.run(install_signals=False))
    await until(lambda: "now" in ran)
    await asyncio.sleep(0.2)
    runner.request_stop()
    await asyncio.wait_for(task, 15)
    assert ran == ["now"]
    app.close()


def test_the_moderation_trust_refresh_runs_at_start() -> None:
    from qunyun.features.moderation.plugin import ModerationPlugin

    jobs = {j.name: j for j in build_registry([ModerationPlugin()]).jobs}
    assert jobs["moderation.refresh_trusted"].at_start and not jobs["moderation.retrain"].at_start


def test_actions_are_routed_to_the_account_that_serves_the_group(sqlite_url: str) -> None:
    app = make_app(
        sqlite_url,
        [
            {"name": "a", "protocol": "onebot", "mode": "ws", "url": "ws://127.0.0.1:9", "self_id": "111"},
            {"name": "b", "protocol": "onebot", "mode": "ws", "url": "ws://127.0.0.1:9", "self_id": "222"},
        ],
    )
    runner = BotRunner(app)
    a, b = runner.adapters
    assert runner.adapter_for("qq", "b") is b and runner.adapter_for("qq", "222") is b
    assert runner.adapter_for("qq", None) is None  # two accounts: no guessing without a group
    assert runner.adapter_for("qq", "nobody") is None and runner.adapter_for("telegram", None) is None
    sink_b = runner.sink_for(b)
    ev = p.group_message(1, group=777)
    from qunyun.adapters.onebot.parse import parse_event

    asyncio.run(_feed(runner, sink_b, parse_event(ev)))
    assert runner._route("qq", "777") is b and runner._route("qq", "888") is None
    app.close()


async def _feed(runner: BotRunner, sink: Any, event: Any) -> None:
    await runner.ingestor.start()
    await sink([event])
    await runner.ingestor.stop()


async def test_timed_out_send_is_unknown_then_confirmed_by_its_echo(db_url: str) -> None:
    async with FakeOneBot() as impl:
        impl.silent.add("send_group_msg")  # the implementation posts but never answers
        app = make_app(
            db_url, [{"name": "main", "protocol": "onebot", "mode": "ws", "url": impl.url, "api_timeout": 0.3}]
        )
        runner = BotRunner(app, dispatch_interval=0.05, status_interval=0.1)
        task = asyncio.create_task(runner.run(install_signals=False))
        try:
            await until(lambda: impl.connections)
            ping = p.group_message(1, text="ping")
            ping["message"] = [{"type": "text", "data": {"text": "ping"}}]
            await impl.push(ping)
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "unknown") == 1)
            assert count(app, OutboxRow, OutboxRow.status == "sent") == 0  # never reported as success
            echo = p.group_message(60, text="pong", user=p.SELF, post_type="message_sent")
            echo["message"] = [{"type": "reply", "data": {"id": "5001"}}, {"type": "text", "data": {"text": "pong"}}]
            await impl.push(echo)
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "confirmed", OutboxRow.kind == "reply") == 1)
        finally:
            runner.request_stop()
            await asyncio.wait_for(task, 15)
        assert [c["action"] for c in impl.calls].count("send_group_msg") == 1  # not resent
    app.close()
