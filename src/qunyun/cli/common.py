"""Shared CLI plumbing: global options, opening the app, JSON and table output, errors."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from qunyun.config import ConfigError
from qunyun.i18n import t

if TYPE_CHECKING:
    # the app (engine, store, Alembic) is imported when a command opens it: commands that never
    # touch the database (``spam check``, ``--help``) start without it
    from qunyun.app import QunyunApp
    from qunyun.store.queries import GroupRef

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    db_url: str | None = None
    config: str | None = None
    lang: str = "zh-CN"
    _app: QunyunApp | None = None


STATE = CliState()


def get_app() -> QunyunApp:
    """The app for this CLI invocation (opened once, schema migrated)."""
    if STATE._app is None:
        try:
            from qunyun.app import open_app

            STATE._app = open_app(config=STATE.config, db_url=STATE.db_url)
        except ConfigError as exc:
            fail(f"{t('error.config', STATE.lang)}: {exc}")
    return STATE._app


def tr(key: str, **params: Any) -> str:
    return t(key, STATE.lang, **params)


def group_ref(spec: str) -> GroupRef:
    """A ``--group`` value (id, ``platform:id`` or name) → the group, or a clear error and exit 2."""
    from qunyun.store import queries

    app_ = get_app()
    with app_.db.engine.connect() as conn:
        try:
            return queries.resolve_group(conn, spec)
        except queries.GroupNotFound:
            fail(tr("error.group_not_found", group=spec))
        except queries.GroupAmbiguous as exc:
            fail(tr("error.group_ambiguous", group=spec, choices=", ".join(exc.choices)))


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]✗[/] {message}", highlight=False)
    raise typer.Exit(code)


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"cannot serialize {type(obj).__name__}")


def emit_json(data: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold cyan")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["-" if v is None else str(v) for v in row])
    console.print(table)
