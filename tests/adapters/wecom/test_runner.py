"""``qunyun run`` with a WeCom account: encrypted callback in → store → handler → robot out, or staff."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.wecom.plugin import WeComPlugin
from qunyun.app import QunyunApp
from qunyun.config import Settings
from qunyun.engine.context import Context
from qunyun.engine.plugins import Registry, build_registry
from qunyun.events import EventType
from qunyun.run.runner import BotRunner
from qunyun.store.db import Database
from qunyun.store.tables import AuditRow, EventRow, OutboxRow
from tests.adapters.wecom.fake_wecom import AES_KEY, CORP_ID, TOKEN, CallbackSender, FakeRobot
from tests.adapters.wecom.test_wecom import ADD_MEMBERS

CHAT = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"


class WelcomePlugin:
    name = "welcome"

    def setup(self, registry: Registry) -> None:
        def welcome(ctx: Context) -> list[Action]:
            if ctx.event.user_id == "wmEBBB":  # a known spammer: a robot cannot kick, staff must
                return [
                    Action(
                        kind=ActionKind.KICK,
                        platform="wecom",
                        group_id=ctx.event.group_id,
                        user_id=ctx.event.user_id,
                        reason=Reason(zh="广告号", en="known spammer"),
                        source="blocklist",
                        cause=f"wecom:{ctx.event.group_id}:{ctx.event.message_id}",
                    )
                ]
            return [
                Action(
                    kind=ActionKind.SEND_MESSAGE,
                    platform="wecom",
                    group_id=ctx.event.group_id,
                    text=f"欢迎 {ctx.event.user_id}",
                    reason=Reason(zh="新人入群", en="newcomer"),
                    source="welcome",
                    cause=f"wecom:{ctx.event.group_id}:{ctx.event.message_id}",
                )
            ]

        registry.add_handler(welcome, types=[EventType.JOIN])


def count(app: QunyunApp, table: Any, *where: Any) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar_one())


async def until(cond: Any, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.05)


async def test_callback_join_welcomed_by_the_robot_kick_handed_to_staff(db_url: str) -> None:
    async with FakeRobot({"robot-key"}) as robot:
        settings = Settings()
        settings.database.url = db_url
        settings.accounts = [
            {
                "name": "wecom",
                "platform": "wecom",
                "corp_id": CORP_ID,
                "token": TOKEN,
                "encoding_aes_key": AES_KEY,
                "listen": "127.0.0.1:0",
                "robot_api": robot.url,
                "robots": {CHAT: "robot-key"},
            }
        ]
        db = Database(db_url)
        db.migrate()
        app = QunyunApp(settings=settings, db=db, registry=build_registry([WeComPlugin(), WelcomePlugin()]))
        runner = BotRunner(app, dispatch_interval=0.05, status_interval=0.1)
        task = asyncio.create_task(runner.run(install_signals=False))
        try:
            await until(lambda: runner.listeners and runner.listeners[0].server.started)
            sender = CallbackSender(runner.listeners[0].url)
            try:
                assert (await sender.post(ADD_MEMBERS)).status_code == 200
                assert (await sender.post(ADD_MEMBERS)).status_code == 200  # WeCom retried: stored once
            finally:
                await sender.close()
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "staff") == 1)
            await until(lambda: count(app, OutboxRow, OutboxRow.status == "sent") == 1)
            assert count(app, EventRow, EventRow.type == "join") == 2
            assert [body["text"]["content"] for _, body in robot.posts] == ["欢迎 wmEAAA"]
            with app.db.engine.connect() as conn:
                staff_row = conn.execute(select(AuditRow.__table__).where(AuditRow.kind == "notify_staff")).one()
            assert "移出" in staff_row.reason_zh and "wmEBBB" in staff_row.reason_zh
            assert "known spammer" in staff_row.reason_en
        finally:
            runner.request_stop()
            await asyncio.wait_for(task, 15)
            app.close()
