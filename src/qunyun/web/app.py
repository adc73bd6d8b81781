"""``create_app(qapp)``: the dashboard (Jinja2 pages) and the REST API (``/api/v1``) in one FastAPI app.

Middleware order, outermost first: security headers → sessions (signed cookie, itsdangerous) →
:class:`~qunyun.web.auth.AuthGate` (who is asking; anonymous requests stop here). Plugins' web
routers are mounted like the shell's pages and their API routers under ``/api/v1``; the gate
covers them without them doing anything.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qunyun import __version__
from qunyun.app import QunyunApp
from qunyun.engine.plugins import resolve_router
from qunyun.i18n import t
from qunyun.web import api, pages
from qunyun.web.auth import AuthGate, is_api
from qunyun.web.deps import STATIC, LoginRequired, build_environment, render, request_lang

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """No framing, no MIME sniffing, no referrer leaks to other sites."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(qapp: QunyunApp) -> FastAPI:
    """Build the web app for ``qapp`` (the CLI's ``qunyun serve`` runs it with uvicorn)."""
    app = FastAPI(
        title="qunyun 群运 API",
        version=__version__,
        description=(
            "REST API of qunyun. Authenticate with `Authorization: Bearer qy_...` "
            "(create a token with `qunyun user token NAME`) or a signed-in dashboard session."
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.qapp = qapp
    app.state.jinja = build_environment(list(qapp.registry.template_dirs), qapp.settings.web.timezone)

    # the order matters: the last added middleware is the outermost
    app.add_middleware(AuthGate, qapp=qapp)
    app.add_middleware(
        SessionMiddleware,
        secret_key=qapp.settings.web.secret_key,
        session_cookie="qunyun_session",
        max_age=qapp.settings.web.session_max_age,
        same_site="lax",
        https_only=False,
    )
    app.add_middleware(SecurityHeaders)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["health"], summary="Liveness probe (no login)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI (behind login), served from the vendored bundle so it works offline."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="qunyun API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/docs", include_in_schema=False)
    def docs_redirect() -> RedirectResponse:
        return RedirectResponse(f"{API_PREFIX}/docs")

    app.include_router(pages.router)
    # the bearer scheme only documents the auth in /openapi.json (the gate has already checked it)
    documented = [Depends(HTTPBearer(auto_error=False, description="qunyun user token NAME"))]
    app.include_router(api.router, prefix=API_PREFIX, dependencies=documented)
    for router in qapp.registry.web_routers:
        app.include_router(resolve_router(router), include_in_schema=False)
    for router in qapp.registry.api_routers:
        app.include_router(resolve_router(router), prefix=API_PREFIX, dependencies=documented)

    _install_error_handlers(app)
    return app


def _wants_json(request: Request) -> bool:
    return is_api(request.url.path)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": t("api.unauthorized", request_lang(request))}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error_page(request, exc.status_code, str(exc.detail) if exc.detail else "")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in errors
        )
        return _error_page(request, 422, detail)


def _error_page(request: Request, status: int, detail: str) -> Response:
    lang = request_lang(request)
    title = t("web.not_found", lang) if status == 404 else t("web.error", lang)
    if status == 404 and detail == "Not Found":
        detail = ""
    context: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    try:
        return render(request, "error.html", context, status_code=status)
    except Exception:  # never let the error page hide the error
        log.exception("error page failed")
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
