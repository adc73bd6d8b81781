"""Executor: actions → audit log + outbox (one transaction) → rate limiter → adapter.

``submit`` records every action with its reason and queues it under its idempotency key (a
second submit of the same key is a no-op, so a replayed event or a crash between steps never
acts twice). ``dispatch`` sends what is due through the adapters, honouring the token buckets,
retrying with exponential backoff and jitter, and recording the delivery state honestly.
In dry-run mode actions are recorded with status ``dry_run`` and never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from qunyun.actions import Action, ActionKind
from qunyun.adapters.base import Adapter, Delivery, DeliveryState
from qunyun.config import Settings
from qunyun.engine.ratelimit import RateLimiter, jittered
from qunyun.events import utcnow
from qunyun.store.db import Database
from qunyun.store.tables import AuditRow, OutboxRow
from qunyun.store.writer import _dialect_insert

log = logging.getLogger(__name__)

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
#: actions that never leave qunyun: they become tasks for staff (and are audited)
LOCAL_KINDS = {ActionKind.NOTIFY_STAFF}


@dataclass(slots=True)
class DispatchReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    retried: int = 0


def submit_actions(
    conn: Connection,
    actions: Sequence[Action],
    *,
    dry_run: bool,
    actor: str = "system",
    now: datetime | None = None,
) -> list[int]:
    """Audit and queue ``actions``; return the outbox ids of those that were new."""
    if not actions:
        return []
    now = now or utcnow()
    ob = OutboxRow.__table__
    ins = _dialect_insert(conn, ob)
    stmt = ins.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(ob.c.id, ob.c.idempotency_key)
    new_ids: list[int] = []
    for action in actions:
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
                "next_attempt_at": now if status == PENDING else None,
                "created_at": now,
                "updated_at": now,
            },
        ).first()
        if row is None:  # already queued under this key: acting twice is what we must never do
            continue
        new_ids.append(row[0])
        conn.execute(
            AuditRow.__table__.insert(),
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
    conn.execute(update(OutboxRow.__table__).where(OutboxRow.__table__.c.id == outbox_id).values(**values))
    if "status" in values:
        conn.execute(
            update(AuditRow.__table__)
            .where(AuditRow.__table__.c.outbox_id == outbox_id)
            .values(status=values["status"])
        )


class Dispatcher:
    """Sends due outbox rows through adapters, one platform call per row."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        adapters: Mapping[str, Adapter] | Callable[[str, str | None], Adapter | None],
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self._adapters = adapters
        self.limiter = limiter or RateLimiter(settings)
        self.clock = clock

    def adapter_for(self, platform: str, account: str | None) -> Adapter | None:
        if callable(self._adapters):
            return self._adapters(platform, account)
        return self._adapters.get(f"{platform}:{account}") or self._adapters.get(platform)

    def due(self, limit: int = 200) -> list[Any]:
        ob = OutboxRow.__table__
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
        for row in self.due(limit):
            await self._one(row, report)
        return report

    async def _one(self, row: Any, report: DispatchReport) -> None:
        action = Action.model_validate(row.action)
        now = self.clock()
        adapter = self.adapter_for(row.platform, row.account)
        if adapter is None:
            self._retry_or_fail(row, f"no adapter connected for {row.platform}", now, report, retry_after=30)
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
        wait = self.limiter.try_acquire(row.platform, row.account or adapter.account, row.group_id)
        if wait > 0:
            with self.db.engine.begin() as conn:
                _set_status(conn, row.id, {"next_attempt_at": now + timedelta(seconds=wait), "updated_at": now})
            report.deferred += 1
            return
        try:
            delivery = await adapter.execute(action)
        except Exception as exc:  # an adapter bug must not lose the action: keep it for retry
            log.exception("adapter %s failed on outbox %s", row.platform, row.id)
            delivery = Delivery.fail(f"{type(exc).__name__}: {exc}")
        if delivery.state is DeliveryState.FAILED:
            reason = f"group {row.group_id}: {delivery.error}" if row.group_id else str(delivery.error)
            if delivery.permanent:
                with self.db.engine.begin() as conn:
                    _set_status(
                        conn,
                        row.id,
                        {"status": FAILED, "attempts": row.attempts + 1, "last_error": reason, "updated_at": now},
                    )
                report.failed += 1
            else:
                self._retry_or_fail(row, reason, now, report, retry_after=delivery.retry_after)
            return
        with self.db.engine.begin() as conn:
            _set_status(
                conn,
                row.id,
                {
                    "status": delivery.state.value,
                    "attempts": row.attempts + 1,
                    "external_id": delivery.external_id,
                    "last_error": None,
                    "updated_at": now,
                },
            )
        report.sent += 1

    def _retry_or_fail(
        self, row: Any, reason: str, now: datetime, report: DispatchReport, retry_after: float | None = None
    ) -> None:
        attempts = row.attempts + 1
        cfg = self.settings.engine
        if attempts >= cfg.max_attempts:
            values: dict[str, Any] = {"status": FAILED, "attempts": attempts, "last_error": reason, "updated_at": now}
            report.failed += 1
        else:
            delay = retry_after if retry_after else jittered(cfg.backoff_seconds * 2 ** (attempts - 1))
            values = {
                "attempts": attempts,
                "last_error": reason,
                "next_attempt_at": now + timedelta(seconds=delay),
                "updated_at": now,
            }
            report.retried += 1
        with self.db.engine.begin() as conn:
            _set_status(conn, row.id, values)


def retry_failed(db: Database, outbox_id: int) -> bool:
    """Put a failed action back in the queue (the dashboard's retry button)."""
    ob = OutboxRow.__table__
    with db.engine.begin() as conn:
        res = conn.execute(
            update(ob)
            .where(ob.c.id == outbox_id, ob.c.status.in_([FAILED, UNKNOWN]))
            .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), updated_at=utcnow())
        )
        if res.rowcount:
            conn.execute(update(AuditRow.__table__).where(AuditRow.__table__.c.outbox_id == outbox_id).values(
                status=PENDING))
        return bool(res.rowcount)
