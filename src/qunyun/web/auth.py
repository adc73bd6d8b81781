"""The auth gate: one place that decides who is asking, so no page can forget to check.

Every HTTP request passes through :class:`AuthGate` (inside the session middleware). It resolves
the user from the session cookie or, for the API and its OpenAPI description, from an
``Authorization: Bearer qy_...`` token; applies ``?lang=``; and turns anonymous requests away —
pages with a redirect to ``/login?next=...``, the API with a 401 JSON body. Only the login page,
``/healthz`` and ``/static/...`` are public. Plugin routers are covered without doing anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from qunyun.app import QunyunApp
from qunyun.i18n import LANGS, normalize_lang, t
from qunyun.staff import get_user, user_for_token
from qunyun.store.tables import StaffUserRow
from qunyun.web.deps import CSRF_HEADER, csrf_valid

PUBLIC_PATHS = frozenset({"/login", "/healthz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
API_PREFIX = "/api/"
#: non-/api paths that belong to the API face (token auth, JSON errors)
API_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX) or path in API_PATHS


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _session_user(qapp: QunyunApp, uid: Any) -> dict[str, Any] | None:
    if not isinstance(uid, int):
        return None
    with qapp.db.engine.connect() as conn:
        return get_user(conn, uid)


def _token_user(qapp: QunyunApp, token: str) -> dict[str, Any] | None:
    with qapp.db.engine.begin() as conn:
        return user_for_token(conn, token)


def save_lang(qapp: QunyunApp, uid: int, lang: str) -> None:
    """Remember the language a user switched to, so their next session opens in it."""
    with qapp.db.engine.begin() as conn:
        conn.execute(update(StaffUserRow).where(StaffUserRow.id == uid).values(lang=lang))


class AuthGate:
    """Pure ASGI middleware (so streaming responses and websockets are untouched)."""

    def __init__(self, app: ASGIApp, qapp: QunyunApp) -> None:
        self.app = app
        self.qapp = qapp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PUBLIC_PREFIXES):  # assets: no user lookup, no session work
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        api = is_api(path)
        user: dict[str, Any] | None = None
        via = None
        token = _bearer(request) if api else None
        if token is not None:
            user = await run_in_threadpool(_token_user, self.qapp, token)
            if user is None:
                await self._deny(scope, receive, send, request, api=True, reason=t("api.bad_token", "en"))
                return
            via = "token"
        else:
            uid = request.session.get("uid")
            if uid is not None:
                user = await run_in_threadpool(_session_user, self.qapp, uid)
                if user is None:  # disabled or deleted since the login
                    request.session.clear()
                else:
                    via = "session"
        lang = self._lang(request, user)
        state = scope.setdefault("state", {})
        state["user"], state["lang"], state["auth_via"] = user, lang, via
        if user is None and not is_public(path):
            await self._deny(scope, receive, send, request, api=api, reason=t("api.unauthorized", lang))
            return
        if (
            api
            and via == "session"
            and scope["method"] not in SAFE_METHODS
            and not csrf_valid(request, request.headers.get(CSRF_HEADER))
        ):
            response: Response = JSONResponse({"detail": t("api.csrf", lang)}, status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _lang(self, request: Request, user: dict[str, Any] | None) -> str:
        asked = request.query_params.get("lang")
        if asked is not None and normalize_lang(asked) in LANGS:
            lang = normalize_lang(asked)
            if request.session.get("lang") != lang:
                request.session["lang"] = lang
                if user is not None and user.get("lang") != lang:
                    save_lang(self.qapp, int(user["id"]), lang)
                    user["lang"] = lang
            return lang
        saved = request.session.get("lang") or (user or {}).get("lang") or self.qapp.settings.web.default_lang
        return normalize_lang(str(saved))

    async def _deny(
        self, scope: Scope, receive: Receive, send: Send, request: Request, *, api: bool, reason: str
    ) -> None:
        if api:
            response: Response = JSONResponse(
                {"detail": reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)
