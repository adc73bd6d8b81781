"""The periodic review: plan (dry run, stored with an id), edit (drop moves), apply through actions.

Activity in a review is the undecayed activity-score credit earned in the period (see
:mod:`qunyun.features.members.scores`), ties broken by who spoke last (the longest silent rank lowest),
then by user id, so the
same data always gives the same plan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from qunyun.actions import Action, ActionKind, Reason
from qunyun.engine.executor import submit_actions
from qunyun.events import utcnow
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.scores import credit, reference_time
from qunyun.features.members.tables import MemberDailyRow, table
from qunyun.features.tiers.config import ChainSpec, TiersConfig, TierSpec
from qunyun.features.tiers.tables import TierChainRow, TierMoveRow, TierPlanRow
from qunyun.i18n import both
from qunyun.store.tables import GroupRow, MemberRow
from qunyun.store.writer import _dialect_insert


class TierError(ValueError):
    """A chain or plan problem; the message says what and which."""


_TIER_ORDER = {"一群": 1, "二群": 2, "三群": 3, "四群": 4, "五群": 5, "留级群": 99}


def inferred_chains(conn: Connection) -> dict[str, ChainSpec]:
    """Chains implied by the groups' ``tier`` column (一群/二群/.../留级群), one per platform and parent
    group (a 分群's parent is the 一群): named ``platform:top_group_id``, default review rules."""
    g = table(GroupRow)
    families: dict[tuple[str, str], list[tuple[int, str, str, str]]] = defaultdict(list)
    for platform, gid, name, tier, parent in conn.execute(
        select(g.c.platform, g.c.group_id, g.c.name, g.c.tier, g.c.parent_group_id).where(
            g.c.tier.is_not(None)
        )
    ):
        families[(platform, parent or gid)].append((_TIER_ORDER.get(tier, 50), tier, gid, name or gid))
    out = {}
    for (platform, _root), members in families.items():
        if len(members) < 2:
            continue
        members.sort()
        out[f"{platform}:{members[0][2]}"] = ChainSpec(
            tiers=[TierSpec(group=f"{platform}:{gid}", name=tier) for _, tier, gid, _n in members]
        )
    return out


def chains(conn: Connection, cfg: TiersConfig) -> dict[str, tuple[ChainSpec, str]]:
    """name → (spec, source): chains implied by the groups' tiers ('groups'), defined with the CLI or the
    dashboard ('database') and in qunyun.toml ('config'); later sources win for the same name."""
    out: dict[str, tuple[ChainSpec, str]] = {
        name: (spec, "groups") for name, spec in inferred_chains(conn).items()
    }
    for name, spec in conn.execute(select(TierChainRow.name, TierChainRow.spec)):
        out[name] = (ChainSpec.model_validate(spec), "database")
    for name, chain in cfg.chains.items():
        out[name] = (chain, "config")
    return out


def save_chain(conn: Connection, name: str, spec: ChainSpec, now: datetime | None = None) -> None:
    t = table(TierChainRow)
    ins = _dialect_insert(conn, t)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["name"], set_={"spec": ins.excluded.spec, "updated_at": ins.excluded.updated_at}
        ),
        {"name": name, "spec": spec.model_dump(mode="json"), "updated_at": now or utcnow()},
    )


def get_chain(conn: Connection, cfg: TiersConfig, name: str) -> ChainSpec:
    found = chains(conn, cfg)
    if name not in found:
        raise TierError(f"no tier chain named {name!r} (known: {', '.join(sorted(found)) or 'none'})")
    return found[name][0]


def _tier_name(spec: ChainSpec, i: int) -> str:
    return spec.tiers[i].name or spec.tiers[i].group_id


def make_plan(
    conn: Connection,
    name: str,
    spec: ChainSpec,
    mcfg: MembersConfig,
    *,
    now: datetime | None = None,
    created_by: str | None = None,
) -> int:
    """Compute the moves of one review and store them as a draft plan; returns the plan id."""
    now = now or utcnow()
    platform = spec.tiers[0].platform
    gids = [t.group_id for t in spec.tiers]
    # one reference for the whole chain: the latest of the tiers' own references
    ref_time = max(reference_time(conn, mcfg, platform, gid, now)[0] for gid in gids)
    start_day = ref_time.date() - timedelta(days=spec.period_days - 1)
    m = table(MemberRow)
    members: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # group -> user -> row
    for row in conn.execute(
        select(
            m.c.group_id, m.c.user_id, m.c.user_name, m.c.first_seen, m.c.last_spoke, m.c.is_admin, m.c.status
        ).where(m.c.platform == platform, m.c.group_id.in_(gids))
    ):
        if row.status == "active":
            members[row.group_id][row.user_id] = dict(row._mapping)
    d = table(MemberDailyRow)
    activity: dict[tuple[str, str], float] = defaultdict(float)
    cols = [
        d.c[c]
        for c in (
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
    ]
    for row in conn.execute(
        select(d.c.group_id, d.c.user_id, *cols).where(
            d.c.platform == platform, d.c.group_id.in_(gids), d.c.day >= start_day, d.c.day <= ref_time.date()
        )
    ):
        activity[(row[0], row[1])] += credit(mcfg.weights, row[2:])
    where: dict[str, list[int]] = defaultdict(list)  # user -> tier indexes they sit in
    for i, gid in enumerate(gids):
        for uid in members[gid]:
            where[uid].append(i)

    moves: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for i, gid in enumerate(gids):
        eligible = []
        for uid, mrow in members[gid].items():
            why = None
            first = mrow["first_seen"]
            if first is not None and first.tzinfo is None:
                first = first.replace(tzinfo=ref_time.tzinfo)
            if mrow["is_admin"] or mcfg.is_admin(platform, gid, uid):
                why = "staff"
            elif spec.listed(spec.exempt, platform, uid):
                why = "exempt"
            elif first is not None and (ref_time - first).days < spec.min_tenure_days:
                why = "tenure"
            elif min(where[uid]) < i and not spec.listed(spec.multi_tier, platform, uid):
                why = "in_higher_tier"
            if why:
                skipped.append({"user_id": uid, "group": gid, "why": why})
            else:
                eligible.append(uid)

        def spoke(u: str, gid: str = gid) -> float:
            last = members[gid][u]["last_spoke"]
            return last.timestamp() if last is not None else float("-inf")

        # most active first; equal activity: who spoke more recently first (the longest silent go down)
        ranked = sorted(eligible, key=lambda u: (-activity[(gid, u)], -spoke(u), u))
        n = len(ranked)
        up: list[str] = []
        if i > 0:
            for uid in ranked:
                if len(up) >= spec.up_count(i):
                    break
                if activity[(gid, uid)] < spec.min_activity_up:
                    break
                if i - 1 in where[uid]:
                    continue
                up.append(uid)
        for uid in up:
            rank = ranked.index(uid) + 1
            moves.append(_move(spec, i, i - 1, "up", uid, members[gid][uid], activity[(gid, uid)], rank, n))
        if i < len(gids) - 1:
            down_n = spec.down_count(i)
            bottom = [u for u in reversed(ranked) if u not in up and i + 1 not in where[u]][:down_n]
            for uid in bottom:
                rank = n - ranked.index(uid)
                moves.append(
                    _move(spec, i, i + 1, "down", uid, members[gid][uid], activity[(gid, uid)], rank, n)
                )
    res = conn.execute(
        table(TierPlanRow).insert().returning(table(TierPlanRow).c.id),
        {
            "chain": name,
            "status": "draft",
            "created_at": now,
            "created_by": created_by,
            "reference": ref_time,
            "period_start": datetime.combine(start_day, datetime.min.time(), tzinfo=ref_time.tzinfo),
            "spec": spec.model_dump(mode="json"),
            "skipped": skipped,
            "applied_at": None,
            "applied_by": None,
        },
    )
    plan_id = int(res.scalar_one())
    if moves:
        for mv in moves:
            mv["plan_id"] = plan_id
        conn.execute(table(TierMoveRow).insert(), moves)
    return plan_id


def _move(
    spec: ChainSpec,
    i: int,
    j: int,
    direction: str,
    uid: str,
    row: dict[str, Any],
    activity: float,
    rank: int,
    n: int,
) -> dict[str, Any]:
    platform = spec.tiers[i].platform
    params = {
        "activity": round(activity, 1),
        "rank": rank,
        "n": n,
        "days": spec.period_days,
        "from_": _tier_name(spec, i),
        "to": _tier_name(spec, j),
    }
    zh, en = both(f"tiers.reason.{direction}", **params)
    return {
        "platform": platform,
        "user_id": uid,
        "user_name": row.get("user_name"),
        "from_group": spec.tiers[i].group_id,
        "to_group": spec.tiers[j].group_id,
        "direction": direction,
        "activity": round(activity, 3),
        "rank": rank,
        "reason_zh": zh,
        "reason_en": en,
        "evidence": {"activity": round(activity, 3), "rank": rank, "of": n, "period_days": spec.period_days},
        "dropped": False,
        "status": "planned",
        "keep_old": spec.listed(spec.multi_tier, platform, uid),
        "remove_after": None,
        "removed_at": None,
    }


def get_plan(conn: Connection, plan_id: int) -> dict[str, Any]:
    p = table(TierPlanRow)
    row = conn.execute(select(p).where(p.c.id == plan_id)).first()
    if row is None:
        raise TierError(f"no tier plan with id {plan_id}")
    mv = table(TierMoveRow)
    moves = [
        dict(r._mapping) for r in conn.execute(select(mv).where(mv.c.plan_id == plan_id).order_by(mv.c.id))
    ]
    plan = dict(row._mapping)
    plan["moves"] = moves
    return plan


def list_plans(conn: Connection, chain: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    p, mv = table(TierPlanRow), table(TierMoveRow)
    q = select(p.c.id, p.c.chain, p.c.status, p.c.created_at, p.c.reference, p.c.applied_at, p.c.applied_by)
    if chain:
        q = q.where(p.c.chain == chain)
    rows = [dict(r._mapping) for r in conn.execute(q.order_by(p.c.id.desc()).limit(limit))]
    for r in rows:
        counts = conn.execute(select(mv.c.direction, mv.c.dropped).where(mv.c.plan_id == r["id"])).all()
        r["up"] = sum(1 for d, dropped in counts if d == "up" and not dropped)
        r["down"] = sum(1 for d, dropped in counts if d == "down" and not dropped)
        r["dropped"] = sum(1 for _, dropped in counts if dropped)
    return rows


def drop_move(conn: Connection, plan_id: int, move_id: int, dropped: bool = True) -> None:
    """Edit a draft plan: leave one move out (or put it back)."""
    plan = get_plan(conn, plan_id)
    if plan["status"] != "draft":
        raise TierError(f"plan {plan_id} is {plan['status']}; only a draft can be edited")
    mv = table(TierMoveRow)
    res = conn.execute(
        update(mv)
        .where(mv.c.id == move_id, mv.c.plan_id == plan_id)
        .values(dropped=dropped, status="dropped" if dropped else "planned")
    )
    if not res.rowcount:
        raise TierError(f"plan {plan_id} has no move {move_id}")


def apply_plan(
    conn: Connection, plan_id: int, *, dry_run: bool, actor: str = "system", now: datetime | None = None
) -> list[Action]:
    """Invite and notify now; the removal from the old group is queued after the grace period."""
    now = now or utcnow()
    plan = get_plan(conn, plan_id)
    if plan["status"] != "draft":
        raise TierError(f"plan {plan_id} is {plan['status']}; only a draft can be applied")
    spec = ChainSpec.model_validate(plan["spec"])
    names = {t.group_id: _tier_name(spec, i) for i, t in enumerate(spec.tiers)}
    hours = spec.grace_hours
    actions: list[Action] = []
    mv = table(TierMoveRow)
    for move in plan["moves"]:
        if move["dropped"]:
            continue
        reason = Reason(
            zh=move["reason_zh"],
            en=move["reason_en"],
            evidence={**(move["evidence"] or {}), "plan": plan_id, "move": move["id"]},
        )
        cause = f"tiers:plan:{plan_id}:move:{move['id']}"
        template = spec.notify_up if move["direction"] == "up" else spec.notify_down
        text = template.format(
            name=move["user_name"] or move["user_id"],
            to=names[move["to_group"]],
            hours=f"{hours:g}",
            user_id=move["user_id"],
        )
        actions.append(
            Action(
                kind=ActionKind.INVITE,
                platform=move["platform"],
                group_id=move["to_group"],
                user_id=move["user_id"],
                reason=reason,
                source="tiers.review",
                cause=cause + ":invite",
            )
        )
        actions.append(
            Action(
                kind=ActionKind.SEND_MESSAGE,
                platform=move["platform"],
                group_id=move["from_group"],
                text=text,
                params={"mention": move["user_id"]},
                reason=reason,
                source="tiers.review",
                cause=cause + ":notify",
            )
        )
        conn.execute(
            update(mv)
            .where(mv.c.id == move["id"])
            .values(status="applied", remove_after=None if move["keep_old"] else now + timedelta(hours=hours))
        )
    submit_actions(conn, actions, dry_run=dry_run, actor=actor, now=now)
    conn.execute(
        update(table(TierPlanRow))
        .where(table(TierPlanRow).c.id == plan_id)
        .values(status="applied", applied_at=now, applied_by=actor)
    )
    return actions


def due_removals(conn: Connection, *, dry_run: bool, now: datetime | None = None) -> list[Action]:
    """Queue the removals whose grace period has passed (a job runs this every few minutes)."""
    now = now or utcnow()
    mv = table(TierMoveRow)
    rows = list(
        conn.execute(
            select(mv).where(
                mv.c.status == "applied", mv.c.remove_after.is_not(None), mv.c.remove_after <= now
            )
        )
    )
    actions = []
    for move in rows:
        reason = Reason(
            zh=move.reason_zh,
            en=move.reason_en,
            evidence={**(move.evidence or {}), "plan": move.plan_id, "move": move.id},
        )
        actions.append(
            Action(
                kind=ActionKind.KICK,
                platform=move.platform,
                group_id=move.from_group,
                user_id=move.user_id,
                reason=reason,
                source="tiers.review",
                cause=f"tiers:plan:{move.plan_id}:move:{move.id}:remove",
            )
        )
        conn.execute(update(mv).where(mv.c.id == move.id).values(status="done", removed_at=now))
    submit_actions(conn, actions, dry_run=dry_run, actor="tiers.removals", now=now)
    return actions
