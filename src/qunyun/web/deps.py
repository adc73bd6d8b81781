"""What a dashboard page or API route may depend on — the contract plugin pages code against.

- :func:`get_qapp` — the running :class:`~qunyun.app.QunyunApp` (settings, db, registry, engine).
- :func:`current_user` — ``{"id", "name", "role", "lang"}`` of whoever is signed in (session or
  bearer token); the app's auth gate has already turned anonymous requests away.
- :func:`require_role` — ``Depends(require_role("operator"))`` on anything that acts.
- :func:`render` — a Jinja2 page with ``user``, ``lang``, ``t``, ``nav``, ``csrf_token`` added.
- :func:`csrf_protect` — ``Depends(csrf_protect)`` on every POST form handler.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from qunyun.app import QunyunApp
from qunyun.domain import StaffRole
from qunyun.engine.plugins import NavItem, Registry
from qunyun.i18n import normalize_lang, t
from qunyun.staff import role_at_least
from qunyun.web import data

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

#: the shell's own pages; plugins add theirs with ``registry.add_nav``
CORE_NAV = (
    NavItem("nav.overview", "/", 10),
    NavItem("nav.groups", "/groups", 20),
    NavItem("nav.members", "/members", 30),
    NavItem("nav.audit", "/audit", 80),
    NavItem("nav.outbox", "/outbox", 85),
    NavItem("nav.dead_letters", "/dead-letters", 90),
    NavItem("nav.users", "/users", 200, "admin"),
)


class LoginRequired(Exception):
    """Raised when a route needs a user and there is none (the auth gate normally catches it first)."""


def get_qapp(request: Request) -> QunyunApp:
    """The QunyunApp this web app was created with."""
    qapp: QunyunApp = request.app.state.qapp
    return qapp


def optional_user(request: Request) -> dict[str, Any] | None:
    """The signed-in user, or None (public pages such as the login form)."""
    user: dict[str, Any] | None = getattr(request.state, "user", None)
    return user


def current_user(request: Request) -> dict[str, Any]:
    """The signed-in user; raises :class:`LoginRequired` (→ redirect or 401) when there is none."""
    user = optional_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_role(minimum: str) -> Callable[[Request], dict[str, Any]]:
    """A dependency that returns the user if their role is at least ``minimum``, else 403."""
    StaffRole(minimum)  # a typo in a plugin fails at import time, not at the first request

    def dependency(request: Request) -> dict[str, Any]:
        user = current_user(request)
        if not role_at_least(user["role"], minimum):
            raise HTTPException(403, t("web.forbidden", request_lang(request), role=minimum))
        return user

    dependency.__name__ = f"require_{minimum}"
    return dependency


def request_lang(request: Request) -> str:
    """The session's language (set by ``?lang=``), else the user's saved one, else the default."""
    lang = getattr(request.state, "lang", None)
    if lang:
        return str(lang)
    return normalize_lang(get_qapp(request).settings.web.default_lang)


# -- CSRF -------------------------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use; one per session, rotated at login)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_valid(request: Request, sent: object) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and isinstance(sent, str) and secrets.compare_digest(sent, str(expected))


async def csrf_protect(request: Request) -> None:
    """Reject a form POST whose ``csrf_token`` field (or X-CSRF-Token header) is not this session's."""
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not csrf_valid(request, sent):
        raise HTTPException(403, t("csrf.failed", request_lang(request)))


# -- flash messages ---------------------------------------------------------------------------
def flash(request: Request, message: str, kind: str = "info") -> None:
    """A one-time notice shown on the next rendered page (after a redirect)."""
    request.session.setdefault("flash", []).append([kind, message])
    request.session["flash"] = request.session["flash"]  # mark the session as changed


def pop_flashes(request: Request) -> list[list[str]]:
    return list(request.session.pop("flash", None) or [])


# -- navigation -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    path: str
    active: bool


def build_nav(registry: Registry, user: dict[str, Any] | None, lang: str, current_path: str) -> list[NavLink]:
    """Core entries + plugin entries, ordered, filtered by the user's role, the best match active."""
    if user is None:
        return []
    items = sorted([*CORE_NAV, *registry.nav], key=lambda n: (n.order, n.path))
    visible = [n for n in items if role_at_least(user["role"], n.min_role)]

    def matches(path: str) -> bool:
        return current_path == path or (path != "/" and current_path.startswith(path.rstrip("/") + "/"))

    best = max((n.path for n in visible if matches(n.path)), key=len, default=None)
    return [NavLink(t(n.label_key, lang), n.path, n.path == best) for n in visible]


# -- templates --------------------------------------------------------------------------------
def fmt_dt(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M", tz: tzinfo | None = None) -> str:
    """A stored (UTC) time shown in the dashboard's time zone (``web.timezone``)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    return value.strftime(fmt)


def fmt_num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def build_environment(template_dirs: list[Any], timezone: str = "UTC") -> Environment:
    """Core templates first (so ``base.html`` is always the shell's), then every plugin's directory."""
    loaders = [FileSystemLoader(str(TEMPLATES))] + [FileSystemLoader(str(d)) for d in template_dirs]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = ZoneInfo(timezone)
    env.filters["dt"] = lambda value, fmt="%Y-%m-%d %H:%M": fmt_dt(value, fmt, zone)
    env.filters["num"] = fmt_num
    return env


def url_with(request: Request, **params: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    query = dict(request.query_params)
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return request.url.path + ("?" + urlencode(query) if query else "")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with the shell's context (user, lang, t, nav, csrf_token) plus ``context``."""
    qapp = get_qapp(request)
    env: Environment = request.app.state.jinja
    user = optional_user(request)
    lang = request_lang(request)

    def tr(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    def label(prefix: str, value: Any) -> str:
        """A translated enum value (``label('kind', 'mute')`` → 禁言), or the value itself."""
        if value is None or value == "":
            return "–"
        key = f"{prefix}.{value}"
        text = t(key, lang)
        return str(value) if text == key else text

    base = {
        "request": request,
        "user": user,
        "lang": lang,
        "t": tr,
        "label": label,
        "column_label": lambda col: data.column_label(col, lang),
        "cell": lambda row, col: data.member_cell(row, col, lang),
        "evidence": data.evidence_text,
        "nav": build_nav(qapp.registry, user, lang, request.url.path),
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "url_with": lambda **kw: url_with(request, **kw),
        "dry_run": qapp.settings.engine.dry_run,
        "role_at_least": lambda minimum: user is not None and role_at_least(user["role"], minimum),
    }
    html = env.get_template(template).render({**base, **(context or {})})
    return HTMLResponse(html, status_code=status_code)


__all__ = [
    "CORE_NAV",
    "LoginRequired",
    "NavLink",
    "build_environment",
    "build_nav",
    "csrf_protect",
    "csrf_token",
    "current_user",
    "flash",
    "get_qapp",
    "optional_user",
    "render",
    "request_lang",
    "require_role",
]
