"""The one write path for events: idempotent batch insert plus group/member counters.

``(platform, group_id, message_id)`` is unique, so writing the same event twice inserts nothing
the second time. Members' counters (messages, first/last seen) are updated only from events that
were really inserted, which keeps them exact across re-imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from qunyun.events import Event, EventType
from qunyun.store.tables import DeadLetterRow, EventRow, GroupRow, IdentityRow, MemberRow, tbl

_ACTIVITY = {EventType.MESSAGE.value, EventType.COMMAND.value}
#: rows per INSERT statement; SQLite allows 32766 bound variables, events use 13 columns
CHUNK = 1000


@dataclass(slots=True)
class WriteResult:
    inserted: list[Event] = field(default_factory=list)
    duplicates: int = 0
    #: on SQLite, the inserted rows are exactly ``events.id BETWEEN first AND last``, so projections
    #: may aggregate them in SQL (``INSERT ... SELECT ... GROUP BY``) instead of in Python
    id_range: tuple[int, int] | None = None


def _dialect_insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database dialect {conn.dialect.name} is not supported")


@cache
def _time_param(dialect: str) -> Callable[[datetime], Any]:
    """How a timezone-aware datetime is bound: UTC text on SQLite (as UTCDateTime stores it).

    Chat logs repeat timestamps (minute resolution, bursts), so conversions are memoized in a
    small bounded dict: equal datetimes hash equal whatever object carries them.
    """
    if dialect == "sqlite":
        cache: dict[datetime, str] = {}

        def to_sqlite(value: datetime) -> str:
            text = cache.get(value)
            if text is None:
                utc = value.astimezone(UTC) if value.utcoffset() else value
                text = utc.replace(tzinfo=None).isoformat(" ", "microseconds")
                if len(cache) > 50_000:
                    cache.clear()
                cache[value] = text
            return text

        return to_sqlite
    return lambda value: value


def event_params(ev: Event, ts: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The events-table row of ``ev`` in ``_EVENT_COLUMNS`` order."""
    extra: dict[str, Any] | None = dict(ev.raw) if ev.raw else None
    if ev.segments:
        extra = extra or {}
        extra["segments"] = [s.model_dump(mode="json") for s in ev.segments]
    if ev.self_id:
        extra = extra or {}
        extra["self_id"] = ev.self_id
    return (
        ev.platform,
        ev.group_id,
        ev.message_id,
        ev.user_id,
        ev.user_name,
        ev.type.value,
        ev.subtype,
        ev.text,
        ev.reply_to,
        orjson.dumps(ev.mentions).decode() if ev.mentions else None,
        ts(ev.time),
        orjson.dumps(extra).decode() if extra else None,
    )


_EVENT_COLUMNS = [
    "platform", "group_id", "message_id", "user_id", "user_name", "type", "subtype", "text", "reply_to",
    "mentions", "time", "extra",
]
_compiled: dict[tuple[str, str], tuple[str, list[str], dict[str, Any]]] = {}


def _compile(conn: Connection, name: str, stmt: Any, columns: list[str]) -> tuple[str, list[str], dict[str, Any]]:
    key = (conn.dialect.name, name)
    entry = _compiled.get(key)
    if entry is None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=columns)
        order = list(compiled.positiontup) if compiled.positiontup else columns
        entry = _compiled[key] = (str(compiled), order, dict(compiled._bind_processors))
    return entry


def _executemany(conn: Connection, sql: str, params: list[Any]) -> int:
    if not params:
        return 0
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def executemany_fast(conn: Connection, name: str, stmt: Any, columns: list[str], rows: Sequence[dict[str, Any]]) -> int:
    """``cursor.executemany`` of a statement compiled once, with its type processors applied.

    SQLAlchemy's generic executemany path costs more per row than SQLite's own insert on bulk
    loads; this keeps the statement and types from SQLAlchemy and skips the per-call compile.
    Returns the driver's rowcount (rows changed).
    """
    if conn.dialect.name != "sqlite":  # server databases: SQLAlchemy's multi-row VALUES batches
        for start in range(0, len(rows), CHUNK):
            conn.execute(stmt, list(rows[start : start + CHUNK]))
        return len(rows)
    sql, order, procs = _compile(conn, name, stmt, columns)
    params: list[Any] = []
    for row in rows:
        values = {k: (procs[k](row[k]) if k in procs else row[k]) for k in order}
        params.append(tuple(values[k] for k in order) if conn.dialect.positional else values)
    return _executemany(conn, sql, params)


def write_events(conn: Connection, events: Sequence[Event]) -> WriteResult:
    """Insert events that are new, update groups/members/identities from them."""
    if conn.dialect.name == "sqlite":
        return _write_sqlite(conn, events)
    return _write_generic(conn, events)


def _dedupe(events: Sequence[Event]) -> list[Event]:
    """The first event of each key, in order (a batch may repeat an event)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for ev in events:
        key = ev.key
        if key in seen:
            continue
        seen.add(key)
        out.append(ev)
    return out


def _insert_events_sqlite(conn: Connection, events: Sequence[Event]) -> int:
    """One ``executemany`` of INSERT OR IGNORE (positional parameters); returns the rows written."""
    ins = _dialect_insert(conn, tbl(EventRow))
    stmt = ins.on_conflict_do_nothing(index_elements=["platform", "group_id", "message_id"])
    sql, order, _ = _compile(conn, "events", stmt, _EVENT_COLUMNS)
    assert order == _EVENT_COLUMNS, order
    ts = _time_param("sqlite")
    return _executemany(conn, sql, [event_params(ev, ts) for ev in events])


def _write_generic(conn: Connection, events: Sequence[Event]) -> WriteResult:
    """PostgreSQL (and any server database): ``INSERT ... ON CONFLICT DO NOTHING RETURNING``.

    SQLAlchemy sends it as multi-row VALUES statements ("insertmanyvalues"), and RETURNING tells
    exactly which keys were new, even with concurrent writers — no look-up before, no race after.
    """
    result = WriteResult()
    candidates = _dedupe(events)
    if not candidates:
        return result
    e = tbl(EventRow)
    stmt = (
        _dialect_insert(conn, e)
        .on_conflict_do_nothing(index_elements=["platform", "group_id", "message_id"])
        .returning(e.c.platform, e.c.group_id, e.c.message_id)
    )
    ts = _time_param(conn.dialect.name)
    new: set[tuple[str, str, str]] = set()
    for start in range(0, len(candidates), CHUNK):
        rows = [dict(zip(_EVENT_COLUMNS, event_params(ev, ts), strict=True))
                for ev in candidates[start : start + CHUNK]]
        new.update((r[0], r[1], r[2]) for r in conn.execute(stmt, rows))
    result.inserted = [ev for ev in candidates if ev.key in new]
    result.duplicates = len(events) - len(result.inserted)
    if not result.inserted:
        return result
    _update_groups(conn, result.inserted)
    _update_members(conn, result.inserted)
    _update_identities(conn, result.inserted)
    return result


def _write_sqlite(conn: Connection, events: Sequence[Event]) -> WriteResult:
    """SQLite: insert-or-ignore first, then learn what was new from the rowid range.

    The insert holds SQLite's single write lock until commit, so the rows it adds get consecutive
    rowids ending at ``max(id)``; members and identities are then aggregated by SQLite itself over
    that range, which is far cheaper than doing it row by row in Python.
    """
    result = WriteResult()
    candidates = _dedupe(events)
    if not candidates:
        return result
    written = _insert_events_sqlite(conn, candidates)
    e = tbl(EventRow)
    if written <= 0:
        result.duplicates = len(events)
        return result
    last = int(conn.execute(select(func.max(e.c.id))).scalar_one())
    first = last - written + 1
    if written == len(candidates):
        result.inserted = candidates
    else:
        new = {
            (r[0], r[1], r[2])
            for r in conn.execute(select(e.c.platform, e.c.group_id, e.c.message_id).where(e.c.id.between(first, last)))
        }
        result.inserted = [ev for ev in candidates if ev.key in new]
    result.duplicates = len(events) - len(result.inserted)
    result.id_range = (first, last)
    _update_groups(conn, result.inserted)
    conn.exec_driver_sql(_SQLITE_MEMBERS, (first, last, first, last))
    conn.exec_driver_sql(_SQLITE_IDENTITIES, (first, last))
    return result


# Aggregate the new rowid range [first, last] into members (SQLite's bare-column rule picks the
# user_name of the latest event in ``latest``).
_SQLITE_MEMBERS = """
WITH agg AS (
  SELECT platform, group_id, user_id,
         sum(type IN ('message', 'command')) AS messages,
         min(time) AS first_seen, max(time) AS last_seen,
         max(CASE WHEN type IN ('message', 'command') THEN time END) AS last_spoke,
         max(CASE WHEN type = 'join' THEN time END) AS joined_at,
         max(CASE WHEN type = 'leave' THEN time END) AS left_at
  FROM events WHERE id BETWEEN ? AND ? AND type != 'meta'
  GROUP BY platform, group_id, user_id
), latest AS (
  SELECT platform, group_id, user_id, user_name, max(time) AS t
  FROM events WHERE id BETWEEN ? AND ? AND user_name IS NOT NULL AND type != 'meta'
  GROUP BY platform, group_id, user_id
)
INSERT INTO members (platform, group_id, user_id, user_name, messages, first_seen, last_seen, last_spoke,
                     joined_at, left_at, status, is_admin)
SELECT agg.platform, agg.group_id, agg.user_id, latest.user_name, agg.messages, agg.first_seen, agg.last_seen,
       agg.last_spoke, agg.joined_at, agg.left_at,
       CASE WHEN agg.left_at IS NOT NULL AND (agg.joined_at IS NULL OR agg.left_at > agg.joined_at)
            THEN 'left' ELSE 'active' END,
       0
FROM agg LEFT JOIN latest USING (platform, group_id, user_id) WHERE true
ON CONFLICT (platform, group_id, user_id) DO UPDATE SET
  user_name = coalesce(excluded.user_name, members.user_name),
  messages = members.messages + excluded.messages,
  first_seen = min(coalesce(members.first_seen, excluded.first_seen), excluded.first_seen),
  last_seen = max(coalesce(members.last_seen, excluded.last_seen), excluded.last_seen),
  last_spoke = max(coalesce(members.last_spoke, excluded.last_spoke),
                   coalesce(excluded.last_spoke, members.last_spoke)),
  joined_at = max(coalesce(members.joined_at, excluded.joined_at), coalesce(excluded.joined_at, members.joined_at)),
  left_at = max(coalesce(members.left_at, excluded.left_at), coalesce(excluded.left_at, members.left_at)),
  status = CASE WHEN excluded.joined_at IS NULL AND excluded.left_at IS NULL THEN members.status
                ELSE excluded.status END
"""

_SQLITE_IDENTITIES = """
INSERT INTO identities (platform, user_id, user_name)
SELECT platform, user_id, user_name FROM (
  SELECT platform, user_id, user_name, max(id) FROM events
  WHERE id BETWEEN ? AND ? AND type != 'meta' GROUP BY platform, user_id
) WHERE true
ON CONFLICT (platform, user_id) DO UPDATE SET user_name = coalesce(excluded.user_name, identities.user_name)
"""


def _update_groups(conn: Connection, events: Sequence[Event]) -> None:
    groups: dict[tuple[str, str], str | None] = {}
    for ev in events:
        key = (ev.platform, ev.group_id)
        if ev.group_name or key not in groups:
            groups[key] = ev.group_name or groups.get(key)
    table = tbl(GroupRow)
    rows = [
        {"platform": p, "group_id": g, "name": name, "type": "general", "created_at": None}
        for (p, g), name in groups.items()
    ]
    ins = _dialect_insert(conn, table)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id"],
        set_={"name": func.coalesce(ins.excluded.name, table.c.name)},
    )
    conn.execute(stmt, rows)


def least(conn: Connection, a: Any, b: Any) -> Any:
    """SQL ``LEAST`` on every backend (SQLite spells it as the two-argument ``min``)."""
    return func.min(a, b) if conn.dialect.name == "sqlite" else func.least(a, b)


def greatest(conn: Connection, a: Any, b: Any) -> Any:
    """SQL ``GREATEST`` on every backend (SQLite: two-argument ``max``)."""
    return func.max(a, b) if conn.dialect.name == "sqlite" else func.greatest(a, b)


def _update_members(conn: Connection, events: Sequence[Event]) -> None:
    agg: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ev in events:
        if ev.type is EventType.META:
            continue
        key = (ev.platform, ev.group_id, ev.user_id)
        m = agg.get(key)
        t: datetime = ev.time
        if m is None:
            m = agg[key] = {
                "platform": ev.platform,
                "group_id": ev.group_id,
                "user_id": ev.user_id,
                "user_name": ev.user_name,
                "messages": 0,
                "first_seen": t,
                "last_seen": t,
                "last_spoke": None,
                "joined_at": None,
                "left_at": None,
                "status": "active",
                "is_admin": False,
                "_membership_t": None,
            }
        else:
            if t < m["first_seen"]:
                m["first_seen"] = t
            if t >= m["last_seen"]:
                m["last_seen"] = t
                if ev.user_name:
                    m["user_name"] = ev.user_name
        if not m["user_name"] and ev.user_name:
            m["user_name"] = ev.user_name
        typ = ev.type.value
        if typ in _ACTIVITY:
            m["messages"] += 1
            if m["last_spoke"] is None or t > m["last_spoke"]:
                m["last_spoke"] = t
        elif typ == "join":
            if m["joined_at"] is None or t > m["joined_at"]:
                m["joined_at"] = t
            if m["_membership_t"] is None or t >= m["_membership_t"]:
                m["_membership_t"], m["status"] = t, "active"
        elif typ == "leave":
            if m["left_at"] is None or t > m["left_at"]:
                m["left_at"] = t
            if m["_membership_t"] is None or t >= m["_membership_t"]:
                m["_membership_t"], m["status"] = t, "left"
    rows = []
    for m in agg.values():
        m.pop("_membership_t")
        rows.append(m)
    if not rows:
        return
    table = tbl(MemberRow)
    ins = _dialect_insert(conn, table)
    ex = ins.excluded
    c = table.c
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id", "user_id"],
        set_={
            "user_name": func.coalesce(ex.user_name, c.user_name),
            "messages": c.messages + ex.messages,
            "first_seen": least(conn, func.coalesce(c.first_seen, ex.first_seen), ex.first_seen),
            "last_seen": greatest(conn, func.coalesce(c.last_seen, ex.last_seen), ex.last_seen),
            "last_spoke": greatest(
                conn, func.coalesce(c.last_spoke, ex.last_spoke), func.coalesce(ex.last_spoke, c.last_spoke)
            ),
            "joined_at": greatest(
                conn, func.coalesce(c.joined_at, ex.joined_at), func.coalesce(ex.joined_at, c.joined_at)
            ),
            "left_at": greatest(conn, func.coalesce(c.left_at, ex.left_at), func.coalesce(ex.left_at, c.left_at)),
            # a join/leave newer than what we knew decides the status; plain messages keep it
            "status": literal_column("CASE WHEN excluded.joined_at IS NULL AND excluded.left_at IS NULL "
                                     "THEN members.status ELSE excluded.status END"),
        },
    )
    executemany_fast(conn, "members", stmt, _MEMBER_COLUMNS, rows)


_MEMBER_COLUMNS = [
    "platform", "group_id", "user_id", "user_name", "messages", "first_seen", "last_seen", "last_spoke",
    "joined_at", "left_at", "status", "is_admin",
]


def _update_identities(conn: Connection, events: Sequence[Event]) -> None:
    names: dict[tuple[str, str], str | None] = {}
    for ev in events:
        key = (ev.platform, ev.user_id)
        if ev.user_name or key not in names:
            names[key] = ev.user_name or names.get(key)
    table = tbl(IdentityRow)
    ins = _dialect_insert(conn, table)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "user_id"],
        set_={"user_name": func.coalesce(ins.excluded.user_name, table.c.user_name)},
    )
    rows = [{"platform": p, "user_id": u, "user_name": n} for (p, u), n in names.items()]
    executemany_fast(conn, "identities", stmt, ["platform", "user_id", "user_name"], rows)


def write_dead_letters(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Keep malformed input with its reason (``source``, ``line``, ``reason``, ``raw``, ``created_at``)."""
    if rows:
        conn.execute(insert(tbl(DeadLetterRow)), list(rows))
