"""Executor: actions → audit log + outbox (one transaction) → rate limiter → adapter.

``submit`` records every action with its reason and queues it under its idempotency key (a
second submit of the same key is a no-op, so a replayed event or a crash between steps never
acts twice). ``dispatch`` sends what is due through the adapters, honouring the token buckets,
retrying with exponential backoff and jitter, and recording the delivery state honestly.
In dry-run mode actions are recorded with status ``dry_run`` and never sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, update

from qunyun.actions import Action, ActionKind
from qunyun.adapters.base import Adapter, Delivery, DeliveryState
from qunyun.config import Settings
from qunyun.engine.ratelimit import CircuitBreaker, RateLimiter, jittered
from qunyun.events import utcnow
from qunyun.store.db import Database
from qunyun.store.tables import AuditRow, OutboxRow, tbl
from qunyun.store.writer import _dialect_insert

log = logging.getLogger(__name__)
OUTBOX = cast(Table, tbl(OutboxRow))
AUDIT = cast(Table, tbl(AuditRow))

#: statuses of an outbox row
PENDING, SENT, CONFIRMED, UNKNOWN, FAILED, DRY_RUN, CANCELLED = (
    "pending",
    "sent",
    "confirmed",
    "unknown",
    "failed",
    "dry_run",
    "cancelled",
)
#: claimed by a dispatcher, platform call in flight (left behind only by a crash)
SENDING = "sending"
#: the platform cannot do it (WeCom robots cannot kick ...): replaced by a notify_staff task
STAFF = "staff"
#: actions that never leave qunyun: they become tasks for staff (and are audited)
LOCAL_KINDS = {ActionKind.NOTIFY_STAFF}


@dataclass(slots=True)
class DispatchReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    retried: int = 0
    staff: int = 0


def submit_actions(
    conn: Connection,
    actions: Sequence[Action],
    *,
    dry_run: bool,
    actor: str = "system",
    now: datetime | None = None,
    delays: Sequence[float] | None = None,
) -> list[int]:
    """Audit and queue ``actions``; return the outbox ids of those that were new.

    ``delays`` (seconds, one per action) hold actions back, e.g. a broadcast spread with
    :func:`~qunyun.engine.ratelimit.broadcast_delays`.
    """
    if not actions:
        return []
    now = now or utcnow()
    ob = OUTBOX
    ins = _dialect_insert(conn, ob)
    stmt = ins.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(ob.c.id, ob.c.idempotency_key)
    new_ids: list[int] = []
    if delays is not None and len(delays) != len(actions):
        raise ValueError(f"delays has {len(delays)} entries for {len(actions)} actions")
    for i, action in enumerate(actions):
        local = action.kind in LOCAL_KINDS
        status = DRY_RUN if dry_run else (CONFIRMED if local else PENDING)
        row = conn.execute(
            stmt,
            {
                "idempotency_key": action.idempotency_key,
                "kind": action.kind.value,
                "platform": action.platform,
                "account": action.params.get("account"),
                "group_id": action.group_id,
                "user_id": action.user_id,
                "action": action.model_dump(mode="json"),
                "status": status,
                "attempts": 0,
                "next_attempt_at": (now + timedelta(seconds=delays[i]) if delays else now)
                if status == PENDING
                else None,
                "created_at": now,
                "updated_at": now,
            },
        ).first()
        if row is None:  # already queued under this key: acting twice is what we must never do
            continue
        new_ids.append(row[0])
        conn.execute(
            AUDIT.insert(),
            {
                "time": now,
                "actor": actor,
                "source": action.source,
                "kind": action.kind.value,
                "platform": action.platform,
                "group_id": action.group_id,
                "user_id": action.user_id,
                "reason_zh": action.reason.zh,
                "reason_en": action.reason.en,
                "evidence": action.reason.evidence or None,
                "dry_run": dry_run,
                "status": status,
                "outbox_id": row[0],
                "idempotency_key": action.idempotency_key,
                "cause": action.cause,
            },
        )
    return new_ids


def _set_status(conn: Connection, outbox_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))
    if "status" in values:
        conn.execute(update(AUDIT).where(AUDIT.c.outbox_id == outbox_id).values(status=values["status"]))


class Dispatcher:
    """Sends due outbox rows through adapters, one platform call per row.

    Reliability rules (issue 5):

    - a row is *claimed* (``pending`` → ``sending``, committed) before the platform call, so a
      crash mid-call leaves it ``sending``; :func:`recover_interrupted` turns those into
      ``unknown`` at the next start (never success, never resent) and alerts staff;
    - an adapter that is not connected, a rate limit and an open circuit *defer* a row without
      spending an attempt: a disconnect loses nothing;
    - ``threshold`` consecutive transport failures of one account open its
      :class:`~qunyun.engine.ratelimit.CircuitBreaker` (a ``notify_staff`` audit entry); after the
      cool-down one probe goes; success resumes the account;
    - every failure names the group and the reason.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        adapters: Mapping[str, Adapter] | Callable[[str, str | None], Adapter | None],
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        breaker: CircuitBreaker | None = None,
        route: Callable[[str, str | None], Adapter | None] | None = None,
    ) -> None:
        self.db = db
        #: (platform, group_id) → the account that serves the group, for rows without an account
        self.route = route
        self.settings = settings
        self._adapters = adapters
        self.limiter = limiter or RateLimiter(settings)
        self.clock = clock
        self.breaker = breaker or CircuitBreaker(settings.engine.breaker_threshold, settings.engine.breaker_cooldown)

    def adapter_for(self, platform: str, account: str | None) -> Adapter | None:
        if callable(self._adapters):
            return self._adapters(platform, account)
        return self._adapters.get(f"{platform}:{account}") or self._adapters.get(platform)

    def due(self, limit: int = 200) -> list[Any]:
        ob = OUTBOX
        with self.db.engine.connect() as conn:
            return list(
                conn.execute(
                    select(ob)
                    .where(ob.c.status == PENDING, ob.c.next_attempt_at <= self.clock())
                    .order_by(ob.c.id)
                    .limit(limit)
                )
            )

    async def dispatch(self, limit: int = 200) -> DispatchReport:
        """Send what is due now; reschedule what the rate limiter holds back."""
        report = DispatchReport()
        lanes: dict[Any, list[Any]] = {}
        for row in self.due(limit):
            lanes.setdefault(self._lane(row), []).append(row)
        # accounts are independent: one account's slow call (an API timeout) never holds up another's
        # sends, while each account's rows still go one at a time, in order
        await asyncio.gather(*(self._serial(rows, report) for rows in lanes.values()))
        return report

    def _lane(self, row: Any) -> Any:
        if row.account is None and self.route is not None:
            adapter = self.route(row.platform, row.group_id)
            if adapter is not None:
                return (row.platform, adapter.account)
        return (row.platform, row.account)

    async def _serial(self, rows: list[Any], report: DispatchReport) -> None:
        for row in rows:
            await self._one(row, report)

    def _defer(self, row: Any, seconds: float, now: datetime, report: DispatchReport, why: str | None = None) -> None:
        values: dict[str, Any] = {"next_attempt_at": now + timedelta(seconds=seconds), "updated_at": now}
        if why:
            values["last_error"] = why
        with self.db.engine.begin() as conn:
            _set_status(conn, row.id, values)
        report.deferred += 1

    def _claim(self, row: Any, now: datetime) -> bool:
        """pending → sending, committed before the call; False if another dispatcher has it."""
        ob = OUTBOX
        with self.db.engine.begin() as conn:
            res = conn.execute(
                update(ob)
                .where(ob.c.id == row.id, ob.c.status == PENDING)
                .values(status=SENDING, attempts=row.attempts + 1, updated_at=now)
            )
            if res.rowcount != 1:
                return False
            conn.execute(update(AUDIT).where(AUDIT.c.outbox_id == row.id).values(status=SENDING))
        return True

    async def _one(self, row: Any, report: DispatchReport) -> None:
        action = Action.model_validate(row.action)
        now = self.clock()
        adapter = None
        if row.account is None and self.route is not None:
            adapter = self.route(row.platform, row.group_id)
        adapter = adapter or self.adapter_for(row.platform, row.account)
        if adapter is None:
            self._retry_or_fail(row, f"no adapter connected for {row.platform}", now, report, retry_after=30)
            return
        staff_task = getattr(adapter, "staff_task", None)
        task = staff_task(action) if staff_task is not None else None
        if task is not None:  # the bot may not do this itself: a human does it, the queue says so
            with self.db.engine.begin() as conn:
                submit_actions(conn, [task], dry_run=False, now=now)
                _set_status(
                    conn,
                    row.id,
                    {
                        "status": STAFF,
                        "last_error": f"{row.platform} cannot {row.kind} in group {row.group_id or '-'}: "
                        "handed to staff",
                        "updated_at": now,
                    },
                )
            report.staff += 1
            return
        if not adapter.supports(action):
            with self.db.engine.begin() as conn:
                _set_status(
                    conn,
                    row.id,
                    {"status": FAILED, "last_error": f"{row.platform} cannot {row.kind}", "updated_at": now},
                )
            report.failed += 1
            return
        account = row.account or adapter.account
        if not getattr(adapter, "connected", True):  # keep it queued; a disconnect loses nothing
            self._defer(row, 5.0, now, report, f"account {account} not connected")
            return
        paused = self.breaker.wait(row.platform, account)
        if paused > 0:
            self._defer(row, paused, now, report)
            return
        wait = self.limiter.try_acquire(row.platform, account, row.group_id)
        if wait > 0:
            self._defer(row, wait, now, report)
            return
        if not self._claim(row, now):
            return
        try:
            delivery = await adapter.execute(action)
        except Exception as exc:  # an adapter bug must not lose the action: keep it for retry
            log.exception("adapter %s failed on outbox %s", row.platform, row.id)
            delivery = Delivery.fail(f"{type(exc).__name__}: {exc}")
        now = self.clock()
        where = f"group {row.group_id}" if row.group_id else f"{row.platform} account {account}"
        if delivery.state is DeliveryState.FAILED:
            reason = f"{where}: {delivery.error}"
            if delivery.permanent:  # the platform said no (permission, group gone): not the account's fault
                self.breaker.success(row.platform, account)
                with self.db.engine.begin() as conn:
                    _set_status(conn, row.id, {"status": FAILED, "last_error": reason, "updated_at": now})
                report.failed += 1
            else:
                if self.breaker.failure(row.platform, account):
                    self._alert_paused(row.platform, account, reason, now)
                self._retry_or_fail(row, reason, now, report, retry_after=delivery.retry_after, claimed=True)
            return
        if self.breaker.success(row.platform, account):
            self._alert(
                "outbox.resumed",
                now,
                platform=row.platform,
                account=account,
                key=f"resumed:{account}:{now.isoformat()}",
            )
        values: dict[str, Any] = {
            "status": delivery.state.value,
            "external_id": delivery.external_id,
            "last_error": None,
            "updated_at": now,
        }
        if delivery.state is DeliveryState.UNKNOWN:
            values["last_error"] = f"{where}: {delivery.error or 'delivery not confirmed'}"
            self._alert(
                "outbox.unknown",
                now,
                platform=row.platform,
                account=account,
                group=row.group_id or "-",
                error=values["last_error"],
                key=f"unknown:{row.id}",
                group_id=row.group_id,
            )
        with self.db.engine.begin() as conn:
            _set_status(conn, row.id, values)
        report.sent += 1

    def _alert_paused(self, platform: str, account: str, reason: str, now: datetime) -> None:
        self._alert(
            "outbox.paused",
            now,
            platform=platform,
            account=account,
            n=self.breaker.threshold,
            minutes=round(self.breaker.cooldown / 60, 1),
            error=reason,
            key=f"paused:{account}:{now.isoformat()}",
        )

    def _alert(
        self, msg: str, now: datetime, *, key: str, platform: str = "*", group_id: str | None = None, **params: Any
    ) -> None:
        """A ``notify_staff`` entry in the audit log (a task for a human; never leaves qunyun)."""
        with self.db.engine.begin() as conn:
            staff_alert(conn, msg, now=now, key=key, platform=platform, group_id=group_id, **params)

    def _retry_or_fail(
        self,
        row: Any,
        reason: str,
        now: datetime,
        report: DispatchReport,
        retry_after: float | None = None,
        claimed: bool = False,
    ) -> None:
        attempts = row.attempts + 1
        cfg = self.settings.engine
        if attempts >= cfg.max_attempts:
            values: dict[str, Any] = {
                "status": FAILED,
                "attempts": attempts,
                "last_error": reason,
                "updated_at": now,
            }
            report.failed += 1
        else:
            delay = retry_after if retry_after else jittered(cfg.backoff_seconds * 2 ** (attempts - 1))
            values = {
                "attempts": attempts,
                "last_error": reason,
                "next_attempt_at": now + timedelta(seconds=delay),
                "updated_at": now,
            }
            if claimed:
                values["status"] = PENDING
            report.retried += 1
        with self.db.engine.begin() as conn:
            _set_status(conn, row.id, values)


def staff_alert(
    conn: Connection,
    msg: str,
    *,
    now: datetime,
    key: str,
    platform: str = "*",
    group_id: str | None = None,
    **params: Any,
) -> bool:
    """Record a bilingual ``notify_staff`` task (catalog key ``msg``); idempotent on ``key``."""
    from qunyun.actions import Reason
    from qunyun.i18n import t

    fmt = {k: v for k, v in params.items() if k != "platform"}
    fmt["platform"] = platform
    action = Action(
        kind=ActionKind.NOTIFY_STAFF,
        platform=platform,
        group_id=group_id,
        text=t(msg, "en", **fmt),
        reason=Reason(zh=t(msg, "zh-CN", **fmt), en=t(msg, "en", **fmt), evidence={k: str(v) for k, v in fmt.items()}),
        source="outbox",
        idempotency_key=f"outbox:{key}"[:128],
    )
    return bool(submit_actions(conn, [action], dry_run=False, now=now))


def recover_interrupted(db: Database, now: datetime | None = None) -> list[int]:
    """At start: rows left ``sending`` by a crash become ``unknown`` (never success) for staff.

    The platform call may or may not have happened, so resending could post twice and calling it
    sent could be a lie; a human decides (the dashboard's retry button puts it back).
    """
    now = now or utcnow()
    ob = OUTBOX
    with db.engine.begin() as conn:
        rows = list(
            conn.execute(select(ob.c.id, ob.c.platform, ob.c.account, ob.c.group_id).where(ob.c.status == SENDING))
        )
        for row in rows:
            error = f"group {row.group_id or '-'}: interrupted while sending (qunyun stopped); delivery unknown"
            _set_status(conn, row.id, {"status": UNKNOWN, "last_error": error, "updated_at": now})
            staff_alert(
                conn,
                "outbox.interrupted",
                now=now,
                key=f"interrupted:{row.id}",
                platform=row.platform,
                group_id=row.group_id,
                group=row.group_id or "-",
                account=row.account or "-",
                id=row.id,
            )
    return [r.id for r in rows]


def confirm_delivered(conn: Connection, platform: str, external_ids: Sequence[str]) -> int:
    """The platform echoed our own messages back (OneBot ``message_sent`` ...): sent → confirmed."""
    if not external_ids:
        return 0
    ob = OUTBOX
    res = conn.execute(
        update(ob)
        .where(ob.c.platform == platform, ob.c.external_id.in_(list(external_ids)), ob.c.status == SENT)
        .values(status=CONFIRMED, updated_at=utcnow())
        .returning(ob.c.id)
    )
    ids = [r[0] for r in res]
    if ids:
        conn.execute(update(AUDIT).where(AUDIT.c.outbox_id.in_(ids)).values(status=CONFIRMED))
    return len(ids)


def confirm_unknown_echoes(
    conn: Connection, echoes: Sequence[tuple[str, str, str, str]], *, window: timedelta = timedelta(hours=1)
) -> int:
    """Resolve ``unknown`` sends the platform echoed after all: ``(platform, group_id, text, message_id)``.

    A send that timed out (or was cut by a crash) has no platform message id, so the echo is
    matched by group and exact text among the unknown rows of the last ``window``; only an
    unambiguous match (one row, one echo) is confirmed — anything else stays for staff.
    """
    if not echoes:
        return 0
    ob = OUTBOX
    since = utcnow() - window
    platforms = sorted({e[0] for e in echoes})
    rows = list(
        conn.execute(
            select(ob.c.id, ob.c.platform, ob.c.group_id, ob.c.action).where(
                ob.c.status == UNKNOWN, ob.c.platform.in_(platforms), ob.c.updated_at >= since
            )
        )
    )
    if not rows:
        return 0
    candidates: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        text = (row.action or {}).get("text")
        if isinstance(text, str) and text and row.group_id:
            candidates.setdefault((row.platform, row.group_id, text.strip()), []).append(row.id)
    seen: dict[tuple[str, str, str], list[str]] = {}
    for platform, group_id, text, message_id in echoes:
        seen.setdefault((platform, group_id, text.strip()), []).append(message_id)
    confirmed = 0
    for key, ids in candidates.items():
        mids = seen.get(key, [])
        if len(ids) == 1 and len(mids) == 1:
            _set_status(
                conn,
                ids[0],
                {
                    "status": CONFIRMED,
                    "external_id": mids[0],
                    "updated_at": utcnow(),
                    "last_error": "delivery was unknown; confirmed later by the platform's echo",
                },
            )
            confirmed += 1
    return confirmed


def outbox_summary(conn: Connection, *, recent: int = 20) -> dict[str, Any]:
    """Counts by status plus the latest failed/unknown rows with their reason (dashboard, API, CLI)."""
    ob = OUTBOX
    counts = {status: n for status, n in conn.execute(select(ob.c.status, func.count()).group_by(ob.c.status))}
    problems = [
        {
            "id": r.id,
            "status": r.status,
            "kind": r.kind,
            "platform": r.platform,
            "account": r.account,
            "group_id": r.group_id,
            "attempts": r.attempts,
            "error": r.last_error,
            "updated_at": r.updated_at,
        }
        for r in conn.execute(
            select(ob).where(ob.c.status.in_([FAILED, UNKNOWN])).order_by(ob.c.updated_at.desc()).limit(recent)
        )
    ]
    return {"counts": counts, "problems": problems}


def retry_failed(db: Database, outbox_id: int) -> bool:
    """Put a failed action back in the queue (the dashboard's retry button)."""
    ob = OUTBOX
    with db.engine.begin() as conn:
        res = conn.execute(
            update(ob)
            .where(ob.c.id == outbox_id, ob.c.status.in_([FAILED, UNKNOWN]))
            .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), updated_at=utcnow())
        )
        if res.rowcount:
            conn.execute(update(AUDIT).where(AUDIT.c.outbox_id == outbox_id).values(status=PENDING))
        return bool(res.rowcount)
