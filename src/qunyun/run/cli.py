"""``qunyun run`` — start the bot process for the accounts in qunyun.toml."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Annotated

import typer
from rich.markup import escape

from qunyun.cli.common import console, emit_json, err_console, fail, get_app, tr
from qunyun.config import ConfigError


def run_command(
    batch_max: Annotated[int, typer.Option("--batch-max", help="Most events stored in one transaction.")] = 2000,
    batch_ms: Annotated[float, typer.Option("--batch-ms", help="Idle wait to gather a batch (milliseconds).")] = 5.0,
    no_dispatch: Annotated[bool, typer.Option("--no-dispatch", help="Receive and store only; send nothing.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log connections and errors to stderr.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON summary when stopped.")] = False,
) -> None:
    """Run the bot: connect every account of qunyun.toml, store events, send the outbox, run jobs."""
    from qunyun.run.runner import BotRunner

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app_ = get_app()
    try:
        runner = BotRunner(app_, batch_max=batch_max, batch_wait=batch_ms / 1000, dispatch=not no_dispatch)
    except ConfigError as exc:
        fail(escape(f"{tr('error.config')}: {exc}"))
    if not runner.adapters:
        fail(escape(tr("run.no_accounts")))
    err_console.print(tr("run.starting", accounts=len(runner.adapters)), highlight=False)
    # A bot process allocates tens of thousands of short-lived, acyclic objects a second (events,
    # segments, rows). Freezing what start-up loaded keeps the cyclic GC from rescanning it, and a
    # larger first-generation threshold makes collections rarer; reference counting frees the rest.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    try:
        summary = asyncio.run(runner.run())
    except OSError as exc:
        fail(escape(str(exc)))
    if json_:
        emit_json(summary)
        return
    console.print(
        tr("run.stopped", stored=summary["ingest"]["stored"], sent=summary["dispatch"]["sent"]),
        highlight=False,
    )
    if summary["recovered_unknown"]:
        console.print(tr("run.recovered", n=len(summary["recovered_unknown"])))


def connections_command(
    json_: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
) -> None:
    """Each bot account's last reported state, last event and lag, plus the outbox summary."""
    from qunyun.cli.common import fmt_time, print_table
    from qunyun.run.web import connections_data

    data = connections_data(get_app())
    if json_:
        emit_json(data)
        return
    rows = []
    for a in data["accounts"]:
        state = a.get("state") or "-"
        if a.get("stale") and state != "stopped":
            state += " (stale)"
        lag = a.get("lag_seconds")
        rows.append(
            [
                f"{a.get('platform')}:{a.get('account')}",
                state,
                a.get("last_event_at") or "-",
                "-" if lag is None else f"{lag:.1f}",
                a.get("detail") or "",
            ]
        )
    print_table(
        tr("connections.title"),
        [
            tr("connections.account"),
            tr("connections.state"),
            tr("connections.last_event"),
            tr("connections.lag"),
            tr("connections.detail"),
        ],
        rows,
    )
    if not rows:
        console.print(tr("connections.none"))
    counts = data["outbox"]["counts"]
    console.print(f"{tr('connections.outbox')}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"))
    for p in data["outbox"]["problems"][:10]:
        console.print(
            f"  #{p['id']} {p['status']} {p['kind']} {p['platform']}:{p['group_id'] or '-'} "
            f"{fmt_time(p['updated_at'])} {p['error'] or ''}",
            highlight=False,
        )
