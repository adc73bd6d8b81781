"""``qunyun profile ...``: show, link/unlink identities, tags, notes, onboarding fields, parse."""

from __future__ import annotations

from typing import Annotated

import typer

from qunyun.cli.common import console, emit_json, fail, get_app, tr

app = typer.Typer(
    help="Member profiles (用户画像): identities, tags, notes, onboarding fields.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
UserArg = Annotated[str, typer.Argument(help="platform:user_id")]


def _split(spec: str) -> tuple[str, str]:
    platform, _, uid = spec.partition(":")
    if not platform or not uid:
        fail(tr("profile.bad_user", user=spec))
    return platform.lower(), uid


@app.command("show")
def show(user: UserArg, json_: JsonOpt = False) -> None:
    """Accounts, groups, onboarding fields, tags, notes and the activity timeline of a member."""
    from qunyun.features.members.profiles import profile

    platform, uid = _split(user)
    with get_app().db.engine.connect() as conn:
        try:
            out = profile(conn, platform, uid)
        except LookupError:
            fail(tr("profile.not_found", user=user))
    if json_:
        emit_json(out)
        return
    console.print(f"[bold]{out['display_name'] or user}[/]  {', '.join(out['accounts'])}")
    for key in ("region", "industry", "needs"):
        console.print(f"  {tr('profile.' + key)}: {out[key] or '-'}")
    console.print(f"  {tr('profile.motivations')}: {', '.join(out['motivations']) or '-'}")
    console.print(f"  {tr('profile.tags')}: {', '.join(out['tags']) or '-'}")
    console.print(f"  {tr('profile.notes')}: {out['notes'] or '-'}")
    console.print(
        f"  {tr('profile.groups')}: "
        + ", ".join(f"{g['platform']}:{g['group_id']} ({g['messages']})" for g in out["groups"])
    )


@app.command("link")
def link_cmd(
    users: Annotated[list[str], typer.Argument(help="Two or more platform:user_id accounts of one person.")],
    name: Annotated[str | None, typer.Option("--name", help="The person's display name.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Link accounts (QQ, WeChat, Telegram ...) as one person."""
    from qunyun.features.members.profiles import link

    accounts = [_split(u) for u in users]
    try:
        with get_app().db.engine.begin() as conn:
            pid = link(conn, accounts, name)
    except LookupError as exc:
        fail(tr("profile.not_found", user=str(exc)))
    if json_:
        emit_json({"person_id": pid, "accounts": users})
    else:
        console.print(tr("profile.linked", person=pid, accounts=", ".join(users)))


@app.command("unlink")
def unlink_cmd(user: UserArg, json_: JsonOpt = False) -> None:
    """Detach one account from its person."""
    from qunyun.features.members.profiles import unlink

    platform, uid = _split(user)
    with get_app().db.engine.begin() as conn:
        ok = unlink(conn, platform, uid)
    if not ok:
        fail(tr("profile.not_found", user=user))
    if json_:
        emit_json({"unlinked": user})
    else:
        console.print(tr("profile.unlinked", user=user))


@app.command("tag")
def tag_cmd(
    user: UserArg,
    add: Annotated[list[str] | None, typer.Option("--add", "-a")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", "-r")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add or remove tags."""
    from qunyun.features.members.profiles import set_tags

    platform, uid = _split(user)
    with get_app().db.engine.begin() as conn:
        tags = set_tags(conn, platform, uid, add or [], remove or [])
    if json_:
        emit_json({"user": user, "tags": tags})
    else:
        console.print(", ".join(tags) or "-")


@app.command("set")
def set_cmd(
    user: UserArg,
    region: Annotated[str | None, typer.Option("--region")] = None,
    industry: Annotated[str | None, typer.Option("--industry")] = None,
    needs: Annotated[str | None, typer.Option("--needs")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Replace the staff note.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Set onboarding fields (地区/行业/需求) or the staff note by hand."""
    from qunyun.features.members.profiles import upsert_profile

    platform, uid = _split(user)
    values = {
        k: v
        for k, v in {"region": region, "industry": industry, "needs": needs, "notes": note}.items()
        if v is not None
    }
    with get_app().db.engine.begin() as conn:
        upsert_profile(conn, platform, uid, values)
    if json_:
        emit_json({"user": user, **values})
    else:
        console.print(tr("profile.saved"))


@app.command("parse")
def parse_cmd(
    text: Annotated[str, typer.Argument(help="A self-introduction.")], json_: JsonOpt = False
) -> None:
    """Parse a self-introduction into region / industry / needs / motivations (no database)."""
    from qunyun.features.members.profiles import parse_intro

    out = parse_intro(text)
    if json_:
        emit_json(out)
    else:
        for k, v in out.items():
            console.print(f"{k}: {v}")
