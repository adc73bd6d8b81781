"""``qunyun`` — the command line. Core commands live here; plugins mount their own sub-apps."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from qunyun import __version__
from qunyun.cli.common import (
    STATE,
    console,
    emit_json,
    err_console,
    fail,
    fmt_time,
    get_app,
    group_ref,
    print_table,
    tr,
)
from qunyun.config import DEFAULT_CONFIG_FILE, SAMPLE_CONFIG
from qunyun.domain import StaffRole
from qunyun.engine.plugins import build_registry
from qunyun.i18n import normalize_lang
from qunyun.store import queries

app = typer.Typer(
    name="qunyun",
    help="群运 qunyun — community operations for QQ, WeChat/WeCom and Telegram groups.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)
user_app = typer.Typer(help="Dashboard users (staff logins) and API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"qunyun {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="QUNYUN_DATABASE_URL", help="Database URL (default sqlite:///qunyun.db)."),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", envvar="QUNYUN_CONFIG", help="Path of qunyun.toml.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", envvar="QUNYUN_LANG", help="zh-CN or en.")] = "zh-CN",
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    STATE.db_url, STATE.config, STATE.lang = db, config, normalize_lang(lang)
    STATE._app = None


@app.command()
def init(
    write_config: Annotated[bool, typer.Option("--write-config", help="Also write a commented qunyun.toml.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Create or upgrade the database schema (and optionally a sample qunyun.toml)."""
    if write_config and not Path(DEFAULT_CONFIG_FILE).exists():
        Path(DEFAULT_CONFIG_FILE).write_text(SAMPLE_CONFIG, encoding="utf-8")
    app_ = get_app()
    url = app_.db.engine.url.render_as_string(hide_password=True)
    if json_:
        emit_json({"database": url, "plugins": app_.registry.plugins})
    else:
        console.print(tr("init.done", url=url))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Export file (.jsonl, .jsonl.gz, ...).")],
    format: Annotated[str, typer.Option("--format", "-f", help="auto, events, or an importer's name.")] = "auto",
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Importer option KEY=VALUE, repeatable (date=, group=, tz= ...)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Import a chat export or event file: streaming, idempotent, bad lines reported with their number."""
    from qunyun.engine.ingest import ImportFormatError, import_file

    if not file.exists():
        fail(tr("import.not_found", path=file))
    options: dict[str, str] = {}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--option expects KEY=VALUE, got {item!r}")
        options[key.strip()] = value
    app_ = get_app()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=json_,
    )
    with progress:
        task = progress.add_task(tr("import.progress"), total=file.stat().st_size)
        try:
            summary = import_file(
                app_.engine,
                file,
                fmt=format,
                options=options,
                progress=lambda done, total: progress.update(task, completed=done),
            )
        except ImportFormatError as exc:
            fail(str(exc))
    if json_:
        emit_json(summary.as_dict())
        return
    console.print(tr("import.done", **summary.as_dict()))
    for err in summary.errors[:20]:
        err_console.print(f"  line {err['line']}: {err['reason']}", highlight=False)
    if summary.rejected > 20:
        err_console.print(f"  … {summary.rejected - 20} more (qunyun dead-letter)")


@app.command()
def groups(json_: JsonOpt = False) -> None:
    """List groups with their type, tier, members and messages."""
    app_ = get_app()
    with app_.db.engine.connect() as conn:
        rows = queries.list_groups(conn)
    if json_:
        emit_json(rows)
        return
    print_table(
        None,
        [tr("col.platform"), tr("col.group"), tr("col.name"), tr("col.type"), tr("col.tier"), tr("col.members"),
         tr("col.messages"), tr("col.last_seen")],
        [[r["platform"], r["group_id"], r["name"], r["type"], r["tier"], r["members"], r["messages"],
          fmt_time(r["last_message"])] for r in rows],
    )


@app.command()
def members(
    group: Annotated[str, typer.Option("--group", "-g", help="Group id, platform:group_id or name.")],
    search: Annotated[str | None, typer.Option("--search", "-s", help="Filter by name or id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many (default: all).")] = None,
    order: Annotated[str, typer.Option("--order", help="messages, last_seen, first_seen, name.")] = "messages",
    json_: JsonOpt = False,
) -> None:
    """Every member seen in a group, with message counts and first/last seen."""
    ref = group_ref(group)
    app_ = get_app()
    with app_.db.engine.connect() as conn:
        _, rows = queries.list_members(conn, ref, search=search, order=order, limit=limit)
        for enrich in app_.registry.member_enrichers:
            rows = enrich(conn, ref, rows)
    out = [
        {
            **{k: r.get(k) for k in ("user_id", "user_name", "messages", "first_seen", "last_seen")},
            **{k: v for k, v in r.items() if k not in ("id", "platform", "group_id")},
        }
        for r in rows
    ]
    if json_:
        emit_json(out)
        return
    extra = [k for k in ("score", "role", "reason") if out and k in out[0]]
    print_table(
        f"{ref}",
        [tr("col.user"), tr("col.name"), tr("col.messages"), tr("col.first_seen"), tr("col.last_seen"), *extra],
        [[r["user_id"], r["user_name"], r["messages"], fmt_time(r["first_seen"]), fmt_time(r["last_seen"]),
          *[r.get(k) for k in extra]] for r in out],
    )


@app.command()
def audit(
    limit: Annotated[int, typer.Option("--limit", help="Most recent N entries.")] = 50,
    group: Annotated[str | None, typer.Option("--group", "-g")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this rule/feature (prefix).")] = None,
    json_: JsonOpt = False,
) -> None:
    """The audit log: every decision and action with its reason."""
    ref = group_ref(group) if group else None
    app_ = get_app()
    with app_.db.engine.connect() as conn:
        total, rows = queries.audit_entries(conn, limit=limit, group=ref, source=source)
    if json_:
        emit_json({"total": total, "entries": rows})
        return
    print_table(
        None,
        [tr("col.time"), tr("col.action"), tr("col.group"), tr("col.user"), tr("col.source"), tr("col.reason"),
         tr("col.status")],
        [[fmt_time(r["time"]), r["kind"], r["group_id"], r["user_id"], r["source"],
          r["reason_en"] if STATE.lang == "en" else r["reason_zh"], r["status"]] for r in rows],
    )


@app.command("dead-letter")
def dead_letter(
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Malformed input that was kept aside, with the reason and the raw line."""
    app_ = get_app()
    with app_.db.engine.connect() as conn:
        total, rows = queries.dead_letters(conn, limit=limit)
    if json_:
        emit_json({"total": total, "entries": rows})
        return
    print_table(
        f"{total}",
        ["id", "source", "line", tr("col.reason"), "raw"],
        [[r["id"], r["source"], r["line"], r["reason"], (r["raw"] or "")[:60]] for r in rows],
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[StaffRole, typer.Option("--role", help="owner, admin, operator or viewer.")] = StaffRole.VIEWER,
    password: Annotated[
        str | None, typer.Option("--password", help="Default: generate one and print it.", envvar="QUNYUN_PASSWORD")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a dashboard login."""
    from qunyun.staff import StaffExists, create_user

    app_ = get_app()
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with app_.db.engine.begin() as conn:
            uid = create_user(conn, name, password, role)
    except StaffExists:
        fail(tr("user.exists", name=name))
    if json_:
        emit_json({"id": uid, "name": name, "role": role.value, "password": password if generated else None})
        return
    console.print(tr("user.created", name=name, role=role.value))
    if generated:
        console.print(f"password: [bold]{password}[/]")


@user_app.command("list")
def user_list(json_: JsonOpt = False) -> None:
    """List dashboard logins."""
    from qunyun.staff import list_users

    app_ = get_app()
    with app_.db.engine.connect() as conn:
        rows = list_users(conn)
    if json_:
        emit_json(rows)
        return
    print_table(None, ["id", "name", "role", "created"], [[r["id"], r["name"], r["role"], fmt_time(r["created_at"])]
                                                         for r in rows])


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="Login name the token acts as.")],
    label: Annotated[str, typer.Option("--label")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Create a REST API bearer token for a user (shown once)."""
    from sqlalchemy import select

    from qunyun.staff import create_token
    from qunyun.store.tables import StaffUserRow

    app_ = get_app()
    with app_.db.engine.begin() as conn:
        uid = conn.execute(select(StaffUserRow.id).where(StaffUserRow.name == name)).scalar()
        if uid is None:
            fail(f"no such user: {name}")
        token = create_token(conn, uid, label)
    if json_:
        emit_json({"name": name, "token": token})
    else:
        console.print(token)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default from config (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default from config (8000).")] = None,
    with_bot: Annotated[
        bool, typer.Option("--with-bot", help="Also run the bot process (qunyun run) in this process.")
    ] = False,
) -> None:
    """Run the dashboard and REST API (and, with --with-bot, the bot process)."""
    import uvicorn

    from qunyun.web.app import create_app

    app_ = get_app()
    host = host or app_.settings.web.host
    port = port or app_.settings.web.port
    console.print(tr("serve.start", url=f"http://{host}:{port}/"))
    if with_bot:
        import asyncio

        from qunyun.run.runner import serve_with_bot

        try:
            asyncio.run(serve_with_bot(app_, create_app(app_), host, port))
        except (OSError, ValueError) as exc:  # a taken port, a wrong [[accounts]] entry
            fail(str(exc))
        return
    uvicorn.run(create_app(app_), host=host, port=port, log_level="info")


@app.command()
def demo(
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same community).")] = 7,
    scale: Annotated[float, typer.Option("--scale", help="1.0 ≈ 2,000 members / 200,000 messages.")] = 1.0,
    password: Annotated[str | None, typer.Option("--password", help="Admin password (default: generated).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Build a realistic demo community (seeded) and an admin login."""
    from qunyun.demo import build_demo

    app_ = get_app()
    with Progress(console=err_console, transient=json_) as progress:
        task = progress.add_task("demo", total=None)
        result = build_demo(app_, seed=seed, scale=scale, password=password,
                            progress=lambda done, total: progress.update(task, completed=done, total=total))
    url = f"http://{app_.settings.web.host}:{app_.settings.web.port}/"
    if json_:
        emit_json({**result, "url": url})
        return
    console.print(tr("demo.done", **result))
    console.print(tr("demo.login", name=result["admin"], password=result["password"]))
    console.print(tr("serve.start", url=url))


def _mount_plugins() -> None:
    """Mount the CLI sub-apps and commands that plugins contribute.

    Runs before the options are parsed, so ``[plugins] disabled`` is read from the config file
    found the default way (``QUNYUN_CONFIG`` or ./qunyun.toml); a broken file is reported later,
    when a command opens the app, with the key that is wrong.
    """
    from qunyun.config import ConfigError, load_settings

    try:
        disabled = load_settings(ensure_secret=False).plugins.disabled
    except ConfigError:
        disabled = []
    registry = build_registry(disabled=disabled)
    for name, sub, help_ in registry.cli_apps:
        app.add_typer(sub, name=name, help=help_ or None)
    for name, fn in registry.cli_commands:
        app.command(name)(fn)


_mount_plugins()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
