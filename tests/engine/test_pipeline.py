"""The pipeline contract: store first, policies by priority (may stop), handlers return actions,
executor audits and queues once per idempotency key; dry-run records and sends nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.engine.context import Context
from qunyun.engine.plugins import Registry, build_registry, discover
from qunyun.events import EventType
from qunyun.store.tables import AuditRow, EventRow, OutboxRow, tbl
from qunyun.testing import BotTester, join, message


class Recorder:
    """A plugin that records the order it was called in and what the store held at that time."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stored_before_policy: list[bool] = []

    def setup(self, registry: Registry) -> None:
        registry.add_policy(self.spam_policy, priority=10)
        registry.add_policy(self.late_policy, priority=50)
        registry.add_handler(self.echo, priority=100, types=[EventType.MESSAGE])
        registry.add_handler(self.welcome, priority=100, types=[EventType.JOIN])

    def spam_policy(self, ctx: Context) -> list[Action]:
        with ctx.db.engine.connect() as conn:
            n = conn.execute(
                select(func.count()).select_from(tbl(EventRow)).where(EventRow.message_id == ctx.event.message_id)
            ).scalar_one()
        self.stored_before_policy.append(n == 1)
        self.calls.append("spam_policy")
        if "广告" in (ctx.event.text or ""):
            ctx.stop("ad")
            return [Action(kind=ActionKind.DELETE_MESSAGE, platform=ctx.event.platform, group_id=ctx.event.group_id,
                           message_id=ctx.event.message_id, reason=Reason(zh="广告", en="advert"), source="test.spam")]
        return []

    def late_policy(self, ctx: Context) -> None:
        self.calls.append("late_policy")

    def echo(self, ctx: Context) -> list[Action]:
        self.calls.append("echo")
        return [Action(kind=ActionKind.REPLY, platform=ctx.event.platform, group_id=ctx.event.group_id,
                       message_id=ctx.event.message_id, text=f"echo {ctx.event.text}",
                       reason=Reason(zh="回声", en="echo"), source="test.echo")]

    async def welcome(self, ctx: Context) -> list[Action]:
        self.calls.append("welcome")
        return [Action(kind=ActionKind.SEND_MESSAGE, platform=ctx.event.platform, group_id=ctx.event.group_id,
                       text="欢迎", reason=Reason(zh="欢迎新人", en="welcome"), source="test.welcome")]


def test_order_stop_and_outbox(tmp_path: Path) -> None:
    rec = Recorder()
    bot = BotTester([rec], tmp_path=tmp_path)
    actions = bot.feed(message("你好"))
    assert [a.kind for a in actions] == [ActionKind.REPLY]
    assert rec.calls == ["spam_policy", "late_policy", "echo"]
    assert rec.stored_before_policy == [True]
    rec.calls.clear()
    outcome = bot.outcome(message("加我看广告"))
    assert outcome.stopped_by == "recorder.spam_policy" and outcome.stop_reason == "ad"
    assert [a.kind for a in outcome.actions] == [ActionKind.DELETE_MESSAGE]
    assert rec.calls == ["spam_policy"]
    assert [a.kind for a in bot.feed(join("77"))] == [ActionKind.SEND_MESSAGE]  # async handler
    with bot.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tbl(OutboxRow))).scalar_one() == 3
        reasons = [r[0] for r in conn.execute(select(AuditRow.reason_zh).order_by(AuditRow.id))]
    assert reasons == ["回声", "广告", "欢迎新人"]
    report = bot.dispatch()
    assert report.sent == 3 and len(bot.adapter("qq").executed) == 3
    assert bot.dispatch().sent == 0  # nothing is sent twice


def test_replayed_event_acts_once(tmp_path: Path) -> None:
    rec = Recorder()
    bot = BotTester([rec], tmp_path=tmp_path)
    ev = message("hello")
    bot.feed(ev)
    again = bot.outcome(ev)
    assert again.stored is False and again.actions == []
    with bot.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tbl(OutboxRow))).scalar_one() == 1


def test_dry_run_records_but_sends_nothing(tmp_path: Path) -> None:
    bot = BotTester([Recorder()], tmp_path=tmp_path, dry_run=True)
    assert bot.feed(message("hi"))
    assert bot.dispatch().sent == 0
    with bot.db.engine.connect() as conn:
        row = conn.execute(select(AuditRow.dry_run, AuditRow.status)).one()
    assert row == (True, "dry_run")


def test_failing_handler_does_not_stop_others(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def setup(self, registry: Registry) -> None:
            registry.add_handler(lambda ctx: 1 / 0, priority=1, name="broken.div")

    bot = BotTester([Broken(), Recorder()], tmp_path=tmp_path)
    outcome = bot.outcome(message("x"))
    assert outcome.errors and "ZeroDivisionError" in outcome.errors[0]
    assert [a.kind for a in outcome.actions] == [ActionKind.REPLY]


def test_failed_delivery_retries_then_fails_with_reason(tmp_path: Path) -> None:
    bot = BotTester([Recorder()], tmp_path=tmp_path)
    bot.settings.engine.max_attempts = 2
    bot.feed(message("x", group_id="555"))
    adapter = bot.adapter("qq")
    adapter.fail_with = "bot is not admin"
    first = bot.dispatch()
    assert first.retried == 1
    with bot.db.engine.begin() as conn:  # make the retry due now
        conn.execute(tbl(OutboxRow).update().values(next_attempt_at=OutboxRow.created_at))
    second = bot.dispatch()
    assert second.failed == 1
    with bot.db.engine.connect() as conn:
        status, error = conn.execute(select(OutboxRow.status, OutboxRow.last_error)).one()
    assert status == "failed" and "555" in error and "bot is not admin" in error


def test_builtin_features_are_entry_point_plugins() -> None:
    names = [p.name for p in discover()]
    assert names, "no plugin registered under the qunyun.plugins entry point group"
    registry = build_registry()
    assert registry.plugins == names


def test_batch_hook_runs_once_per_batch_and_feeds_policies(tmp_path: Path) -> None:
    seen_batches: list[int] = []
    verdicts: list[bool] = []

    class Vectorized:
        name = "vectorized"

        def setup(self, registry: Registry) -> None:
            registry.add_batch_hook(self.prepare)
            registry.add_policy(self.policy)

        def prepare(self, events: list[object], batch: dict[str, object]) -> None:
            seen_batches.append(len(events))
            batch["flags"] = {e.message_id: "spam" in (e.text or "") for e in events}  # type: ignore[attr-defined]

        def policy(self, ctx: Context) -> None:
            verdicts.append(ctx.batch["flags"][ctx.event.message_id])

    bot = BotTester([Vectorized()], tmp_path=tmp_path)
    bot.feed_many([message("a"), message("spam!"), message("b")])
    assert seen_batches == [3] and verdicts == [False, True, False]


def test_meta_events_are_not_stored(tmp_path: Path) -> None:
    from qunyun.testing import make_event

    bot = BotTester([Recorder()], tmp_path=tmp_path)
    outcome = bot.outcome(make_event(EventType.META, text="heartbeat"))
    assert outcome.stored is False and outcome.actions == []
    with bot.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tbl(EventRow))).scalar_one() == 0
