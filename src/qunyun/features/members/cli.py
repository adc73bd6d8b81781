"""``qunyun scores ...`` (rescore, rebuild, roles, explain) and ``qunyun leaderboard``."""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated

import typer
from rich.progress import Progress

from qunyun.cli.common import STATE, console, emit_json, err_console, fail, get_app, group_ref, print_table, tr
from qunyun.store import queries
from qunyun.store.queries import GroupRef

app = typer.Typer(help="Activity scores, roles and the daily rollup.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def _ref(spec: str) -> GroupRef:
    return group_ref(spec)


def _cfg():  # type: ignore[no-untyped-def]
    from qunyun.features.members.plugin import members_config

    return members_config(get_app().settings)


@app.command("rescore")
def rescore(
    full: Annotated[
        bool, typer.Option("--full/--dirty", help="Recompute every score (default) or only stale ones.")
    ] = True,
    json_: JsonOpt = False,
) -> None:
    """Recompute activity scores from the daily rollup (after changing weights or half-life)."""
    from qunyun.features.members.scores import refresh_scores

    qapp, cfg = get_app(), _cfg()
    start = time.perf_counter()
    with qapp.db.engine.begin() as conn:
        rows = refresh_scores(conn, cfg, full=full)
    seconds = round(time.perf_counter() - start, 2)
    if json_:
        emit_json({"rows": rows, "seconds": seconds, "full": full})
    else:
        console.print(tr("members.rescore.done", rows=rows, seconds=seconds))


@app.command("rebuild")
def rebuild(
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Only this group (default: all).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Rebuild the daily rollup and interaction graph from the stored events, then rescore."""
    from qunyun.features.members.rebuild import rebuild_rollup
    from qunyun.features.members.scores import refresh_scores

    qapp, cfg = get_app(), _cfg()
    ref = _ref(group) if group else None
    start = time.perf_counter()
    with Progress(console=err_console, transient=json_) as progress:
        task = progress.add_task("rollup", total=None)
        events = rebuild_rollup(
            qapp.db, ref, progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    with qapp.db.engine.begin() as conn:
        refresh_scores(conn, cfg, full=True)
    seconds = round(time.perf_counter() - start, 2)
    if json_:
        emit_json({"events": events, "seconds": seconds, "group": str(ref) if ref else None})
    else:
        console.print(tr("members.rebuild.done", events=events, seconds=seconds))


@app.command("flag")
def flag(
    group: Annotated[str, typer.Option("--group", "-g", help="Group id, platform:group_id or name.")],
    message: Annotated[
        str, typer.Option("--message", "-m", help="The message id to flag as valuable (精华).")
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who flagged it (for the record).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Flag a post as valuable: its author earns the valuable_post weight once."""
    from qunyun.events import utcnow
    from qunyun.features.members.rollup import flag_valuable

    ref, qapp = _ref(group), get_app()
    try:
        with qapp.db.engine.begin() as conn:
            new = flag_valuable(conn, ref.platform, ref.group_id, message, by, utcnow())
    except LookupError:
        fail(tr("members.error.no_message", message=message, group=str(ref)))
    if json_:
        emit_json({"group": str(ref), "message": message, "flagged": new})
    else:
        console.print(tr("members.flagged" if new else "members.already_flagged", message=message))


@app.command("roles")
def roles(
    group: Annotated[str, typer.Option("--group", "-g", help="Group id, platform:group_id or name.")],
    json_: JsonOpt = False,
) -> None:
    """How many members have each role in a group, and the reference time used."""
    from qunyun.features.members.roles import ROLES, compute_insights

    ref, qapp, cfg = _ref(group), get_app(), _cfg()
    with qapp.db.engine.connect() as conn:
        _, rows = queries.list_members(conn, ref)
        insights, meta = compute_insights(conn, ref, rows, cfg)
    counts = Counter(i.role for i in insights.values())
    out = {
        "group": str(ref),
        "members": len(rows),
        "roles": {r: counts.get(r, 0) for r in ROLES},
        "reference": meta["reference"].isoformat(),
        "reference_rule": meta["reference_rule"],
        "group_type": meta["group_type"],
    }
    if json_:
        emit_json(out)
        return
    print_table(
        str(ref), [tr("members.col.role"), "n"], [[tr(f"members.role.{r}"), counts.get(r, 0)] for r in ROLES]
    )
    console.print(tr("members.reference", time=out["reference"], rule=out["reference_rule"]))


@app.command("explain")
def explain(
    group: Annotated[str, typer.Option("--group", "-g")],
    user: Annotated[str, typer.Option("--user", "-u", help="User id in the group.")],
    json_: JsonOpt = False,
) -> None:
    """One member's score, role, reason and the numbers behind it."""
    from qunyun.features.members.plugin import enrich_rows

    ref, qapp, cfg = _ref(group), get_app(), _cfg()
    with qapp.db.engine.connect() as conn:
        _, rows = queries.list_members(conn, ref, search=user)
        rows = [r for r in rows if r["user_id"] == user]
        if not rows:
            fail(tr("profile.not_found", user=user))
        row = enrich_rows(conn, ref, rows, cfg)[0]
    out = {
        k: row[k]
        for k in (
            "user_id",
            "user_name",
            "messages",
            "first_seen",
            "last_seen",
            "score",
            "role",
            "reason",
            "reason_en",
            "evidence",
        )
    }
    if json_:
        emit_json(out)
        return
    console.print(
        f"[bold]{row['user_name'] or user}[/] — {tr('members.role.' + row['role'])} ({row['score']})"
    )
    console.print(row["reason_en"] if STATE.lang == "en" else row["reason"])
    for k, v in row["evidence"].items():
        console.print(f"  {k}: {v}", highlight=False)


def leaderboard_command(
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Group (default: community-wide).")
    ] = None,
    board: Annotated[
        str, typer.Option("--board", "-b", help="active, helpful, invites, checkins, points.")
    ] = "active",
    period: Annotated[str, typer.Option("--period", "-p", help="day, week or month.")] = "week",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    json_: JsonOpt = False,
) -> None:
    """Leaderboards (用户行为榜单) per group or community-wide; --json prints a ranked array."""
    from qunyun.features.members.leaderboard import BOARDS, PERIODS, leaderboard

    if board not in BOARDS:
        fail(tr("members.error.board", board=board, choices=", ".join(BOARDS)))
    if period not in PERIODS:
        fail(tr("members.error.period", period=period))
    ref = _ref(group) if group else None
    qapp, cfg = get_app(), _cfg()
    with qapp.db.engine.connect() as conn:
        result = leaderboard(conn, cfg, ref, board=board, period=period, limit=limit)
    if json_:
        emit_json(result["rows"])
        return
    title = f"{tr('members.board.' + board)} · {tr('members.period.' + period)} ({result['start']} – {result['end']})"
    print_table(
        title,
        [tr("members.col.rank"), tr("col.user"), tr("col.name"), tr("members.col.value")],
        [[r["rank"], r["user_id"], r["user_name"], r["value"]] for r in result["rows"]],
    )
