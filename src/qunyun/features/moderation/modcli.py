"""``qunyun moderation ...``: the review queue, incidents and the rule lists from the terminal.

Every data command takes ``--json`` and then prints exactly one JSON document. Decisions go
through :func:`.review.decide`, so the CLI, the REST API and the dashboard act identically
(undo actions through the executor, audit with the reviewer's name).
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from qunyun.cli.common import console, emit_json, err_console, fail, fmt_time, get_app, group_ref, print_table, tr
from qunyun.events import utcnow

from . import scope as sc
from .decisions import apply_decision, apply_decisions, moderation_settings
from .review import DecisionResult, ReviewError, get_review, list_reviews, retrain_from_store
from .tables import community_of
from .waves import WaveTracker, list_incidents

app = typer.Typer(
    name="moderation",
    help="Review queue, cross-group incidents and spam rules. 复核队列、跨群刷屏事件与反垃圾规则",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
rules_app = typer.Typer(help="Show and edit the rule lists (keywords, domains, whitelist).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ScopeOpt = Annotated[
    str, typer.Option("--scope", help="* (everywhere), community:<key> or group:<platform>:<group_id>.")
]


def settings() -> sc.ModerationSettings:
    return moderation_settings(get_app())


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in a container: still say it came from the CLI
        return "cli"


def _short(text: str | None, n: int = 40) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


@app.command("review")
def review_cmd(
    status: Annotated[str, typer.Option(help="pending, spam, ham or all.")] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Only this group (id, platform:id or name).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="flag (flagged, nothing done yet) or acted (deleted, muted, removed, banned).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """List the review queue (every deletion, mute, removal and ban waiting for a verdict)."""
    if status not in ("pending", "spam", "ham", "all"):
        fail(tr("moderation.error.bad_decision", value=status))
    if kind not in (None, "flag", "acted"):
        fail(tr("moderation.error.bad_value", value=kind, why="flag or acted"))
    ref = group_ref(group) if group else None
    with get_app().db.engine.connect() as conn:
        flagged = None if kind is None else kind == "flag"
        total, rows = list_reviews(
            conn, status=None if status == "all" else status, limit=limit, offset=offset, group=ref, flagged=flagged
        )
    if json_:
        emit_json({"total": total, "reviews": rows})
        return
    print_table(
        tr("moderation.page.review") + f" ({total})",
        [
            "#",
            tr("moderation.col.time"),
            tr("moderation.col.group"),
            tr("moderation.col.member"),
            tr("moderation.col.message"),
            tr("moderation.col.score"),
            tr("moderation.col.step"),
            tr("moderation.col.status"),
        ],
        [
            [
                r["id"],
                fmt_time(r["created_at"]),
                f"{r['platform']}:{r['group_id']}",
                r["user_name"] or r["user_id"],
                _short(r["text"]),
                f"{r['score']:.2f}",
                r["step"],
                r["status"] + (" (dry-run)" if r["dry_run"] else ""),
            ]
            for r in rows
        ],
    )


@app.command("show")
def show_cmd(review_id: int, json_: JsonOpt = False) -> None:
    """One review with the message, the rules hit, the actions taken and the member's history."""
    with get_app().db.engine.connect() as conn:
        try:
            row = get_review(conn, review_id, ladder=settings().ladder)
        except ReviewError as exc:
            fail(tr(exc.key, **exc.params))
    if json_:
        emit_json(row)
        return
    console.print(
        f"[bold]#{row['id']}[/] {row['kind']} · {row['platform']}:{row['group_id']} · "
        f"{row['user_name'] or row['user_id']} · {row['status']}"
    )
    console.print(row["text"] or "", highlight=False, markup=False)
    console.print(
        f"{tr('moderation.col.score')}: {row['score']:.3f}  {tr('moderation.col.reasons')}: "
        f"{', '.join(row['reasons'] or [])}",
        highlight=False,
        markup=False,
    )
    for a in row["actions"] or []:
        console.print(f"  → {a['kind']} {a.get('group_id') or ''} {a.get('user_id') or ''}", highlight=False)
    hist = row.get("history")
    if hist:
        console.print(tr("moderation.history.strikes", n=hist["active_strikes"], points=hist["strike_points"]))
        console.print(
            tr("moderation.history.reviews", n=sum(hist["reviews"].values()), ham=hist["reviews"].get("ham", 0))
        )


@app.command("decide")
def decide_cmd(
    review_ids: Annotated[str, typer.Argument(metavar="ID[,ID...]", help="One review id, or several: 12,15,18.")],
    decision: Annotated[str, typer.Argument(help="spam (confirm) or ham (not spam: undo).")],
    by: Annotated[str | None, typer.Option("--by", help="Reviewer name for the audit log.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Confirm (spam) or undo (ham) reviews; undo actions go through the executor and are audited.

    With several ids (批量判定) each is decided on its own: one already decided or unknown is named
    (exit 1) and the rest still go; reviews an incident settled together with it are no error.
    """
    try:
        ids = [int(x) for x in review_ids.split(",") if x.strip()]
    except ValueError:
        fail(tr("moderation.error.bad_value", value=review_ids, why="review ids: 12 or 12,15,18"))
    if not ids:
        fail(tr("moderation.error.bad_value", value=review_ids, why="review ids: 12 or 12,15,18"))
    qapp = get_app()
    actor = _actor(by)
    decision = decision.strip().lower()
    if len(ids) == 1:
        try:
            result = apply_decision(qapp, ids[0], decision, actor)
        except ReviewError as exc:
            fail(tr(exc.key, **exc.params))
        if json_:
            emit_json(result.to_dict())
        else:
            console.print(_decided_line(result))
        return
    try:
        done, failed = apply_decisions(qapp, ids, decision, actor)
    except ReviewError as exc:
        fail(tr(exc.key, **exc.params))
    if json_:
        emit_json(
            {
                "decision": decision,
                "decided": [r.to_dict() for r in done],
                "errors": [{"id": rid, "error": tr(err.key, **err.params)} for rid, err in failed],
            }
        )
    else:
        for r in done:
            console.print(_decided_line(r))
        for rid, err in failed:
            err_console.print(f"[bold red]✗[/] #{rid}: {tr(err.key, **err.params)}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _decided_line(result: DecisionResult) -> str:
    line = tr(
        "moderation.decided",
        id=result.review["id"],
        decision=tr(f"moderation.decision.{result.decision}"),
        actions=len(result.actions),
    )
    return line + (f" (+{', '.join(f'#{i}' for i in result.linked)})" if result.linked else "")


@app.command("incidents")
def incidents_cmd(
    status: Annotated[str | None, typer.Option(help="actioned, watch, dismissed, confirmed (default: all).")] = None,
    incident: Annotated[int | None, typer.Option("--id", help="Show one incident with its copies.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json_: JsonOpt = False,
) -> None:
    """Cross-group waves: the same text in k or more groups, handled once."""
    with get_app().db.engine.connect() as conn:
        if incident is not None:
            try:
                one = WaveTracker.incident(conn, incident)
            except Exception:
                fail(tr("moderation.error.review_not_found", id=incident))
            if json_:
                emit_json(one)
            else:
                console.print(
                    f"[bold]#{one['id']}[/] {one['status']} · {one['groups']} groups · {one['accounts']} accounts",
                    highlight=False,
                )
                console.print(one["sample_text"] or "", markup=False, highlight=False)
                for c in one["copies"]:
                    console.print(f"  {fmt_time(c['time'])} {c['group_id']} {c['user_id']} {c['message_id']}")
            return
        total, rows = list_incidents(conn, status=status, limit=limit)
    if json_:
        emit_json({"total": total, "incidents": rows})
        return
    print_table(
        tr("moderation.page.incidents") + f" ({total})",
        [
            "#",
            tr("moderation.col.time"),
            tr("moderation.col.groups"),
            tr("moderation.col.accounts"),
            tr("moderation.col.messages"),
            tr("moderation.col.score"),
            tr("moderation.col.message"),
            tr("moderation.col.status"),
        ],
        [
            [
                r["id"],
                fmt_time(r["first_seen"]),
                r["groups"],
                r["accounts"],
                r["messages"],
                f"{r['score']:.2f}",
                _short(r["sample_text"]),
                r["status"],
            ]
            for r in rows
        ],
    )


# -- rules -------------------------------------------------------------------------------------
def _add(kind: str, value: str, scope: str, note: str | None, json_: bool) -> None:
    qapp = get_app()
    try:
        with qapp.db.engine.begin() as conn:
            entry_id = sc.add_list_entry(conn, scope, kind, value, by=_actor(None), now=utcnow(), note=note)
    except sc.RuleListError as exc:
        fail(tr(exc.key, **exc.params))
    if json_:
        emit_json({"id": entry_id, "scope": scope, "kind": kind, "value": sc.clean_list_value(kind, value)})
    else:
        console.print(tr("moderation.list_added", id=entry_id, kind=kind, value=value, scope=scope))


@rules_app.command("show")
def rules_show(
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Effective rules of one group (G or platform:G).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The rule lists, and with --group the effective rules of that group."""
    qapp = get_app()
    cfg = settings()
    out: dict[str, Any] = {}
    with qapp.db.engine.connect() as conn:
        out["lists"] = sc.list_entries(conn)
        if group:
            ref = group_ref(group)
            community = community_of(conn, ref.platform, ref.group_id)
            eff = sc.effective_rules(cfg, conn, ref.platform, ref.group_id, community)
            out["group"] = str(ref)
            out["community"] = community.key
            out["effective"] = eff.model_dump()
        out["ladder"] = cfg.ladder.model_dump()
        out["waves"] = cfg.waves.model_dump()
        out["trusted_users"] = cfg.trusted_users
    if json_:
        emit_json(out)
        return
    print_table(
        tr("moderation.page.rules"),
        ["#", tr("moderation.col.scope"), tr("moderation.col.kind"), tr("moderation.col.value")],
        [[e["id"], e["scope"], e["kind"], e["value"]] for e in out["lists"]],
    )
    if "effective" in out:
        eff = out["effective"]
        console.print(
            f"{out['group']} (community {out['community']}): threshold {eff['threshold']}, "
            f"newcomer {eff['newcomer_threshold']}, keywords {len(eff['keywords'])}, "
            f"deny {', '.join(eff['deny_domains']) or '-'}, "
            f"off {', '.join(f for f, key in sc.RULE_FAMILIES.items() if not eff[key]) or '-'}",
            highlight=False,
        )


@rules_app.command("add-keyword")
def rules_add_keyword(
    word: str,
    scope: ScopeOpt = "*",
    weak: Annotated[bool, typer.Option("--weak", help="Counts only together with other signals.")] = False,
    note: Annotated[str | None, typer.Option()] = None,
    json_: JsonOpt = False,
) -> None:
    """A keyword (违禁词) that marks a message as spam by itself (or, with --weak, only with other signals)."""
    _add("weak_keyword" if weak else "keyword", word, scope, note, json_)


@rules_app.command("ignore-keyword")
def rules_ignore_keyword(word: str, scope: ScopeOpt = "*", json_: JsonOpt = False) -> None:
    """Switch a default keyword off (e.g. 代理 in a proxy-server group)."""
    _add("ignore_keyword", word, scope, None, json_)


@rules_app.command("allow-domain")
def rules_allow_domain(domain: str, scope: ScopeOpt = "*", json_: JsonOpt = False) -> None:
    """Links to this domain lower the score (docs, code hosting ...)."""
    _add("allow_domain", domain, scope, None, json_)


@rules_app.command("deny-domain")
def rules_deny_domain(domain: str, scope: ScopeOpt = "*", json_: JsonOpt = False) -> None:
    """Links to this domain make a message spam."""
    _add("deny_domain", domain, scope, None, json_)


@rules_app.command("whitelist")
def rules_whitelist(
    user: Annotated[str, typer.Argument(help="user_id or platform:user_id")],
    scope: ScopeOpt = "*",
    note: Annotated[str | None, typer.Option()] = None,
    json_: JsonOpt = False,
) -> None:
    """Never moderate this member (KOL, partner, another bot)."""
    _add("whitelist", user, scope, note, json_)


@rules_app.command("off")
def rules_off(
    family: Annotated[str, typer.Argument(help="trade, promo, qr or model")],
    scope: ScopeOpt = "*",
    note: Annotated[str | None, typer.Option()] = None,
    json_: JsonOpt = False,
) -> None:
    """Switch a rule family off for a scope: trade (a 业主群 where neighbours sell things), promo (a
    拼团 deals group), qr (QR codes are the group's business), model (rules only)."""
    _add("rule_off", family, scope, note, json_)


@rules_app.command("remove")
def rules_remove(entry_id: int, json_: JsonOpt = False) -> None:
    """Remove one rule-list entry by its id (see ``rules show``)."""
    with get_app().db.engine.begin() as conn:
        removed = sc.remove_list_entry(conn, entry_id)
    if json_:
        emit_json({"id": entry_id, "removed": removed})
        return
    if not removed:
        fail(tr("moderation.list_missing", id=entry_id))
    console.print(tr("moderation.list_removed", id=entry_id))


@app.command("preview")
def preview_cmd(
    text: Annotated[str, typer.Argument(help="The message text ('-' reads stdin).")],
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Group id, platform:id or name (default: the global rules).")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="The sender's user id (record, trust, strikes).")
    ] = None,
    newcomer: Annotated[
        bool | None, typer.Option("--newcomer/--not-newcomer", help="Override the member record's newcomer status.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """What moderation would do with a message in a group (试一试): verdict, threshold, outcome, ladder step.

    A preview only: nothing is deleted, no strike is recorded and nothing enters the review queue.
    """
    import sys

    from .plugin import plugin_of
    from .preview import preview

    body = sys.stdin.read() if text == "-" else text
    if not body.strip():
        fail(tr("moderation.preview.empty_text"))
    qapp = get_app()
    ref = group_ref(group) if group else None
    with qapp.db.engine.connect() as conn:
        result = preview(
            conn,
            qapp.settings,
            body,
            now=utcnow(),
            group=ref,
            user_id=user,
            newcomer=newcomer,
            plugin=plugin_of(qapp.registry),
        )
    if json_:
        emit_json(result.to_dict())
        return
    where = f"{result.platform}:{result.group_id}" if result.group_id else tr("moderation.preview.group_any")
    console.print(f"[bold]{where}[/]" + (f" · {user}" if user else ""), highlight=False)
    if result.outcome not in ("trusted", "rules_off"):
        console.print(
            f"{result.label}  {tr('moderation.col.score')} {result.score:.3f}  "
            f"{tr('moderation.preview.threshold')} {result.threshold:.2f}"
            + ("" if result.model_score is None else f"  model {result.model_score:.2f}"),
            highlight=False,
            markup=False,
        )
        if result.findings:
            print_table(
                tr("moderation.col.reasons"),
                ["code", tr("moderation.preview.weight"), tr("moderation.preview.evidence")],
                [[f["code"], f"{f['weight']:+.2f}", _short(f["evidence"], 50)] for f in result.findings],
            )
    if result.rules_off:
        console.print(tr("moderation.preview.rules_off", families=", ".join(result.rules_off)), highlight=False)
    console.print(result.summary(None), highlight=False, markup=False)


@app.command("retrain")
def retrain_cmd(json_: JsonOpt = False) -> None:
    """Retrain the spam model now with every operator decision in the store (plus the shared data)."""
    n, model = retrain_from_store(get_app().db)
    if json_:
        emit_json({"feedback": n, "meta": model.meta})
    else:
        console.print(tr("moderation.retrained", feedback=n))
