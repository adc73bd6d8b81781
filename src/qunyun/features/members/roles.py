"""Roles (角色) with a reason in zh-CN and English and the numbers behind it.

Decided in this order (the first that applies wins), all relative to the reference time ``R``
(now, or the group's last activity for historic imports); "days" are calendar days or the group's
active days, per ``[features.members] clock`` (see :mod:`qunyun.features.members.clock`):

1. **admin** — flagged admin by the platform, or listed in ``[features.members] admins``.
2. **newcomer** — joined (or first seen) less than ``newcomer_days`` before R.
3. **silent** — last spoke ``silent_min_days``–``silent_max_days`` before R, and in the 28 days before
   going quiet posted, on at least ``silent_min_active_days`` days, as many messages as the top quarter
   (``silent_top_quantile``) of the group's members post in the window.
4. **kol** — others reply to and mention them: PageRank over the reply+mention graph of the last
   ``kol_window_days`` in the top ``kol_top_pct``, with at least ``kol_min_people`` distinct people and
   ``kol_min_interactions`` replies/mentions received, and still speaking in the window. Message count
   alone never makes a KOL.
5. **core** — the top ``core_top_pct`` (share of the window's speakers) by activity score among the
   speakers not already admin/newcomer/silent/KOL, with at
   least ``core_min_messages`` messages on ``core_min_active_days`` days in the window.
6. **lurker** — member for at least ``lurker_min_tenure_days`` with at most ``lurker_max_messages``
   messages in the window and at most ``lurker_max_total_messages`` ever ("almost no messages").
7. **regular** — everyone else, including contributors who went quiet longer ago than ``silent_max_days``
   (their reason says so).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import networkx as nx
from sqlalchemy import Connection, func, select

from qunyun.features.members.config import MembersConfig, RoleThresholds
from qunyun.features.members.scores import ensure_scores, pick_clock, reference_time, scores_for
from qunyun.features.members.tables import MemberDailyRow, MemberEdgeRow, table
from qunyun.i18n import both, t
from qunyun.store.queries import GroupRef
from qunyun.store.tables import GroupRow, MemberRow

ROLES = ("admin", "kol", "core", "regular", "lurker", "newcomer", "silent")
#: roles decided before the score ranking (core is the top of what is left)
HIGH_ROLES = frozenset({"admin", "newcomer", "silent", "kol"})
PRE_SILENCE_DAYS = 28


@dataclass(slots=True)
class Insight:
    """What the members feature knows about one member of one group."""

    user_id: str
    score: float = 0.0
    role: str = "regular"
    reason_zh: str = ""
    reason_en: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    reason_key: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Stats:
    window_messages: int = 0
    window_days: int = 0
    pre_silence_messages: int = 0
    pre_silence_days: int = 0
    last_active: date | None = None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _pagerank(edges: dict[tuple[str, str], float]) -> dict[str, float]:
    if not edges:
        return {}
    graph = nx.DiGraph()
    graph.add_weighted_edges_from((s, t, w) for (s, t), w in edges.items())
    try:
        return dict(nx.pagerank(graph, alpha=0.85, weight="weight", max_iter=200, tol=1e-8))
    except nx.PowerIterationFailedConvergence:
        total: dict[str, float] = defaultdict(float)
        for (_s, t), w in edges.items():
            total[t] += w
        norm = sum(total.values()) or 1.0
        return {k: v / norm for k, v in total.items()}


def _quantile(values: list[int], q: float) -> float:
    if not values:
        return math.inf
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def group_type(conn: Connection, ref: GroupRef) -> str:
    g = table(GroupRow)
    value = conn.execute(
        select(g.c.type).where(g.c.platform == ref.platform, g.c.group_id == ref.group_id)
    ).scalar()
    return value or "general"


def compute_insights(
    conn: Connection,
    ref: GroupRef,
    members: list[dict[str, Any]],
    cfg: MembersConfig,
    *,
    now: datetime | None = None,
) -> tuple[dict[str, Insight], dict[str, Any]]:
    """Score, role and reason for each of ``members`` (rows of the members table) of one group."""
    from qunyun.features.members.rebuild import rebuild_rollup, rollup_missing

    if rollup_missing(conn, ref):  # events stored before the plugin was installed: build it once
        rebuild_rollup(conn.engine, ref)
    ensure_scores(conn, cfg)
    # a fresh connection: the caller's may hold an older snapshot than the refresh we just committed
    with conn.engine.connect() as rc:
        return _compute(rc, ref, members, cfg, now)


def _compute(
    conn: Connection, ref: GroupRef, members: list[dict[str, Any]], cfg: MembersConfig, now: datetime | None
) -> tuple[dict[str, Insight], dict[str, Any]]:
    R, rule = reference_time(conn, cfg, ref.platform, ref.group_id, now)
    r_day = R.date()
    r_iso = R.isoformat()
    gtype = group_type(conn, ref)
    th = cfg.roles_for(gtype)
    clock = pick_clock(conn, cfg, ref.platform, ref.group_id, rule)
    scores = scores_for(conn, cfg, ref.platform, ref.group_id, r_day, clock)

    # -- activity in the window, one aggregate query ----------------------------------------------
    win_start = clock.start(r_day, th.window_days)
    d = table(MemberDailyRow)
    stats: dict[str, _Stats] = {}
    for uid, msgs, ndays, last in conn.execute(
        select(d.c.user_id, func.sum(d.c.messages), func.count(), func.max(d.c.day))
        .where(
            d.c.platform == ref.platform,
            d.c.group_id == ref.group_id,
            d.c.day >= win_start,
            d.c.day <= r_day,
            d.c.messages > 0,
        )
        .group_by(d.c.user_id)
    ):
        if isinstance(last, str):
            last = date.fromisoformat(last)
        stats[uid] = _Stats(window_messages=int(msgs), window_days=int(ndays), last_active=last)
    # 'was in the top quarter': compared with the group's distribution of messages in the window
    silent_cut = max(
        float(th.silent_min_messages),
        _quantile([st.window_messages for st in stats.values()], th.silent_top_quantile),
    )
    # messages in the 28 days before going quiet, only for those who went quiet 7-28 days ago
    candidates = [
        u
        for u, st in stats.items()
        if st.last_active is not None
        and th.silent_min_days <= clock.dist(st.last_active, r_day) <= th.silent_max_days
    ]
    starts: dict[date, date] = {}
    for i in range(0, len(candidates), 500):
        chunk = candidates[i : i + 500]
        for uid, day, msgs in conn.execute(
            select(d.c.user_id, d.c.day, d.c.messages).where(
                d.c.platform == ref.platform,
                d.c.group_id == ref.group_id,
                d.c.user_id.in_(chunk),
                d.c.day >= clock.start(r_day, th.silent_max_days + PRE_SILENCE_DAYS + 1),
                d.c.day <= r_day,
            )
        ):
            st = stats[uid]
            assert st.last_active is not None
            begin = starts.get(st.last_active)
            if begin is None:
                begin = starts[st.last_active] = clock.start(st.last_active, PRE_SILENCE_DAYS)
            if day >= begin and msgs > 0:
                st.pre_silence_messages += msgs
                st.pre_silence_days += 1

    # -- KOL: centrality on the reply + mention graph ---------------------------------------------
    e = table(MemberEdgeRow)
    edges: dict[tuple[str, str], float] = defaultdict(float)
    received: dict[str, int] = defaultdict(int)
    people: dict[str, set[str]] = defaultdict(set)
    for src, dst, replies, mentions in conn.execute(
        select(e.c.src, e.c.dst, e.c.replies, e.c.mentions).where(
            e.c.platform == ref.platform,
            e.c.group_id == ref.group_id,
            e.c.day >= clock.start(r_day, th.kol_window_days),
            e.c.day <= r_day,
        )
    ):
        n = replies + mentions
        edges[(src, dst)] += n
        received[dst] += n
        people[dst].add(src)
    pr = _pagerank(edges)
    ranked = sorted(pr, key=lambda u: (-pr[u], u))
    pr_rank = {u: i + 1 for i, u in enumerate(ranked)}
    kol_speakers = len({s for s, _ in edges} | set(received))
    kol_slots = max(1, math.ceil(th.kol_top_pct * kol_speakers))

    timings: dict[str, tuple[int, int | None]] = {}

    def timing(m: dict[str, Any]) -> tuple[int, int | None]:
        """(tenure, days since the last message) in the clock's days (computed once per member)."""
        found = timings.get(m["user_id"])
        if found is None:
            found = timings[m["user_id"]] = _timing(m)
        return found

    def _timing(m: dict[str, Any]) -> tuple[int, int | None]:
        last_spoke = _aware(m.get("last_spoke"))
        # first_seen, not joined_at: the writer keeps the *latest* join, and a member who rejoins
        # (IRC reconnects) is not a newcomer
        seen = [t for t in (_aware(m.get("first_seen")), _aware(m.get("joined_at"))) if t is not None]
        joined = min(seen) if seen else R
        tenure = clock.dist(joined.date(), r_day)
        return tenure, clock.dist(last_spoke.date(), r_day) if last_spoke else None

    def is_high(m: dict[str, Any]) -> bool:
        """admin, newcomer, silent or KOL (the same tests as _decide, without building a reason)."""
        uid = m["user_id"]
        if m.get("is_admin") or cfg.is_admin(ref.platform, ref.group_id, uid):
            return True
        tenure, quiet_days = timing(m)
        st = stats.get(uid, _Stats())
        return (
            tenure < th.newcomer_days
            or _is_silent(st, quiet_days, th, silent_cut)
            or _is_kol(st, pr_rank.get(uid), kol_slots, received.get(uid, 0), len(people.get(uid, ())), th)
        )

    def evaluate(m: dict[str, Any], score_rank: dict[str, int], core_slots: int, speakers: int) -> Insight:
        uid = m["user_id"]
        ins = Insight(user_id=uid, score=round(scores.get(uid, 0.0), 2))
        st = stats.get(uid, _Stats())
        tenure, quiet_days = timing(m)
        nums: dict[str, Any] = {
            "score": ins.score,
            "messages": int(m.get("messages") or 0),
            "window_days": th.window_days,
            "window_messages": st.window_messages,
            "active_days": st.window_days,
            "tenure_days": tenure,
            "days_since_last_message": quiet_days,
            "reference": r_iso,
            "reference_rule": rule,
            "group_type": gtype,
            "clock": clock.kind,
        }
        ins.evidence = nums
        _decide(
            ins,
            m,
            th,
            cfg,
            ref,
            nums,
            st=st,
            tenure=tenure,
            quiet_days=quiet_days,
            silent_cut=silent_cut,
            pr=pr,
            pr_rank=pr_rank,
            kol_slots=kol_slots,
            received=received,
            people=people,
            score_rank=score_rank,
            core_slots=core_slots,
            speakers=speakers,
        )
        return ins

    # -- core: top by score among the window's speakers not already admin/newcomer/silent/kol ---------
    speakers = [u for u, st in stats.items() if st.window_messages > 0]
    m_t = table(MemberRow)
    given = {m["user_id"]: m for m in members}
    speaker_rows = [given[u] for u in speakers if u in given]
    missing = [u for u in speakers if u not in given]
    for i in range(0, len(missing), 500):
        for row in conn.execute(
            select(m_t.c.user_id, m_t.c.first_seen, m_t.c.joined_at, m_t.c.last_spoke, m_t.c.is_admin).where(
                m_t.c.platform == ref.platform,
                m_t.c.group_id == ref.group_id,
                m_t.c.user_id.in_(missing[i : i + 500]),
            )
        ):
            speaker_rows.append(dict(row._mapping))
    rest = [m["user_id"] for m in speaker_rows if not is_high(m)]
    rest.sort(key=lambda u: (-scores.get(u, 0.0), u))
    score_rank = {u: i + 1 for i, u in enumerate(rest)}
    core_slots = max(1, math.ceil(th.core_top_pct * len(speakers))) if speakers else 0

    out = {m["user_id"]: _explain(evaluate(m, score_rank, core_slots, len(rest))) for m in members}
    meta = {
        "reference": R,
        "reference_rule": rule,
        "group_type": gtype,
        "clock": clock.kind,
        "speakers": len(speakers),
        "kol_slots": kol_slots,
        "core_slots": core_slots,
        "silent_cut": silent_cut,
    }
    return out, meta


def _is_silent(st: _Stats, quiet_days: int | None, th: RoleThresholds, cut: float) -> bool:
    return (
        quiet_days is not None
        and th.silent_min_days <= quiet_days <= th.silent_max_days
        and st.pre_silence_messages >= cut
        and st.pre_silence_days >= th.silent_min_active_days  # a regular, not a one-day visitor
    )


def _is_kol(st: _Stats, rank: int | None, slots: int, received: int, people: int, th: RoleThresholds) -> bool:
    return (
        rank is not None
        and rank <= slots
        and people >= th.kol_min_people
        and received >= th.kol_min_interactions
        and st.window_messages > th.lurker_max_messages  # still around: a KOL who left is no KOL now
    )


def _set(ins: Insight, role: str, key: str, **params: Any) -> None:
    """Decide the role; the reason texts are formatted later, only for the members returned."""
    ins.role = role
    ins.reason_key = key
    ins.reason_params = params


def _explain(ins: Insight) -> Insight:
    unit = ins.evidence.get("clock", "calendar")
    zh_unit, en_unit = both(f"members.unit.{unit}")
    key = f"members.reason.{ins.reason_key}"
    ins.reason_zh = _template(key, "zh-CN").format(unit=zh_unit, **ins.reason_params)
    ins.reason_en = _template(key, "en").format(unit=en_unit, **ins.reason_params)
    return ins


@lru_cache(maxsize=256)
def _template(key: str, lang: str) -> str:
    """The catalog text (formatted per member; looked up once)."""
    return t(key, lang)


def _decide(
    ins: Insight,
    m: dict[str, Any],
    th: RoleThresholds,
    cfg: MembersConfig,
    ref: GroupRef,
    nums: dict[str, Any],
    *,
    st: _Stats,
    tenure: int,
    quiet_days: int | None,
    silent_cut: float,
    pr: dict[str, float],
    pr_rank: dict[str, int],
    kol_slots: int,
    received: dict[str, int],
    people: dict[str, set[str]],
    score_rank: dict[str, int],
    core_slots: int,
    speakers: int,
) -> None:
    uid = m["user_id"]
    msgs = nums["messages"]
    if m.get("is_admin") or cfg.is_admin(ref.platform, ref.group_id, uid):
        source = (
            "platform"
            if m.get("is_admin")
            else "bot"
            if cfg.is_bot(ref.platform, ref.group_id, uid)
            else "config"
        )
        nums["admin_source"] = source
        _set(ins, "admin", f"admin_{source}", messages=msgs, score=ins.score)
        return
    if tenure < th.newcomer_days:
        _set(ins, "newcomer", "newcomer", days=tenure, limit=th.newcomer_days, messages=msgs)
        return
    if _is_silent(st, quiet_days, th, silent_cut):
        nums.update(
            pre_silence_messages=st.pre_silence_messages,
            pre_silence_days=st.pre_silence_days,
            top_quarter_cut=round(silent_cut, 1),
        )
        _set(ins, "silent", "silent", days=quiet_days, before=st.pre_silence_messages, cut=round(silent_cut))
        return
    rank = pr_rank.get(uid)
    n_recv, n_people = received.get(uid, 0), len(people.get(uid, ()))
    if rank is not None:
        nums.update(
            kol_rank=rank,
            pagerank=round(pr.get(uid, 0.0), 5),
            interactions_received=n_recv,
            distinct_people=n_people,
        )
    if _is_kol(st, rank, kol_slots, n_recv, n_people, th):
        _set(ins, "kol", "kol", people=n_people, received=n_recv, rank=rank, days=th.kol_window_days)
        return
    srank = score_rank.get(uid)
    if srank is not None:
        nums["score_rank"], nums["speakers"] = srank, speakers
    if (
        srank is not None
        and srank <= core_slots
        and st.window_messages >= th.core_min_messages
        and st.window_days >= th.core_min_active_days
    ):
        _set(
            ins,
            "core",
            "core",
            rank=srank,
            speakers=speakers,
            messages=st.window_messages,
            days=st.window_days,
            window=th.window_days,
            score=ins.score,
        )
        return
    if tenure >= th.lurker_min_tenure_days and st.window_messages <= th.lurker_max_messages:
        if msgs == 0:
            _set(ins, "lurker", "lurker_none", days=tenure)
        elif msgs <= th.lurker_max_messages:
            _set(ins, "lurker", "lurker_never", days=tenure, messages=msgs)
        elif msgs <= th.lurker_max_total_messages:
            _set(
                ins,
                "lurker",
                "lurker_quiet",
                days=quiet_days if quiet_days is not None else tenure,
                messages=msgs,
                window=th.window_days,
                recent=st.window_messages,
            )
        else:  # a real contributor who went quiet long ago: not someone who 'almost never speaks'
            _set(
                ins,
                "regular",
                "regular_quiet",
                days=quiet_days if quiet_days is not None else tenure,
                messages=msgs,
                window=th.window_days,
                recent=st.window_messages,
            )
        return
    if st.window_messages <= th.lurker_max_messages:
        _set(ins, "regular", "regular_new", days=tenure, messages=msgs, limit=th.lurker_min_tenure_days)
        return
    _set(
        ins,
        "regular",
        "regular",
        messages=st.window_messages,
        window=th.window_days,
        days=st.window_days,
        score=ins.score,
        rank=srank or 0,
        speakers=speakers,
    )
