"""``qunyun run`` with a Telegram account: fake Bot API ↔ runner ↔ real database (both backends)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import func, select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.telegram.plugin import TelegramPlugin
from qunyun.app import QunyunApp
from qunyun.config import Settings
from qunyun.engine.context import Context
from qunyun.engine.plugins import Registry, build_registry
from qunyun.events import EventType
from qunyun.run.runner import BotRunner
from qunyun.store.db import Database
from qunyun.store.tables import EventRow, OutboxRow
from tests.adapters.telegram.fake_api import TOKEN, FakeBotApi
from tests.adapters.telegram.updates import member_update, message


class PingPlugin:
    name = "ping"

    def setup(self, registry: Registry) -> None:
        def pong(ctx: Context) -> list[Action]:
            if ctx.event.text == "ping":
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


def count(app: QunyunApp, *where: Any) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(OutboxRow.__table__).where(*where)).scalar_one())


async def until(cond: Any, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.05)


async def test_poll_store_reply_and_honour_429(db_url: str) -> None:
    async with FakeBotApi() as api:
        settings = Settings()
        settings.database.url = db_url
        settings.accounts = [
            {
                "name": "tg",
                "platform": "telegram",
                "token": TOKEN,
                "api_base": api.url,
                "poll_timeout": 1,
                "reconnect_min": 0.05,
            }
        ]
        db = Database(db_url)
        db.migrate()
        app = QunyunApp(settings=settings, db=db, registry=build_registry([TelegramPlugin(), PingPlugin()]))
        api.throttle["sendMessage"] = [1]  # the first reply is refused with retry_after = 1 s
        runner = BotRunner(app, dispatch_interval=0.05, status_interval=0.1)
        task = asyncio.create_task(runner.run(install_signals=False))
        try:
            api.push(chat_member=member_update("left", "member", link_name="promoter-7"))
            api.push(message=message(text="ping", entities=[], message_id=101))
            await until(lambda: count(app, OutboxRow.status == "confirmed") == 1)
            assert len(api.called("sendMessage")) == 2  # refused once, then sent after retry_after — not before
            with app.db.engine.connect() as conn:
                row = conn.execute(select(OutboxRow.__table__)).one()
                join = conn.execute(select(EventRow.__table__).where(EventRow.type == "join")).one()
            assert row.external_id == "500" and row.attempts >= 1
            assert row.updated_at.timestamp() - row.created_at.timestamp() >= 0.9
            assert orjson.loads(join.extra)["invite_link_name"] == "promoter-7"
        finally:
            runner.request_stop()
            await asyncio.wait_for(task, 15)
            app.close()
        assert api.called("sendMessage")[-1]["reply_parameters"]["message_id"] == 101
