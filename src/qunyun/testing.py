"""Test helpers for qunyun and for plugin authors (NoneBot2's test helper / Errbot's testbot in spirit).

A plugin test in a few lines::

    from qunyun.testing import BotTester, message

    def test_greets_newcomers(tmp_path):
        bot = BotTester(plugins=[MyPlugin()], tmp_path=tmp_path)
        actions = bot.feed(message("hello", user_id="42"))
        assert actions[0].kind == "send_message"

``BotTester`` runs the real pipeline (store → policies → handlers → executor) on a throw-away
SQLite file (or any URL), with a :class:`LoopbackAdapter` that records what would have been sent.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qunyun.actions import Action
from qunyun.adapters.base import Adapter, Delivery
from qunyun.app import QunyunApp
from qunyun.config import Settings
from qunyun.engine.executor import Dispatcher, DispatchReport
from qunyun.engine.pipeline import Engine, Outcome
from qunyun.engine.plugins import Plugin, build_registry
from qunyun.events import Event, EventType, Segment
from qunyun.store.db import Database

_ids = itertools.count(1)
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_event(
    type: EventType | str = EventType.MESSAGE,
    *,
    text: str | None = None,
    platform: str = "qq",
    group_id: str = "10001",
    user_id: str = "42",
    user_name: str | None = None,
    message_id: str | None = None,
    time: datetime | None = None,
    **extra: Any,
) -> Event:
    """An Event with sensible defaults; every call gets a fresh message id and a later time."""
    n = next(_ids)
    return Event(
        platform=platform,
        group_id=group_id,
        user_id=user_id,
        user_name=user_name or f"user{user_id}",
        message_id=message_id or f"t{n}",
        type=EventType(type),
        text=text,
        time=time or BASE_TIME + timedelta(seconds=n),
        **extra,
    )


def message(text: str, **kw: Any) -> Event:
    return make_event(EventType.MESSAGE, text=text, segments=kw.pop("segments", [Segment.text(text)]), **kw)


def join(user_id: str = "42", **kw: Any) -> Event:
    return make_event(EventType.JOIN, user_id=user_id, **kw)


def leave(user_id: str = "42", **kw: Any) -> Event:
    return make_event(EventType.LEAVE, user_id=user_id, **kw)


class LoopbackAdapter(Adapter):
    """Records every action it is asked to apply; can be told to fail."""

    def __init__(self, platform: str = "qq", account: str = "default") -> None:
        super().__init__(account)
        self.platform = platform
        self.executed: list[Action] = []
        self.fail_with: str | None = None
        self.permanent = False

    async def execute(self, action: Action) -> Delivery:
        if self.fail_with:
            return Delivery.fail(self.fail_with, permanent=self.permanent)
        self.executed.append(action)
        return Delivery.ok(f"loop-{len(self.executed)}")


class BotTester:
    """The real pipeline on a temporary database, driven synchronously from a test."""

    def __init__(
        self,
        plugins: Sequence[Plugin] | None = None,
        *,
        tmp_path: Path | None = None,
        db_url: str | None = None,
        settings: Settings | None = None,
        dry_run: bool = False,
    ) -> None:
        if db_url is None:
            directory = tmp_path or Path(tempfile.mkdtemp(prefix="qunyun-test-"))
            db_url = f"sqlite:///{directory / 'test.db'}"
        self.settings = settings or Settings()
        self.settings.database.url = db_url
        self.settings.engine.dry_run = dry_run
        self.db = Database(db_url)
        self.db.migrate()
        self.registry = build_registry(list(plugins) if plugins is not None else None)
        self.registry.settings = self.settings
        self.engine = Engine(self.db, self.settings, self.registry)
        self.adapters: dict[str, LoopbackAdapter] = {}
        self.app = QunyunApp(settings=self.settings, db=self.db, registry=self.registry, _engine=self.engine)

    def adapter(self, platform: str = "qq") -> LoopbackAdapter:
        if platform not in self.adapters:
            self.adapters[platform] = LoopbackAdapter(platform)
        return self.adapters[platform]

    def feed_many(self, events: Sequence[Event]) -> list[Outcome]:
        return self.engine.process(events)

    def feed(self, event: Event) -> list[Action]:
        """Process one event; return the actions the policies and handlers produced."""
        return self.engine.process([event])[0].actions

    def outcome(self, event: Event) -> Outcome:
        return self.engine.process([event])[0]

    def dispatch(self) -> DispatchReport:
        """Send what is queued through loopback adapters (created on demand per platform)."""
        dispatcher = Dispatcher(self.db, self.settings, lambda platform, _acc: self.adapter(platform))
        return asyncio.run(dispatcher.dispatch())

    def close(self) -> None:
        self.db.dispose()
