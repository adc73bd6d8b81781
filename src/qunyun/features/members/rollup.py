"""The daily rollup projection: every batch of newly stored events → member_daily / member_edges.

Runs inside the storing transaction (live and imported events alike). The batch is aggregated in
Python first, then written with one upsert per chunk, so a 200k-event import pays a few seconds.
Replies are credited to the author of the replied-to message (looked up in the batch, then with one
query per group for the ids not in the batch); mentions to the mentioned member.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, literal_column, select, true

from qunyun.events import Event, EventType
from qunyun.features.members.tables import (
    ROLLUP_COUNTERS,
    MemberDailyRow,
    MemberEdgeRow,
    MemberScoreRow,
    ValuablePostRow,
    table,
)
from qunyun.store.tables import EventRow
from qunyun.store.writer import _dialect_insert, greatest, least

#: rows per upsert: member_daily has 25 columns and SQLite allows 32766 bound variables
CHUNK = 1000
COMMUNITY = "*"
_QUESTION = re.compile(r"[?？]|请问|怎么|如何|有没有|求助|为什么|为啥|哪里|多少|吗[。，,.!！]?$")
_CHECKIN_SUBTYPES = {"checkin", "check_in"}

Key = tuple[str, str, str, date]
_ZERO = timedelta(0)


def is_question(text: str | None) -> bool:
    return bool(text) and _QUESTION.search(text or "") is not None


_IDX = {name: i for i, name in enumerate(ROLLUP_COUNTERS)}
(_MSG, _CHARS, _QUEST, _RG, _RR, _HELP, _MG, _MR, _REG, _RER, _INV, _CHK, _JOIN, _LEAVE) = (
    _IDX[n]
    for n in (
        "messages",
        "chars",
        "questions",
        "replies_given",
        "replies_received",
        "helpful_replies",
        "mentions_given",
        "mentions_received",
        "reactions_given",
        "reactions_received",
        "invites",
        "checkins",
        "joins",
        "leaves",
    )
)
_EPOCH = date(1970, 1, 1)
_day_cache: dict[int, date] = {}


class _Acc:
    """Counters of one (member, group, day) within a batch (a list indexed like ROLLUP_COUNTERS)."""

    __slots__ = ("v", "minutes", "last_spoke")

    def __init__(self) -> None:
        self.v: list[float] = [0] * len(ROLLUP_COUNTERS)
        self.minutes: set[int] = set()
        self.last_spoke: datetime | None = None


#: message key → (author, text) of messages that may be replied to
Parents = dict[tuple[str, str, str], tuple[str, str | None]]


def _parent_lookup(conn: Connection, events: Sequence[Event]) -> Parents:
    """message key → (author, text) for every reply_to / reaction target of the batch."""
    in_batch: dict[tuple[str, str, str], Event] = {}
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    targets = []
    for ev in events:
        if ev.type is EventType.MESSAGE or ev.type is EventType.COMMAND:
            in_batch[(ev.platform, ev.group_id, ev.message_id)] = ev
        target = ev.reply_to or (_target(ev) if ev.type is EventType.REACTION else None)
        if target:
            targets.append((ev.platform, ev.group_id, target))
    known: Parents = {}
    for key in targets:
        found = in_batch.get(key)
        if found is not None:
            known[key] = (found.user_id, found.text)
        else:
            wanted[(key[0], key[1])].add(key[2])
    e = table(EventRow)
    for (platform, group_id), ids in wanted.items():
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            rows = conn.execute(
                select(e.c.message_id, e.c.user_id, e.c.text).where(
                    e.c.platform == platform, e.c.group_id == group_id, e.c.message_id.in_(chunk)
                )
            )
            for mid, uid, text in rows:
                known[(platform, group_id, mid)] = (uid, text)
    return known


def _target(ev: Event) -> str | None:
    """The message an event responds to: reply_to, or a reaction's target message."""
    if ev.reply_to:
        return ev.reply_to
    if ev.type is EventType.REACTION:
        raw = ev.raw or {}
        target = raw.get("target_message_id") or raw.get("message_id")
        return str(target) if target else None
    return None


def _inviter(ev: Event) -> str | None:
    raw = ev.raw or {}
    inviter = raw.get("invited_by") or raw.get("operator_id") or raw.get("inviter_id")
    if inviter is None:
        return None
    inviter = str(inviter)
    return inviter if inviter and inviter != ev.user_id else None


def aggregate(
    events: Iterable[Event], parents: Parents
) -> tuple[dict[Key, _Acc], dict[tuple[str, str, str, str, date], list[int]]]:
    """Fold a batch into per-(member, day) counters and per-(src, dst, day) interaction edges."""
    acc: dict[Key, _Acc] = {}
    edges: dict[tuple[str, str, str, str, date], list[int]] = {}
    question = _QUESTION.search

    def get(p: str, g: str, u: str, d: date) -> _Acc:
        a = acc.get((p, g, u, d))
        if a is None:
            a = acc[(p, g, u, d)] = _Acc()
        return a

    meta, message, command = EventType.META, EventType.MESSAGE, EventType.COMMAND
    day_cache = _day_cache
    last_ts: datetime | None = None
    minute = 0
    for ev in events:
        typ = ev.type
        if typ is meta:
            continue
        p, g, u, t = ev.platform, ev.group_id, ev.user_id, ev.time
        if t != last_ts:  # consecutive events often share a timestamp (minute-resolution logs)
            minute = int(t.timestamp()) // 60
            last_ts = t
        dn = minute // 1440
        d = day_cache.get(dn)
        if d is None:
            d = day_cache[dn] = _EPOCH + timedelta(days=dn)
        key = (p, g, u, d)
        a = acc.get(key)
        if a is None:
            a = acc[key] = _Acc()
        v = a.v
        if typ is message or typ is command:
            v[_MSG] += 1
            a.minutes.add(minute)
            text = ev.text
            if text:
                v[_CHARS] += len(text)
                if question(text):
                    v[_QUEST] += 1
            if a.last_spoke is None or t > a.last_spoke:
                a.last_spoke = t
            if ev.subtype in _CHECKIN_SUBTYPES:
                v[_CHK] += 1
            if ev.reply_to:
                v[_RG] += 1
                parent = parents.get((p, g, ev.reply_to))
                if parent is not None and parent[0] != u:
                    get(p, g, parent[0], d).v[_RR] += 1
                    if parent[1] and question(parent[1]):
                        v[_HELP] += 1
                    edge = edges.get((p, g, u, parent[0], d))
                    if edge is None:
                        edge = edges[(p, g, u, parent[0], d)] = [0, 0]
                    edge[0] += 1
            if ev.mentions:
                for target in set(ev.mentions):
                    if target == u:
                        continue
                    v[_MG] += 1
                    get(p, g, target, d).v[_MR] += 1
                    edge = edges.setdefault((p, g, u, target, d), [0, 0])
                    edge[1] += 1
        elif typ is EventType.JOIN:
            v[_JOIN] += 1
            inviter = _inviter(ev)
            if inviter:
                get(p, g, inviter, d).v[_INV] += 1
        elif typ is EventType.LEAVE:
            v[_LEAVE] += 1
        elif typ is EventType.REACTION:
            v[_REG] += 1
            rtarget = _target(ev)
            rparent = parents.get((p, g, rtarget)) if rtarget else None
            if rparent is not None and rparent[0] != u:
                get(p, g, rparent[0], d).v[_RER] += 1
    return acc, edges


def _daily_rows(acc: dict[Key, _Acc]) -> list[dict[str, Any]]:
    rows = []
    names = ROLLUP_COUNTERS
    for (p, g, u, d), a in acc.items():
        row: dict[str, Any] = dict(zip(names, a.v, strict=True))
        row.update(platform=p, group_id=g, user_id=u, day=d)
        mins = a.minutes
        row["active_minutes"] = len(mins)
        row["first_minute"] = min(mins) if mins else None
        row["last_minute"] = max(mins) if mins else None
        row["last_spoke"] = a.last_spoke
        rows.append(row)
    return rows


def upsert_daily(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add counters to member_daily (insert or accumulate). Public: features bump invites, points ..."""
    if not rows:
        return
    tbl = table(MemberDailyRow)
    ins = _dialect_insert(conn, tbl)
    ex, c = ins.excluded, tbl.c
    set_: dict[str, Any] = {name: c[name] + ex[name] for name in ROLLUP_COUNTERS}
    # a minute already counted by the previous batch (same minute at the seam) is not counted twice
    set_["active_minutes"] = (
        c.active_minutes
        + ex.active_minutes
        - case((c.last_minute == ex.first_minute, literal_column("1")), else_=literal_column("0"))
    )
    set_["first_minute"] = least(
        conn, func.coalesce(c.first_minute, ex.first_minute), func.coalesce(ex.first_minute, c.first_minute)
    )
    set_["last_minute"] = greatest(
        conn, func.coalesce(c.last_minute, ex.last_minute), func.coalesce(ex.last_minute, c.last_minute)
    )
    set_["last_spoke"] = greatest(
        conn, func.coalesce(c.last_spoke, ex.last_spoke), func.coalesce(ex.last_spoke, c.last_spoke)
    )
    stmt = ins.on_conflict_do_update(index_elements=["platform", "group_id", "user_id", "day"], set_=set_)
    full: list[dict[str, Any]] = []
    for r in rows:
        row: dict[str, Any] = {name: 0 for name in ROLLUP_COUNTERS}
        row.update({"first_minute": None, "last_minute": None, "last_spoke": None})
        row.update(r)
        full.append(row)
    full.sort(key=lambda r: (r["platform"], r["group_id"], r["user_id"], r["day"]))  # stable lock order (PG)
    bulk(conn, "members.daily", stmt, full, CHUNK)
    mark_dirty(conn, {(r["platform"], r["group_id"], r["user_id"]) for r in full})


def upsert_edges(conn: Connection, edges: dict[tuple[str, str, str, str, date], list[int]]) -> None:
    if not edges:
        return
    tbl = table(MemberEdgeRow)
    ins = _dialect_insert(conn, tbl)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id", "src", "dst", "day"],
        set_={
            "replies": tbl.c.replies + ins.excluded.replies,
            "mentions": tbl.c.mentions + ins.excluded.mentions,
        },
    )
    rows = [
        {"platform": p, "group_id": g, "src": s, "dst": t, "day": d, "replies": v[0], "mentions": v[1]}
        for (p, g, s, t, d), v in sorted(edges.items())
    ]
    bulk(conn, "members.edges", stmt, rows, CHUNK * 3)


def mark_dirty(conn: Connection, members: Iterable[tuple[str, str, str]]) -> None:
    """Flag members' scores as needing a refresh (their community-wide score follows, see refresh_scores)."""
    keys = sorted(set(members))
    if not keys:
        return
    tbl = table(MemberScoreRow)
    ins = _dialect_insert(conn, tbl)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id", "user_id"], set_={"dirty": true()}
    )
    rows = [
        {
            "platform": p,
            "group_id": g,
            "user_id": u,
            "score": 0.0,
            "score_active": 0.0,
            "anchor_day": None,
            "dirty": True,
            "computed_at": None,
        }
        for p, g, u in keys
    ]
    bulk(conn, "members.dirty", stmt, rows, CHUNK * 2)


def bulk(conn: Connection, name: str, stmt: Any, rows: list[dict[str, Any]], chunk: int) -> None:
    """executemany of an upsert: on SQLite the statement is compiled once and rows are passed as plain
    tuples (dates and times converted the way SQLAlchemy's SQLite types store them); chunked executes
    elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        for start in range(0, len(rows), chunk):
            conn.execute(stmt, rows[start : start + chunk])
        return
    columns = list(rows[0])
    key = (name, tuple(columns))
    entry = _sqlite_sql.get(key)
    if entry is None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=columns)
        entry = _sqlite_sql[key] = (str(compiled), list(compiled.positiontup or columns))
    sql, order = entry
    params = [tuple(_sqlite_value(row[k]) for k in order) for row in rows]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


_sqlite_sql: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.utcoffset():
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def project(conn: Connection, events: Sequence[Event]) -> None:
    """The projection registered by the members plugin."""
    parents = _parent_lookup(conn, events)
    acc, edges = aggregate(events, parents)
    upsert_daily(conn, _daily_rows(acc))
    upsert_edges(conn, edges)


def flag_valuable(
    conn: Connection, platform: str, group_id: str, message_id: str, flagged_by: str | None, now: datetime
) -> bool:
    """Staff flag a post as valuable (精华): its author earns ``valuable_post`` points once per message.

    Returns False when the post was already flagged; raises LookupError when no such message is stored.
    """
    e = table(EventRow)
    row = conn.execute(
        select(e.c.user_id, e.c.time).where(
            e.c.platform == platform, e.c.group_id == group_id, e.c.message_id == message_id
        )
    ).first()
    if row is None:
        raise LookupError(f"{platform}:{group_id}:{message_id}")
    vp = table(ValuablePostRow)
    res = conn.execute(
        _dialect_insert(conn, vp)
        .on_conflict_do_nothing(index_elements=["platform", "group_id", "message_id"])
        .returning(vp.c.message_id),
        {
            "platform": platform,
            "group_id": group_id,
            "message_id": message_id,
            "user_id": row.user_id,
            "flagged_by": flagged_by,
            "flagged_at": now,
        },
    ).first()
    if res is None:
        return False
    t = row.time if row.time.tzinfo else row.time.replace(tzinfo=UTC)
    upsert_daily(
        conn,
        [
            {
                "platform": platform,
                "group_id": group_id,
                "user_id": row.user_id,
                "day": t.astimezone(UTC).date(),
                "valuable_posts": 1,
            }
        ],
    )
    return True
