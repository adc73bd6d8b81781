"""Outbox reliability: crash → unknown, no double send, circuit breaker, rate-limit spacing.

Every clock is injected; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.base import Delivery
from qunyun.config import Settings
from qunyun.engine.executor import (
    CONFIRMED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    UNKNOWN,
    Dispatcher,
    DispatchReport,
    confirm_delivered,
    outbox_summary,
    recover_interrupted,
    retry_failed,
    submit_actions,
)
from qunyun.engine.ratelimit import CircuitBreaker, RateLimiter, broadcast_delays
from qunyun.store.db import Database
from qunyun.store.tables import AuditRow, OutboxRow
from qunyun.testing import LoopbackAdapter

R = Reason(zh="测试", en="test")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    """Wall clock (datetime) and monotonic clock (float) moving together."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.offset)

    def mono(self) -> float:
        return 1000.0 + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def db(db_url: str) -> Any:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def send(group: str = "20001", text: str = "hello", **kw: Any) -> Action:
    return Action(kind=ActionKind.SEND_MESSAGE, platform="qq", group_id=group, text=text, reason=R, source="test", **kw)


def queue(db: Database, actions: list[Action], clock: Clock, **kw: Any) -> list[int]:
    with db.engine.begin() as conn:
        return submit_actions(conn, actions, dry_run=False, now=clock.now(), **kw)


def rows(db: Database) -> list[Any]:
    ob = OutboxRow.__table__
    with db.engine.connect() as conn:
        return list(conn.execute(select(ob).where(ob.c.kind != "notify_staff").order_by(ob.c.id)))


def alerts(db: Database) -> list[Any]:
    a = AuditRow.__table__
    with db.engine.connect() as conn:
        return list(conn.execute(select(a).where(a.c.kind == "notify_staff").order_by(a.c.id)))


def dispatcher(db: Database, adapter: Any, clock: Clock, settings: Settings | None = None, **kw: Any) -> Dispatcher:
    settings = settings or Settings()
    return Dispatcher(
        db,
        settings,
        {"qq": adapter},
        limiter=RateLimiter(settings, clock=clock.mono),
        clock=clock.now,
        breaker=kw.pop("breaker", None) or CircuitBreaker(clock=clock.mono),
        **kw,
    )


class CrashingAdapter(LoopbackAdapter):
    """Checks the row is already committed as ``sending``, then dies mid-call like a killed process."""

    def __init__(self, db: Database) -> None:
        super().__init__("qq")
        self.db = db
        self.status_seen: list[str] = []

    async def execute(self, action: Action) -> Delivery:
        self.status_seen.append(rows(self.db)[0].status)
        raise asyncio.CancelledError()


async def test_crash_mid_send_becomes_unknown_and_is_never_resent(db: Database) -> None:
    clock = Clock()
    queue(db, [send()], clock)
    crashing = CrashingAdapter(db)
    with pytest.raises(asyncio.CancelledError):
        await dispatcher(db, crashing, clock).dispatch()
    assert crashing.status_seen == [SENDING]
    assert rows(db)[0].status == SENDING
    # restart
    recovered = recover_interrupted(db, now=clock.now())
    row = rows(db)[0]
    assert recovered == [row.id] and row.status == UNKNOWN
    assert "group 20001" in row.last_error and "interrupted" in row.last_error
    notes = alerts(db)
    assert len(notes) == 1 and "20001" in notes[0].reason_zh and "20001" in notes[0].reason_en
    healthy = LoopbackAdapter("qq")
    clock.advance(3600)
    report = await dispatcher(db, healthy, clock).dispatch()
    assert healthy.executed == [] and report.sent == 0
    assert recover_interrupted(db, now=clock.now()) == []  # idempotent
    # staff decides: the retry button puts it back, then it goes exactly once
    assert retry_failed(db, row.id)
    clock.advance(1)
    d = dispatcher(db, healthy, clock)
    d.clock = lambda: datetime.now(UTC) + timedelta(seconds=5)
    await d.dispatch()
    assert len(healthy.executed) == 1 and rows(db)[0].status == SENT


async def test_replayed_actions_send_once(db: Database) -> None:
    clock = Clock()
    action = send(cause="qq:20001:5001")
    assert queue(db, [action], clock)
    adapter = LoopbackAdapter("qq")
    await dispatcher(db, adapter, clock).dispatch()
    assert queue(db, [send(cause="qq:20001:5001")], clock) == []  # same key: not queued again
    clock.advance(60)
    await dispatcher(db, adapter, clock).dispatch()
    assert len(adapter.executed) == 1 and len(rows(db)) == 1


async def test_two_dispatchers_never_send_the_same_row_twice(db: Database) -> None:
    clock = Clock()
    queue(db, [send()], clock)
    adapter = LoopbackAdapter("qq")
    a, b = dispatcher(db, adapter, clock), dispatcher(db, adapter, clock)
    due = a.due()
    await a._one(due[0], DispatchReport())
    await b._one(due[0], DispatchReport())  # a stale read of the same row: the claim fails
    assert len(adapter.executed) == 1


async def test_breaker_opens_alerts_keeps_queue_and_resumes_with_a_probe(db: Database) -> None:
    clock = Clock()
    queue(db, [send(group=str(20000 + i), text=f"m{i}") for i in range(5)], clock)
    adapter = LoopbackAdapter("qq")
    adapter.fail_with = "connection reset"
    breaker = CircuitBreaker(threshold=3, cooldown=600, clock=clock.mono)
    settings = Settings()
    settings.rate_limits = {}
    d = dispatcher(db, adapter, clock, settings=settings, breaker=breaker)
    report = await d.dispatch()
    assert report.retried == 3 and report.deferred == 2  # the 4th and 5th were held by the open breaker
    assert breaker.state("qq", "default") == "open"
    notes = alerts(db)
    assert len(notes) == 1 and notes[0].source == "outbox" and "3" in notes[0].reason_en
    assert "connection reset" in notes[0].reason_zh and "group 20002" in notes[0].reason_en
    statuses = [r.status for r in rows(db)]
    assert statuses == [PENDING] * 5  # queue kept
    assert all("connection reset" in (r.last_error or "") for r in rows(db)[:3])
    assert rows(db)[3].attempts == 0  # deferral by the breaker spends no attempt
    # still open: nothing is tried
    clock.advance(300)
    calls_before = len(adapter.executed)
    await d.dispatch()
    assert len(adapter.executed) == calls_before and breaker.state("qq", "default") == "open"
    # after the cool-down one probe goes; the platform is healthy again → resume
    adapter.fail_with = None
    clock.advance(301)
    await d.dispatch()
    assert breaker.state("qq", "default") == "closed"
    assert any("resumed" in n.reason_en for n in alerts(db))
    clock.advance(1000)
    await d.dispatch()
    assert sorted(a.text for a in adapter.executed) == [f"m{i}" for i in range(5)]
    assert {r.status for r in rows(db)} == {SENT}


async def test_breaker_probe_failure_reopens_without_a_second_alert(db: Database) -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown=100, clock=clock.mono)
    assert not breaker.failure("qq", "a")
    assert breaker.failure("qq", "a")  # opened: alert
    clock.advance(101)
    assert breaker.wait("qq", "a") == 0.0 and breaker.state("qq", "a") == "half-open"
    assert breaker.wait("qq", "a") > 0  # only one probe at a time
    assert not breaker.failure("qq", "a")  # probe failed: open again, no new alert
    assert breaker.state("qq", "a") == "open"


async def test_disconnected_account_defers_without_spending_attempts(db: Database) -> None:
    clock = Clock()
    queue(db, [send()], clock)
    adapter = LoopbackAdapter("qq")
    adapter.connected = False  # type: ignore[attr-defined]
    report = await dispatcher(db, adapter, clock).dispatch()
    row = rows(db)[0]
    assert report.deferred == 1 and row.attempts == 0 and row.status == PENDING and adapter.executed == []
    assert "not connected" in row.last_error


async def test_permanent_failure_names_group_and_reason(db: Database) -> None:
    clock = Clock()
    queue(db, [send(group="777")], clock)
    adapter = LoopbackAdapter("qq")
    adapter.fail_with, adapter.permanent = "bot is not an admin", True
    await dispatcher(db, adapter, clock).dispatch()
    row = rows(db)[0]
    assert row.status == FAILED and row.last_error == "group 777: bot is not an admin"
    with db.engine.connect() as conn:
        summary = outbox_summary(conn)
    assert summary["counts"][FAILED] == 1 and summary["problems"][0]["error"] == "group 777: bot is not an admin"


async def test_echo_confirms_sent_rows(db: Database) -> None:
    clock = Clock()
    queue(db, [send()], clock)
    adapter = LoopbackAdapter("qq")
    await dispatcher(db, adapter, clock).dispatch()
    row = rows(db)[0]
    assert row.status == SENT and row.external_id == "loop-1"
    with db.engine.begin() as conn:
        assert confirm_delivered(conn, "qq", ["loop-1", "other"]) == 1
        assert confirm_delivered(conn, "qq", ["loop-1"]) == 0
    assert rows(db)[0].status == CONFIRMED


async def test_rate_limit_spacing_per_account_and_group(db: Database) -> None:
    clock = Clock()
    settings = Settings()  # qq defaults from the quota table: account 1 per 7 s, burst 3
    limiter = RateLimiter(settings, clock=clock.mono)
    groups = [str(20000 + i) for i in range(6)]
    assert [limiter.try_acquire("qq", "bot", g) for g in groups[:3]] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire("qq", "bot", groups[3])
    assert wait == pytest.approx(7.0)
    clock.advance(6.9)
    assert limiter.try_acquire("qq", "bot", groups[3]) == pytest.approx(0.1)
    clock.advance(0.1)
    assert limiter.try_acquire("qq", "bot", groups[3]) == 0.0
    # another account is not held back by this one
    assert limiter.try_acquire("qq", "bot2", groups[4]) == 0.0
    # the dispatcher reschedules held rows instead of sleeping
    queue(db, [send(group=g, text=g) for g in groups], clock)
    adapter = LoopbackAdapter("qq")
    d = dispatcher(db, adapter, clock)
    report = await d.dispatch()
    assert report.sent == 3 and report.deferred == 3
    nexts = sorted(r.next_attempt_at for r in rows(db) if r.status == PENDING)
    assert nexts[0] == clock.now() + timedelta(seconds=7)


def test_broadcast_delays_are_spread_with_jitter() -> None:
    delays = broadcast_delays(50, 7.0, rng=random.Random(1))
    gaps = [b - a for a, b in zip(delays, delays[1:], strict=False)]
    assert delays[0] == 0 and all(7 * 0.75 <= g <= 7 * 1.25 for g in gaps)
    assert len(set(round(g, 3) for g in gaps)) > 40  # not a regular pattern
    assert sum(gaps) / len(gaps) == pytest.approx(7.0, rel=0.1)


async def test_submit_with_delays_holds_a_broadcast_back(db: Database) -> None:
    clock = Clock()
    actions = [send(group=str(20000 + i)) for i in range(3)]
    queue(db, actions, clock, delays=[0, 7, 14])
    assert [r.next_attempt_at - clock.now() for r in rows(db)] == [
        timedelta(0),
        timedelta(seconds=7),
        timedelta(seconds=14),
    ]
    with pytest.raises(ValueError, match="delays has 1 entries for 2 actions"):
        queue(db, [send(group="1"), send(group="2")], clock, delays=[0])


class StaffOnlyAdapter(LoopbackAdapter):
    """Like a WeCom robot: cannot kick; offers a staff task instead."""

    def staff_task(self, action: Action) -> Action | None:
        if action.kind is ActionKind.KICK:
            return Action(
                kind=ActionKind.NOTIFY_STAFF,
                platform=action.platform,
                group_id=action.group_id,
                text=f"please remove {action.user_id}",
                reason=action.reason,
                source="test.staff",
                idempotency_key=f"staff:{action.idempotency_key}",
            )
        return None


async def test_unsupported_action_becomes_a_staff_task(db: Database) -> None:
    clock = Clock()
    kick = Action(kind=ActionKind.KICK, platform="qq", group_id="g1", user_id="u1", reason=R, source="test")
    queue(db, [kick, send(group="g1")], clock)
    adapter = StaffOnlyAdapter("qq")
    report = await dispatcher(db, adapter, clock).dispatch()
    assert report.staff == 1 and report.sent == 1 and [a.kind for a in adapter.executed] == [ActionKind.SEND_MESSAGE]
    first = rows(db)[0]
    assert first.status == "staff" and "handed to staff" in first.last_error and "g1" in first.last_error
    assert [n.source for n in alerts(db)] == ["test.staff"]


class HangingAdapter(LoopbackAdapter):
    def __init__(self, account: str) -> None:
        super().__init__("qq", account)
        self.release = asyncio.Event()

    async def execute(self, action: Action) -> Delivery:
        await self.release.wait()
        return await super().execute(action)


async def test_a_slow_account_does_not_hold_up_another(db: Database) -> None:
    clock = Clock()
    settings = Settings()
    settings.rate_limits = {}
    queue(
        db,
        [
            send(group="1", text="slow", params={"account": "slow"}),
            send(group="2", text="fast", params={"account": "fast"}),
        ],
        clock,
    )
    slow, fast = HangingAdapter("slow"), LoopbackAdapter("qq", "fast")
    d = Dispatcher(
        db,
        settings,
        {"qq:slow": slow, "qq:fast": fast},
        limiter=RateLimiter(settings, clock=clock.mono),
        clock=clock.now,
        breaker=CircuitBreaker(clock=clock.mono),
    )
    task = asyncio.create_task(d.dispatch())
    for _ in range(200):
        if fast.executed:
            break
        await asyncio.sleep(0.01)
    assert [a.text for a in fast.executed] == ["fast"] and not task.done()
    slow.release.set()
    report = await task
    assert report.sent == 2 and [a.text for a in slow.executed] == ["slow"]


async def test_a_late_echo_resolves_an_unknown_send_only_when_unambiguous(db: Database) -> None:
    from sqlalchemy import update

    from qunyun.engine.executor import confirm_unknown_echoes

    clock = Clock()
    ids = queue(
        db,
        [send(group="1", text="早安"), send(group="2", text="dup", cause="a"), send(group="2", text="dup", cause="b")],
        clock,
    )
    ob = OutboxRow.__table__
    with db.engine.begin() as conn:
        conn.execute(update(ob).where(ob.c.id.in_(ids)).values(status=UNKNOWN, updated_at=datetime.now(UTC)))
        n = confirm_unknown_echoes(
            conn, [("qq", "1", " 早安 ", "9001"), ("qq", "2", "dup", "9002"), ("qq", "3", "早安", "9003")]
        )
    assert n == 1
    got = {r.id: (r.status, r.external_id) for r in rows(db)}
    assert got[ids[0]] == (CONFIRMED, "9001")
    assert got[ids[1]] == (UNKNOWN, None) and got[ids[2]] == (UNKNOWN, None)  # two candidates: staff decides
