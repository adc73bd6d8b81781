"""Rebuild the daily rollup from stored events (after a bug fix, or for data stored before the plugin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, select

from qunyun.events import Event, EventType
from qunyun.features.members.rollup import project
from qunyun.features.members.tables import MemberDailyRow, MemberEdgeRow, MemberScoreRow, table
from qunyun.store.db import Database
from qunyun.store.queries import GroupRef
from qunyun.store.tables import EventRow, MemberRow

BATCH = 5000


def _event(row: Any) -> Event:
    raw: dict[str, Any] = {}
    if row.extra and row.type in ("join", "reaction"):
        try:
            raw = orjson.loads(row.extra)
        except orjson.JSONDecodeError:
            raw = {}
    return Event.model_construct(
        platform=row.platform,
        group_id=row.group_id,
        message_id=row.message_id,
        user_id=row.user_id,
        user_name=row.user_name,
        type=EventType(row.type),
        time=row.time,
        text=row.text,
        reply_to=row.reply_to,
        mentions=orjson.loads(row.mentions) if row.mentions else [],
        subtype=row.subtype,
        raw=raw,
        segments=[],
    )


def rebuild_rollup(
    db: Database | Engine, ref: GroupRef | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Delete and recompute member_daily / member_edges (one group or all); returns events read."""
    e = table(EventRow)
    conds = [e.c.platform == ref.platform, e.c.group_id == ref.group_id] if ref else []
    engine = db.engine if isinstance(db, Database) else db
    with engine.begin() as conn:
        for tbl in (table(MemberDailyRow), table(MemberEdgeRow), table(MemberScoreRow)):
            stmt = delete(tbl)
            if ref:
                stmt = stmt.where(tbl.c.platform == ref.platform, tbl.c.group_id == ref.group_id)
            conn.execute(stmt)
        total = conn.execute(select(func.count()).select_from(e).where(*conds)).scalar_one()
        done, last_id = 0, 0
        while True:
            rows = list(conn.execute(select(e).where(*conds, e.c.id > last_id).order_by(e.c.id).limit(BATCH)))
            if not rows:
                break
            last_id = rows[-1].id
            project(conn, [_event(r) for r in rows])
            done += len(rows)
            if progress:
                progress(done, total)
    return done


def rollup_missing(conn: Connection, ref: GroupRef) -> bool:
    """True when a group has stored messages but no rollup (data stored before the plugin was on)."""
    d, m = table(MemberDailyRow), table(MemberRow)
    if conn.execute(
        select(d.c.user_id).where(d.c.platform == ref.platform, d.c.group_id == ref.group_id).limit(1)
    ).first():
        return False
    return bool(
        conn.execute(
            select(m.c.user_id)
            .where(m.c.platform == ref.platform, m.c.group_id == ref.group_id, m.c.messages > 0)
            .limit(1)
        ).first()
    )
