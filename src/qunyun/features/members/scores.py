"""Activity score (活跃度): a weighted, exponentially decayed sum of a member's daily activity.

For one member in one group (or community-wide, ``group_id='*'``), with ``R`` the reference day::

    credit(d) = w.message * active_minutes(d) + w.extra_message * (messages(d) - active_minutes(d))
              + w.reply_given * replies_given(d) + w.reply_received * replies_received(d)
              + w.mention_received * mentions_received(d) + w.reaction_received * reactions_received(d)
              + w.invite * invites(d) + w.checkin * checkins(d) + w.valuable_post * valuable_posts(d)
    score(R)  = sum over days d <= R of credit(d) * 0.5 ** ((R - d) / half_life_days)

The first message of a minute earns ``message`` points and each further one in that minute only
``extra_message`` (anti-farming). Stored scores are anchored at the member's last active day
(``score(anchor)``), so reading at any later reference day is one multiplication, and new activity
only needs the affected members recomputed (``dirty`` rows). Weights or half-life changed: the stored
fingerprint differs and everything is recomputed.

Each score is stored twice: with ``R - d`` in calendar days (``score``) and in the group's active
days (``score_active``, see :mod:`qunyun.features.members.clock`); ``[features.members] clock``
picks which one is read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, false, func, literal_column, select, update

from qunyun.events import utcnow
from qunyun.features.members.clock import ActiveDayClock, Clock
from qunyun.features.members.config import MembersConfig, Weights
from qunyun.features.members.rollup import COMMUNITY, bulk
from qunyun.features.members.tables import MemberDailyRow, MemberScoreRow, table
from qunyun.store.tables import KeyValueRow, MemberRow
from qunyun.store.writer import _dialect_insert

FINGERPRINT_KEY = "members.score_fingerprint"
_COLS = (
    "messages",
    "active_minutes",
    "replies_given",
    "replies_received",
    "mentions_received",
    "reactions_received",
    "invites",
    "checkins",
    "valuable_posts",
)


def credit(w: Weights, row: Any) -> float:
    """Points earned on one day (see the module docstring)."""
    messages, minutes, rg, rr, mr, react, inv, chk, val = row
    return (
        w.message * minutes
        + w.extra_message * max(0, messages - minutes)
        + w.reply_given * rg
        + w.reply_received * rr
        + w.mention_received * mr
        + w.reaction_received * react
        + w.invite * inv
        + w.checkin * chk
        + w.valuable_post * val
    )


def decay(score: float, anchor: date | None, reference: date, half_life: float) -> float:
    """A score anchored at ``anchor`` as seen on ``reference``."""
    if anchor is None or score == 0:
        return 0.0
    age = (reference - anchor).days
    return score * 0.5 ** (age / half_life) if age > 0 else score


def _stored_fingerprint(conn: Connection) -> str | None:
    value = conn.execute(select(KeyValueRow.value).where(KeyValueRow.key == FINGERPRINT_KEY)).scalar()
    return value.get("fingerprint") if isinstance(value, dict) else None


def _store_fingerprint(conn: Connection, fingerprint: str, now: datetime) -> None:
    kv = table(KeyValueRow)
    ins = _dialect_insert(conn, kv)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at}
        ),
        {"key": FINGERPRINT_KEY, "value": {"fingerprint": fingerprint}, "updated_at": now},
    )


def _credit_coefficients(w: Weights) -> np.ndarray:
    """credit(d) as a dot product with the ``_COLS`` columns (see :func:`credit`)."""
    return np.array(
        [
            w.extra_message,  # messages
            w.message - w.extra_message,  # active_minutes: first message of a minute earns the full weight
            w.reply_given,
            w.reply_received,
            w.mention_received,
            w.reaction_received,
            w.invite,
            w.checkin,
            w.valuable_post,
        ]
    )


def _fetch(conn: Connection, full: bool, coef: np.ndarray) -> list[Any]:
    """(platform, group_id, user_id, day, credit) rollup rows to score: all of them, or every row of the
    members with a dirty score. The credit is computed by the database; on SQLite the rows are read
    with the driver's own fetchall (SQLAlchemy's per-row processing costs more than the query)."""
    d, s = table(MemberDailyRow), table(MemberScoreRow)
    credit_expr = sum(
        (d.c[name] * literal_column(repr(float(k))) for name, k in zip(_COLS, coef, strict=True)),
        literal_column("0.0"),
    )
    cols = [d.c.platform, d.c.group_id, d.c.user_id, d.c.day, credit_expr]
    queries = []
    if full:
        queries.append(select(*cols))
    else:
        users: dict[str, list[str]] = defaultdict(list)
        for p, u in conn.execute(
            select(s.c.platform, s.c.user_id).where(s.c.dirty.is_(True), s.c.group_id != COMMUNITY).distinct()
        ):
            users[p].append(u)
        for platform, ids in users.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                queries.append(select(*cols).where(d.c.platform == platform, d.c.user_id.in_(chunk)))
    rows: list[Any] = []
    for q in queries:
        if conn.dialect.name == "sqlite":
            compiled = q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled))
                rows.extend(cursor.fetchall())
            finally:
                cursor.close()
        else:
            rows.extend(conn.execute(q))
    return rows


def _ordinal(value: Any) -> int:
    return (date.fromisoformat(value) if isinstance(value, str) else value).toordinal()  # type: ignore[no-any-return]


def _decayed(
    codes: np.ndarray, n: int, day: np.ndarray, idx: np.ndarray, credit_v: np.ndarray, hl: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key: (anchor day ordinal, calendar-decayed score, active-day-decayed score) at the anchor."""
    anchor = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(anchor, codes, day)
    anchor_idx = np.zeros(n, dtype=np.int64)
    np.maximum.at(anchor_idx, codes, idx)
    cal = np.bincount(codes, weights=credit_v * 0.5 ** ((anchor[codes] - day) / hl), minlength=n)
    act = np.bincount(codes, weights=credit_v * 0.5 ** ((anchor_idx[codes] - idx) / hl), minlength=n)
    return anchor, cal, act


_SQLITE_UPSERT = (
    "INSERT INTO member_scores (platform, group_id, user_id, score, score_active, anchor_day, dirty, computed_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (platform, group_id, user_id) DO UPDATE SET"
    " score = excluded.score, score_active = excluded.score_active, anchor_day = excluded.anchor_day,"
    " dirty = 0, computed_at = excluded.computed_at"
)


def _write_sqlite(conn: Connection, out: list[dict[str, Any]], now: datetime) -> None:
    """The score upsert with plain tuples (dates stored as SQLAlchemy's SQLite types store them)."""
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    params = [
        (
            r["platform"],
            r["group_id"],
            r["user_id"],
            r["score"],
            r["score_active"],
            r["anchor_day"].isoformat(),
            stamp,
        )
        for r in out
    ]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(_SQLITE_UPSERT, params)
    finally:
        cursor.close()


def refresh_scores(
    conn: Connection, cfg: MembersConfig, *, full: bool = False, now: datetime | None = None
) -> int:
    """Recompute dirty scores (or all of them); returns how many score rows were written.

    Vectorised with numpy: one pass over the rollup rows, grouped by member (per group and
    community-wide), so 2M rollup rows (10M messages) take seconds, not minutes.
    """
    now = now or utcnow()
    fingerprint = cfg.score_fingerprint()
    if _stored_fingerprint(conn) != fingerprint:
        full = True
    s = table(MemberScoreRow)
    rows = _fetch(conn, full, _credit_coefficients(cfg.weights))
    out: list[dict[str, Any]] = []
    if rows:
        hl = cfg.half_life_days
        n_rows = len(rows)
        day_ord: dict[Any, int] = {}
        day = np.fromiter(
            (day_ord[r[3]] if r[3] in day_ord else day_ord.setdefault(r[3], _ordinal(r[3])) for r in rows),
            dtype=np.int64,
            count=n_rows,
        )
        credit_v = np.fromiter((r[4] for r in rows), dtype=np.float64, count=n_rows)
        clocks = active_clocks(conn)
        for community in (False, True):
            keymap: dict[tuple[str, str, str], int] = {}
            if community:
                codes_l = [keymap.setdefault((r[0], COMMUNITY, r[2]), len(keymap)) for r in rows]
            else:
                codes_l = [keymap.setdefault((r[0], r[1], r[2]), len(keymap)) for r in rows]
            codes = np.array(codes_l, dtype=np.int64)
            # position of each row's day among its group's (or platform's) active days
            idx = np.zeros(n_rows, dtype=np.int64)
            group_of = [(r[0], COMMUNITY if community else r[1]) for r in rows]
            by_group: dict[tuple[str, str], list[int]] = defaultdict(list)
            for i, gk in enumerate(group_of):
                by_group[gk].append(i)
            for gk, positions in by_group.items():
                clock = clocks.get(gk)
                pos = np.array(positions, dtype=np.int64)
                if clock is None or not clock.days:
                    idx[pos] = day[pos]
                else:
                    ordinals = np.array([x.toordinal() for x in clock.days], dtype=np.int64)
                    idx[pos] = np.searchsorted(ordinals, day[pos], side="right")
            anchor, cal, act = _decayed(codes, len(keymap), day, idx, credit_v, hl)
            for (p, g, u), k in keymap.items():
                out.append(
                    {
                        "platform": p,
                        "group_id": g,
                        "user_id": u,
                        "score": round(float(cal[k]), 6),
                        "score_active": round(float(act[k]), 6),
                        "anchor_day": date.fromordinal(int(anchor[k])),
                        "dirty": False,
                        "computed_at": now,
                    }
                )
    if full:
        conn.execute(
            update(s).values(score=0.0, score_active=0.0, anchor_day=None, dirty=False, computed_at=now)
        )
    ins = _dialect_insert(conn, s)
    stmt = ins.on_conflict_do_update(
        index_elements=["platform", "group_id", "user_id"],
        set_={
            "score": ins.excluded.score,
            "score_active": ins.excluded.score_active,
            "anchor_day": ins.excluded.anchor_day,
            "dirty": false(),
            "computed_at": ins.excluded.computed_at,
        },
    )
    out.sort(key=lambda r: (r["platform"], r["group_id"], r["user_id"]))
    if conn.dialect.name == "sqlite" and out:
        _write_sqlite(conn, out, now)
    else:
        bulk(conn, "members.scores", stmt, out, 2000)
    if not full:
        conn.execute(update(s).where(s.c.dirty.is_(True)).values(dirty=False, computed_at=now))
    _store_fingerprint(conn, fingerprint, now)
    return len(out)


def needs_refresh(conn: Connection, cfg: MembersConfig) -> bool:
    s = table(MemberScoreRow)
    if _stored_fingerprint(conn) != cfg.score_fingerprint():
        return conn.execute(select(func.count()).select_from(table(MemberDailyRow))).scalar_one() > 0
    return conn.execute(select(s.c.user_id).where(s.c.dirty.is_(True)).limit(1)).first() is not None


def ensure_scores(engine_conn: Connection, cfg: MembersConfig) -> None:
    """Refresh dirty scores in their own transaction (callers may hold a read-only connection)."""
    with engine_conn.engine.connect() as probe:
        if not needs_refresh(probe, cfg):
            return
    with engine_conn.engine.begin() as conn:
        refresh_scores(conn, cfg)


def reference_time(
    conn: Connection,
    cfg: MembersConfig,
    platform: str | None = None,
    group_id: str | None = None,
    now: datetime | None = None,
) -> tuple[datetime, str]:
    """(reference time, which rule picked it): 'now', or the last activity when the data is historic."""
    now = now or utcnow()
    if cfg.reference == "now":
        return now, "now"
    m = table(MemberRow)
    conds = []
    if platform is not None:
        conds.append(m.c.platform == platform)
    if group_id is not None:
        conds.append(m.c.group_id == group_id)
    last = conn.execute(select(func.max(m.c.last_seen)).where(*conds)).scalar()
    if last is None:
        return now, "now"
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if cfg.reference == "last_event" or now - last > timedelta(days=cfg.historic_after_days):
        return last, "last_event"
    return now, "now"


def active_clocks(
    conn: Connection, platform: str | None = None, group_id: str | None = None
) -> dict[tuple[str, str], ActiveDayClock]:
    """(platform, group_id) → the group's active-day clock; (platform, '*') → the whole platform's."""
    d = table(MemberDailyRow)
    conds = [d.c.messages > 0]
    if platform is not None:
        conds.append(d.c.platform == platform)
    if group_id is not None and group_id != COMMUNITY:
        conds.append(d.c.group_id == group_id)
    per: dict[tuple[str, str], set[date]] = defaultdict(set)
    for p, g, day in conn.execute(select(d.c.platform, d.c.group_id, d.c.day).where(*conds).distinct()):
        per[(p, g)].add(day)
        per[(p, COMMUNITY)].add(day)
    return {k: ActiveDayClock(v) for k, v in per.items()}


def pick_clock(conn: Connection, cfg: MembersConfig, platform: str, group_id: str, rule: str) -> Clock:
    """The clock for reading one group: ``cfg.clock``, or in 'auto' active days for historic data."""
    kind = cfg.clock
    if kind == "auto":
        kind = "active_days" if rule == "last_event" else "calendar"
    if kind == "calendar":
        return Clock()
    return active_clocks(conn, platform, group_id).get((platform, group_id)) or ActiveDayClock([])


def scores_for(
    conn: Connection,
    cfg: MembersConfig,
    platform: str,
    group_id: str,
    reference: date,
    clock: Clock | None = None,
) -> dict[str, float]:
    """user_id → score on the reference day, for one group (or ``'*'`` = community-wide)."""
    s = table(MemberScoreRow)
    clock = clock or Clock()
    column = s.c.score_active if clock.kind == "active_days" else s.c.score
    rows = conn.execute(
        select(s.c.user_id, column, s.c.anchor_day).where(s.c.platform == platform, s.c.group_id == group_id)
    )
    hl = cfg.half_life_days
    out = {}
    for u, score, anchor in rows:
        if anchor is None or not score:
            out[u] = 0.0
        else:
            out[u] = score * 0.5 ** (clock.dist(anchor, reference) / hl) if anchor < reference else score
    return out
