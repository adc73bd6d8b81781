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

from sqlalchemy import Connection, case, func, select

from qunyun.events import Event, EventType
from qunyun.features.members.tables import (
    ROLLUP_COUNTERS,
    MemberDailyRow,
    MemberEdgeRow,
    MemberScoreRow,
    table,
)
from qunyun.store.tables import EventRow
from qunyun.store.writer import _dialect_insert

#: rows per upsert: member_daily has 25 columns and SQLite allows 32766 bound variables
CHUNK = 1000
COMMUNITY = "*"
_QUESTION = re.compile(r"[?？]|请问|怎么|如何|有没有|求助|为什么|为啥|哪里|多少|吗[。，,.!！]?$")
_CHECKIN_SUBTYPES = {"checkin", "check_in"}

Key = tuple[str, str, str, date]
_ZERO = timedelta(0)


def is_question(text: str | None) -> bool:
    return bool(text) and _QUESTION.search(text or "") is not None


def _least(conn: Connection, a: Any, b: Any) -> Any:
    return func.min(a, b) if conn.dialect.name == "sqlite" else func.least(a, b)


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    return func.max(a, b) if conn.dialect.name == "sqlite" else func.greatest(a, b)


class _Acc:
    """Counters of one (member, group, day) within a batch."""

    __slots__ = ("c", "minutes", "last_spoke")

    def __init__(self) -> None:
        self.c: dict[str, float] = defaultdict(int)
        self.minutes: set[int] = set()
        self.last_spoke: datetime | None = None


def _parent_lookup(conn: Connection, events: Sequence[Event]) -> dict[tuple[str, str, str], tuple[str, bool]]:
    """message key → (author, was it a question) for every reply_to / reaction target of the batch."""
    known: dict[tuple[str, str, str], tuple[str, bool]] = {}
    for ev in events:
        if ev.is_activity:
            known[ev.key] = (ev.user_id, is_question(ev.text))
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ev in events:
        target = _target(ev)
        if target and (ev.platform, ev.group_id, target) not in known:
            wanted[(ev.platform, ev.group_id)].add(target)
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
                known[(platform, group_id, mid)] = (uid, is_question(text))
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
    events: Iterable[Event], parents: dict[tuple[str, str, str], tuple[str, bool]]
) -> tuple[dict[Key, _Acc], dict[tuple[str, str, str, str, date], list[int]]]:
    """Fold a batch into per-(member, day) counters and per-(src, dst, day) interaction edges."""
    acc: dict[Key, _Acc] = {}
    edges: dict[tuple[str, str, str, str, date], list[int]] = {}

    def get(p: str, g: str, u: str, d: date) -> _Acc:
        a = acc.get((p, g, u, d))
        if a is None:
            a = acc[(p, g, u, d)] = _Acc()
        return a

    for ev in events:
        typ = ev.type
        if typ is EventType.META:
            continue
        p, g, u, t = ev.platform, ev.group_id, ev.user_id, ev.time
        d = t.date() if t.utcoffset() == _ZERO else t.astimezone(UTC).date()
        a = get(p, g, u, d)
        c = a.c
        if typ is EventType.MESSAGE or typ is EventType.COMMAND:
            c["messages"] += 1
            a.minutes.add(int(t.timestamp()) // 60)
            text = ev.text
            if text:
                c["chars"] += len(text)
                if _QUESTION.search(text):
                    c["questions"] += 1
            if a.last_spoke is None or t > a.last_spoke:
                a.last_spoke = t
            if ev.subtype in _CHECKIN_SUBTYPES:
                c["checkins"] += 1
            if ev.reply_to:
                c["replies_given"] += 1
                parent = parents.get((p, g, ev.reply_to))
                if parent is not None and parent[0] != u:
                    get(p, g, parent[0], d).c["replies_received"] += 1
                    if parent[1]:
                        c["helpful_replies"] += 1
                    edge = edges.setdefault((p, g, u, parent[0], d), [0, 0])
                    edge[0] += 1
            if ev.mentions:
                for target in set(ev.mentions):
                    if target == u:
                        continue
                    c["mentions_given"] += 1
                    get(p, g, target, d).c["mentions_received"] += 1
                    edge = edges.setdefault((p, g, u, target, d), [0, 0])
                    edge[1] += 1
        elif typ is EventType.JOIN:
            c["joins"] += 1
            inviter = _inviter(ev)
            if inviter:
                get(p, g, inviter, d).c["invites"] += 1
        elif typ is EventType.LEAVE:
            c["leaves"] += 1
        elif typ is EventType.REACTION:
            c["reactions_given"] += 1
            rtarget = _target(ev)
            parent = parents.get((p, g, rtarget)) if rtarget else None
            if parent is not None and parent[0] != u:
                get(p, g, parent[0], d).c["reactions_received"] += 1
    return acc, edges


def _daily_rows(acc: dict[Key, _Acc]) -> list[dict[str, Any]]:
    rows = []
    for (p, g, u, d), a in acc.items():
        row: dict[str, Any] = {"platform": p, "group_id": g, "user_id": u, "day": d}
        for name in ROLLUP_COUNTERS:
            row[name] = a.c.get(name, 0)
        row["active_minutes"] = len(a.minutes)
        row["first_minute"] = min(a.minutes) if a.minutes else None
        row["last_minute"] = max(a.minutes) if a.minutes else None
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
        c.active_minutes + ex.active_minutes - case((c.last_minute == ex.first_minute, 1), else_=0)
    )
    set_["first_minute"] = _least(
        conn, func.coalesce(c.first_minute, ex.first_minute), func.coalesce(ex.first_minute, c.first_minute)
    )
    set_["last_minute"] = _greatest(
        conn, func.coalesce(c.last_minute, ex.last_minute), func.coalesce(ex.last_minute, c.last_minute)
    )
    set_["last_spoke"] = _greatest(
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
    for start in range(0, len(full), CHUNK):
        conn.execute(stmt, full[start : start + CHUNK])
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
    for start in range(0, len(rows), CHUNK * 3):
        conn.execute(stmt, rows[start : start + CHUNK * 3])


def mark_dirty(conn: Connection, members: Iterable[tuple[str, str, str]]) -> None:
    """Flag scores (per group and community-wide) as needing a refresh."""
    keys = set()
    for p, g, u in members:
        keys.add((p, g, u))
        keys.add((p, COMMUNITY, u))
    if not keys:
        return
    tbl = table(MemberScoreRow)
    ins = _dialect_insert(conn, tbl)
    stmt = ins.on_conflict_do_update(index_elements=["platform", "group_id", "user_id"], set_={"dirty": True})
    rows = [
        {
            "platform": p,
            "group_id": g,
            "user_id": u,
            "score": 0.0,
            "anchor_day": None,
            "dirty": True,
            "computed_at": None,
        }
        for p, g, u in sorted(keys)
    ]
    for start in range(0, len(rows), CHUNK * 2):
        conn.execute(stmt, rows[start : start + CHUNK * 2])


def project(conn: Connection, events: Sequence[Event]) -> None:
    """The projection registered by the members plugin."""
    parents = _parent_lookup(conn, events)
    acc, edges = aggregate(events, parents)
    upsert_daily(conn, _daily_rows(acc))
    upsert_edges(conn, edges)
