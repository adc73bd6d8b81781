"""``qunyun tiers ...``: chains, plan (dry run), drop, apply, history, run-due."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qunyun.cli.common import STATE, console, emit_json, fail, get_app, print_table, tr
from qunyun.features.tiers.config import ChainSpec, TiersConfig, TierSpec

app = typer.Typer(
    help="Tiered groups (一群/二群/留级群): plan and apply periodic reviews.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def _cfgs() -> tuple[TiersConfig, Any]:
    from qunyun.features.members.plugin import members_config

    qapp = get_app()
    return qapp.settings.feature("tiers", TiersConfig), members_config(qapp.settings)


def _plan_json(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": plan["id"],
        "chain": plan["chain"],
        "status": plan["status"],
        "reference": plan["reference"],
        "period_start": plan["period_start"],
        "created_at": plan["created_at"],
        "applied_at": plan["applied_at"],
        "moves": [
            {
                k: m[k]
                for k in (
                    "id",
                    "user_id",
                    "user_name",
                    "from_group",
                    "to_group",
                    "direction",
                    "activity",
                    "rank",
                    "dropped",
                    "status",
                    "reason_zh",
                    "reason_en",
                    "evidence",
                )
            }
            for m in plan["moves"]
        ],
        "skipped": plan["skipped"] or [],
    }


@app.command("chain")
def chain_add(
    name: Annotated[str, typer.Argument(help="Chain name, e.g. main.")],
    group: Annotated[
        list[str], typer.Option("--group", "-g", help="platform:group_id, top tier first (≥2).")
    ],
    period: Annotated[int, typer.Option("--period", help="Days per review.")] = 15,
    up: Annotated[int, typer.Option("--up", help="Moved up per tier.")] = 3,
    down: Annotated[int, typer.Option("--down", help="Moved down per tier.")] = 10,
    min_tenure: Annotated[int, typer.Option("--min-tenure", help="Days in a group before moving.")] = 7,
    grace: Annotated[
        float, typer.Option("--grace-hours", help="Hours before removal from the old group.")
    ] = 24,
    exempt: Annotated[list[str] | None, typer.Option("--exempt", help="Never moved (user id).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Define (or replace) a tier chain in the database."""
    from pydantic import ValidationError

    from qunyun.features.tiers.review import save_chain

    try:
        spec = ChainSpec(
            tiers=[TierSpec(group=g) for g in group],
            period_days=period,
            move_up=up,
            move_down=down,
            min_tenure_days=min_tenure,
            grace_hours=grace,
            exempt=exempt or [],
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()))
    with get_app().db.engine.begin() as conn:
        save_chain(conn, name, spec)
    if json_:
        emit_json({"name": name, **spec.model_dump(mode="json")})
    else:
        console.print(tr("tiers.chain.saved", name=name))


@app.command("chains")
def chains_list(json_: JsonOpt = False) -> None:
    """Every chain, from qunyun.toml and from the database."""
    from qunyun.features.tiers.review import chains

    cfg, _ = _cfgs()
    with get_app().db.engine.connect() as conn:
        found = chains(conn, cfg)
    out = [
        {"name": n, "source": src, **spec.model_dump(mode="json")} for n, (spec, src) in sorted(found.items())
    ]
    if json_:
        emit_json(out)
        return
    print_table(
        None,
        ["name", "source", "tiers", "period", "up", "down"],
        [
            [
                o["name"],
                o["source"],
                " → ".join(t["group"] for t in o["tiers"]),
                o["period_days"],
                o["move_up"],
                o["move_down"],
            ]
            for o in out
        ],
    )


@app.command("plan")
def plan(
    chain: Annotated[str, typer.Option("--chain", "-c", help="Chain name.")],
    json_: JsonOpt = False,
) -> None:
    """Dry run: compute every move with its reason and store it as a plan (nothing is done)."""
    from qunyun.features.tiers.review import TierError, get_chain, get_plan, make_plan

    cfg, mcfg = _cfgs()
    try:
        with get_app().db.engine.begin() as conn:
            spec = get_chain(conn, cfg, chain)
            plan_id = make_plan(conn, chain, spec, mcfg, created_by="cli")
            result = get_plan(conn, plan_id)
    except TierError as exc:
        fail(str(exc))
    out = _plan_json(result)
    if json_:
        emit_json(out)
        return
    _print_plan(out)


def _print_plan(out: dict[str, Any]) -> None:
    moves = [m for m in out["moves"] if not m["dropped"]]
    print_table(
        f"#{out['id']} {out['chain']} ({out['status']})",
        ["id", tr("col.user"), tr("tiers.col.direction"), "from", "to", tr("col.reason")],
        [
            [
                m["id"],
                m["user_name"] or m["user_id"],
                tr(f"tiers.{m['direction']}"),
                m["from_group"],
                m["to_group"],
                m["reason_en"] if STATE.lang == "en" else m["reason_zh"],
            ]
            for m in out["moves"]
        ],
    )
    console.print(
        tr(
            "tiers.plan.created",
            id=out["id"],
            up=sum(m["direction"] == "up" for m in moves),
            down=sum(m["direction"] == "down" for m in moves),
        )
    )


@app.command("show")
def show(plan_id: Annotated[int, typer.Argument()], json_: JsonOpt = False) -> None:
    """A stored plan with its moves."""
    from qunyun.features.tiers.review import TierError, get_plan

    try:
        with get_app().db.engine.connect() as conn:
            out = _plan_json(get_plan(conn, plan_id))
    except TierError as exc:
        fail(str(exc))
    if json_:
        emit_json(out)
    else:
        _print_plan(out)


@app.command("drop")
def drop(
    plan_id: Annotated[int, typer.Argument()],
    move_id: Annotated[int, typer.Argument()],
    restore: Annotated[bool, typer.Option("--restore", help="Put a dropped move back.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Edit a draft plan: leave one move out."""
    from qunyun.features.tiers.review import TierError, drop_move

    try:
        with get_app().db.engine.begin() as conn:
            drop_move(conn, plan_id, move_id, dropped=not restore)
    except TierError as exc:
        fail(str(exc))
    if json_:
        emit_json({"plan": plan_id, "move": move_id, "dropped": not restore})
    else:
        console.print(tr("tiers.plan.dropped", id=plan_id, move=move_id))


@app.command("apply")
def apply(
    plan_id: Annotated[int, typer.Argument(help="PLAN_ID from `tiers plan`.")], json_: JsonOpt = False
) -> None:
    """Carry a plan out: invite + notify now, remove from the old group after the grace period."""
    from qunyun.features.tiers.review import TierError, apply_plan

    qapp = get_app()
    try:
        with qapp.db.engine.begin() as conn:
            actions = apply_plan(conn, plan_id, dry_run=qapp.settings.engine.dry_run, actor="cli")
    except TierError as exc:
        fail(str(exc))
    if json_:
        emit_json({"plan": plan_id, "actions": [a.model_dump(mode="json") for a in actions]})
    else:
        console.print(tr("tiers.plan.applied", id=plan_id, actions=len(actions)))


@app.command("history")
def history(
    chain: Annotated[str | None, typer.Option("--chain", "-c")] = None,
    json_: JsonOpt = False,
) -> None:
    """Every review (plan) and what became of it."""
    from qunyun.features.tiers.review import list_plans

    with get_app().db.engine.connect() as conn:
        rows = list_plans(conn, chain)
    if json_:
        emit_json(rows)
        return
    print_table(
        None,
        ["id", "chain", "status", "created", "up", "down", "dropped"],
        [[r["id"], r["chain"], r["status"], r["created_at"], r["up"], r["down"], r["dropped"]] for r in rows],
    )


@app.command("run-due")
def run_due(json_: JsonOpt = False) -> None:
    """Queue the removals whose grace period has passed (also run by the scheduler)."""
    from qunyun.features.tiers.review import due_removals

    qapp = get_app()
    with qapp.db.engine.begin() as conn:
        actions = due_removals(conn, dry_run=qapp.settings.engine.dry_run)
    if json_:
        emit_json({"removals": len(actions)})
    else:
        console.print(tr("tiers.removals.done", n=len(actions)))
