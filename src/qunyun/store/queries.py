"""The store's read API: what the CLI, the dashboard, the REST API and features ask of the data.

Counters come from the ``members`` table kept by the writer, so listing groups and members never
scans the events table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from qunyun.store.tables import AuditRow, DeadLetterRow, EventRow, GroupRow, MemberRow, OutboxRow, tbl


class GroupNotFound(LookupError):
    pass


class GroupAmbiguous(LookupError):
    def __init__(self, spec: str, choices: list[str]) -> None:
        super().__init__(f"group {spec!r} exists on several platforms: {', '.join(choices)}")
        self.choices = choices


@dataclass(frozen=True, slots=True)
class GroupRef:
    platform: str
    group_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.group_id}"


def resolve_group(conn: Connection, spec: str) -> GroupRef:
    """``G`` or ``platform:G`` (or a group's name) → the group's key."""
    g = tbl(GroupRow)
    conds = [g.c.group_id == spec, g.c.name == spec]
    if ":" in spec:
        platform, _, gid = spec.partition(":")
        conds.append(and_(g.c.platform == platform.lower(), g.c.group_id == gid))
    rows = list(conn.execute(select(g.c.platform, g.c.group_id).where(or_(*conds))))
    exact = [r for r in rows if f"{r[0]}:{r[1]}" == spec]
    if exact:
        rows = exact
    by_id = [r for r in rows if r[1] == spec]
    if len(by_id) == 1:
        rows = by_id
    if not rows:
        raise GroupNotFound(spec)
    if len(rows) > 1:
        raise GroupAmbiguous(spec, sorted(f"{r[0]}:{r[1]}" for r in rows))
    return GroupRef(rows[0][0], rows[0][1])


def list_groups(conn: Connection) -> list[dict[str, Any]]:
    g, m = tbl(GroupRow), tbl(MemberRow)
    counts = (
        select(
            m.c.platform,
            m.c.group_id,
            func.count().label("members"),
            func.coalesce(func.sum(m.c.messages), 0).label("messages"),
            func.max(m.c.last_spoke).label("last_message"),
        )
        .group_by(m.c.platform, m.c.group_id)
        .subquery()
    )
    q = (
        select(
            g.c.platform,
            g.c.group_id,
            g.c.name,
            g.c.type,
            g.c.tier,
            g.c.capacity,
            g.c.parent_group_id,
            func.coalesce(counts.c.members, 0).label("members"),
            func.coalesce(counts.c.messages, 0).label("messages"),
            counts.c.last_message,
        )
        .select_from(g.outerjoin(counts, and_(counts.c.platform == g.c.platform, counts.c.group_id == g.c.group_id)))
        .order_by(g.c.platform, g.c.group_id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def get_group(conn: Connection, ref: GroupRef) -> dict[str, Any]:
    for row in list_groups(conn):
        if row["platform"] == ref.platform and row["group_id"] == ref.group_id:
            return row
    raise GroupNotFound(str(ref))


MEMBER_ORDER: dict[str, Any] = {
    "messages": MemberRow.messages.desc(),
    "last_seen": MemberRow.last_seen.desc(),
    "first_seen": MemberRow.first_seen.asc(),
    "name": MemberRow.user_name.asc(),
}


def list_members(
    conn: Connection,
    ref: GroupRef | None = None,
    *,
    search: str | None = None,
    order: str = "messages",
    offset: int = 0,
    limit: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, page of members) for a group, or across every group when ``ref`` is None."""
    m = tbl(MemberRow)
    conds = []
    if ref is not None:
        conds += [m.c.platform == ref.platform, m.c.group_id == ref.group_id]
    if search:
        like = f"%{search.lower()}%"
        conds.append(or_(func.lower(m.c.user_name).like(like), func.lower(m.c.user_id).like(like)))
    total = conn.execute(select(func.count()).select_from(m).where(*conds)).scalar_one()
    q = select(m).where(*conds).order_by(MEMBER_ORDER.get(order, MEMBER_ORDER["messages"]), m.c.user_id)  # type: ignore[arg-type]
    if offset:
        q = q.offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return total, [dict(r._mapping) for r in conn.execute(q)]


def overview(conn: Connection) -> dict[str, Any]:
    m = tbl(MemberRow)
    groups = conn.execute(select(func.count()).select_from(tbl(GroupRow))).scalar_one()
    members = conn.execute(
        select(func.count(func.distinct(m.c.platform + ":" + m.c.user_id))).select_from(m)
    ).scalar_one()
    messages = conn.execute(select(func.coalesce(func.sum(m.c.messages), 0))).scalar_one()
    last = conn.execute(select(func.max(m.c.last_spoke))).scalar_one()
    return {"groups": groups, "members": members, "messages": int(messages), "last_message": last}


def messages_per_day(
    conn: Connection, ref: GroupRef | None = None, *, days: int = 60, until: datetime | None = None
) -> list[tuple[date, int]]:
    """Message counts per UTC day for the ``days`` days up to the last message (or ``until``)."""
    e = tbl(EventRow)
    conds: list[Any] = [e.c.type.in_(["message", "command"])]
    if ref is not None:
        conds += [e.c.platform == ref.platform, e.c.group_id == ref.group_id]
    if until is None:
        until = conn.execute(select(func.max(e.c.time)).where(*conds)).scalar_one()
        if until is None:
            return []
    start = (until - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date(e.c.time) if conn.dialect.name == "sqlite" else func.date_trunc("day", e.c.time)
    rows = conn.execute(select(day, func.count()).where(*conds, e.c.time >= start).group_by(day).order_by(day))
    out: dict[date, int] = {}
    for d, n in rows:
        key = date.fromisoformat(d) if isinstance(d, str) else (d.date() if isinstance(d, datetime) else d)
        out[key] = n
    first = start.date()
    return [(first + timedelta(days=i), out.get(first + timedelta(days=i), 0)) for i in range(days)]


def audit_entries(
    conn: Connection, *, limit: int = 100, offset: int = 0, group: GroupRef | None = None, source: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    a = tbl(AuditRow)
    conds = []
    if group is not None:
        conds += [a.c.platform == group.platform, a.c.group_id == group.group_id]
    if source:
        conds.append(a.c.source.like(f"{source}%"))
    total = conn.execute(select(func.count()).select_from(a).where(*conds)).scalar_one()
    rows = conn.execute(select(a).where(*conds).order_by(a.c.id.desc()).offset(offset).limit(limit))
    return total, [dict(r._mapping) for r in rows]


def dead_letters(conn: Connection, *, limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    d = tbl(DeadLetterRow)
    total = conn.execute(select(func.count()).select_from(d)).scalar_one()
    rows = conn.execute(select(d).order_by(d.c.id.desc()).offset(offset).limit(limit))
    return total, [dict(r._mapping) for r in rows]


def outbox_entries(
    conn: Connection, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    o = tbl(OutboxRow)
    conds = [o.c.status == status] if status else []
    total = conn.execute(select(func.count()).select_from(o).where(*conds)).scalar_one()
    rows = conn.execute(select(o).where(*conds).order_by(o.c.id.desc()).offset(offset).limit(limit))
    return total, [dict(r._mapping) for r in rows]
