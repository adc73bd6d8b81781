"""The one write path for events: idempotent batch insert plus group/member counters.

``(platform, group_id, message_id)`` is unique, so writing the same event twice inserts nothing
the second time. Members' counters (messages, first/last seen) are updated only from events that
were really inserted, which keeps them exact across re-imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, literal_column
from sqlalchemy.dialects import postgresql, sqlite

from qunyun.events import Event, EventType
from qunyun.store.tables import DeadLetterRow, EventRow, GroupRow, IdentityRow, MemberRow

_ACTIVITY = {EventType.MESSAGE.value, EventType.COMMAND.value}
#: rows per INSERT statement; SQLite allows 32766 bound variables, events use 13 columns
CHUNK = 1000


@dataclass(slots=True)
class WriteResult:
    inserted: list[Event] = field(default_factory=list)
    duplicates: int = 0


def _dialect_insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database dialect {conn.dialect.name} is not supported")


def event_row(ev: Event) -> dict[str, Any]:
    extra: dict[str, Any] = dict(ev.raw) if ev.raw else {}
    if ev.segments:
        extra["segments"] = [s.model_dump(mode="json") for s in ev.segments]
    if ev.self_id:
        extra["self_id"] = ev.self_id
    return {
        "platform": ev.platform,
        "group_id": ev.group_id,
        "message_id": ev.message_id,
        "user_id": ev.user_id,
        "user_name": ev.user_name,
        "type": ev.type.value,
        "subtype": ev.subtype,
        "text": ev.text,
        "reply_to": ev.reply_to,
        "mentions": orjson.dumps(ev.mentions).decode() if ev.mentions else None,
        "time": ev.time,
        "extra": orjson.dumps(extra).decode() if extra else None,
    }


def write_events(conn: Connection, events: Sequence[Event]) -> WriteResult:
    """Insert events that are new, update groups/members/identities from them."""
    result = WriteResult()
    if not events:
        return result
    ins = _dialect_insert(conn, EventRow.__table__)
    stmt = ins.on_conflict_do_nothing(index_elements=["platform", "group_id", "message_id"]).returning(
        EventRow.__table__.c.platform, EventRow.__table__.c.group_id, EventRow.__table__.c.message_id
    )
    new_keys: set[tuple[str, str, str]] = set()
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        rows = [event_row(ev) for ev in chunk]
        for row in conn.execute(stmt, rows):
            new_keys.add((row[0], row[1], row[2]))
    seen: set[tuple[str, str, str]] = set()
    for ev in events:
        key = ev.key
        if key in new_keys and key not in seen:
            seen.add(key)
            result.inserted.append(ev)
    result.duplicates = len(events) - len(result.inserted)
    if result.inserted:
        _update_groups(conn, result.inserted)
        _update_members(conn, result.inserted)
        _update_identities(conn, result.inserted)
    return result


def _update_groups(conn: Connection, events: Sequence[Event]) -> None:
    groups: dict[tuple[str, str], str | None] = {}
    for ev in events:
        key = (ev.platform, ev.group_id)
        if ev.group_name or key not in groups:
            groups[key] = ev.group_name or groups.get(key)
    table = GroupRow.__table__
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


def _least(conn: Connection, a: Any, b: Any) -> Any:
    return func.min(a, b) if conn.dialect.name == "sqlite" else func.least(a, b)


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
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
    table = MemberRow.__table__
    ins = _dialect_insert(conn, table)
    ex = ins.excluded
    c = table.c
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id", "user_id"],
        set_={
            "user_name": func.coalesce(ex.user_name, c.user_name),
            "messages": c.messages + ex.messages,
            "first_seen": _least(conn, func.coalesce(c.first_seen, ex.first_seen), ex.first_seen),
            "last_seen": _greatest(conn, func.coalesce(c.last_seen, ex.last_seen), ex.last_seen),
            "last_spoke": _greatest(
                conn, func.coalesce(c.last_spoke, ex.last_spoke), func.coalesce(ex.last_spoke, c.last_spoke)
            ),
            "joined_at": _greatest(
                conn, func.coalesce(c.joined_at, ex.joined_at), func.coalesce(ex.joined_at, c.joined_at)
            ),
            "left_at": _greatest(conn, func.coalesce(c.left_at, ex.left_at), func.coalesce(ex.left_at, c.left_at)),
            # a join/leave newer than what we knew decides the status; plain messages keep it
            "status": literal_column("CASE WHEN excluded.joined_at IS NULL AND excluded.left_at IS NULL "
                                     "THEN members.status ELSE excluded.status END"),
        },
    )
    for start in range(0, len(rows), CHUNK):
        conn.execute(stmt, rows[start : start + CHUNK])


def _update_identities(conn: Connection, events: Sequence[Event]) -> None:
    names: dict[tuple[str, str], str | None] = {}
    for ev in events:
        key = (ev.platform, ev.user_id)
        if ev.user_name or key not in names:
            names[key] = ev.user_name or names.get(key)
    table = IdentityRow.__table__
    ins = _dialect_insert(conn, table)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "user_id"],
        set_={"user_name": func.coalesce(ins.excluded.user_name, table.c.user_name)},
    )
    rows = [{"platform": p, "user_id": u, "user_name": n} for (p, u), n in names.items()]
    for start in range(0, len(rows), CHUNK):
        conn.execute(stmt, rows[start : start + CHUNK])


def write_dead_letters(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Keep malformed input with its reason (``source``, ``line``, ``reason``, ``raw``, ``created_at``)."""
    if rows:
        conn.execute(insert(DeadLetterRow.__table__), list(rows))
