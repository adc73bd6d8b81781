"""The dashboard shell's own pages (HTML). Login is enforced by the auth gate, roles per route."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from qunyun.domain import StaffRole
from qunyun.engine.executor import FAILED, UNKNOWN, retry_failed
from qunyun.i18n import LANGS, normalize_lang, t
from qunyun.staff import StaffExists, authenticate, create_user, list_users, role_at_least
from qunyun.store import queries
from qunyun.store.queries import GroupAmbiguous, GroupNotFound, GroupRef
from qunyun.web import data
from qunyun.web.auth import safe_next
from qunyun.web.deps import (
    csrf_protect,
    csrf_token,
    current_user,
    flash,
    get_qapp,
    optional_user,
    render,
    request_lang,
    require_role,
)

PAGE_SIZE = 50
OUTBOX_STATUSES = ("pending", "sending", "failed", "unknown", "sent", "confirmed", "staff", "dry_run", "cancelled")

router = APIRouter(include_in_schema=False)

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]


def _pages(total: int, page: int, size: int = PAGE_SIZE) -> dict[str, Any]:
    pages = max(1, math.ceil(total / size))
    return {"page": page, "pages": pages, "total": total, "size": size}


def _offset(page: int, size: int = PAGE_SIZE) -> int:
    return (page - 1) * size


# -- login ------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    if optional_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)  # type: ignore[return-value]
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        user = authenticate(conn, username.strip(), password)
    if user is None:
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": t("login.failed", request_lang(request)),
                "username": username,
            },
            status_code=401,
        )
    lang = request.session.get("lang")
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session["uid"] = user["id"]
    request.session["lang"] = normalize_lang(lang or user.get("lang") or qapp.settings.web.default_lang)
    csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)  # type: ignore[return-value]


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> RedirectResponse:
    lang = request_lang(request)
    request.session.clear()
    request.session["lang"] = lang
    flash(request, t("web.logged_out", lang))
    return RedirectResponse("/login", status_code=303)


# -- overview ---------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request) -> HTMLResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    with qapp.db.engine.connect() as conn:
        numbers = data.overview(conn)
        points = data.per_day(conn, None, days=60)
        groups = sorted(queries.list_groups(conn), key=lambda g: g["messages"], reverse=True)[:10]
    chart = data.chart_series(points, t("overview.messages_per_day", lang))
    return render(request, "overview.html", {"numbers": numbers, "series": chart, "top_groups": groups})


# -- groups -----------------------------------------------------------------------------------
@router.get("/groups", response_class=HTMLResponse)
def groups_page(request: Request) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        groups = queries.list_groups(conn)
    return render(request, "groups.html", {"groups": groups})


@router.get("/groups/{platform}/{group_id}", response_class=HTMLResponse)
def group_page(request: Request, platform: str, group_id: str) -> HTMLResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    ref = GroupRef(platform, group_id)
    with qapp.db.engine.connect() as conn:
        try:
            group = data.group_detail(conn, ref)
        except GroupNotFound as exc:
            raise HTTPException(404, t("error.group_not_found", lang, group=str(ref))) from exc
        points = data.per_day(conn, ref, days=60)
        _, top = data.members_page(conn, qapp.registry, ref, search=None, offset=0, limit=10)
        recent = data.recent_messages(conn, ref, limit=30)
    chart = data.chart_series(points, t("overview.messages_per_day", lang))
    return render(
        request,
        "group_detail.html",
        {
            "group": group,
            "ref": ref,
            "series": chart,
            "top": top,
            "extra": data.extra_member_columns(top),
            "recent": recent,
        },
    )


# -- members ----------------------------------------------------------------------------------
@router.get("/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    group: Annotated[str | None, Query(max_length=300)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: PageNo = 1,
) -> HTMLResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    ref: GroupRef | None = None
    with qapp.db.engine.connect() as conn:
        groups = queries.list_groups(conn)
        if group:
            try:
                ref = queries.resolve_group(conn, group)
            except GroupNotFound as exc:
                raise HTTPException(404, t("error.group_not_found", lang, group=group)) from exc
            except GroupAmbiguous as exc:
                raise HTTPException(
                    400, t("error.group_ambiguous", lang, group=group, choices=", ".join(exc.choices))
                ) from exc
        total, rows = data.members_page(
            conn, qapp.registry, ref, search=(q or "").strip(), offset=_offset(page), limit=PAGE_SIZE
        )
    return render(
        request,
        "members.html",
        {
            "groups": groups,
            "ref": ref,
            "selected": str(ref) if ref else "",
            "q": q or "",
            "rows": rows,
            "extra": data.extra_member_columns(rows),
            "paging": _pages(total, page),
            "group_names": {f"{g['platform']}:{g['group_id']}": g["name"] for g in groups},
        },
    )


# -- audit, dead letters, outbox --------------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    page: PageNo = 1,
    source: Annotated[str | None, Query(max_length=128)] = None,
) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        total, rows = queries.audit_entries(
            conn, limit=PAGE_SIZE, offset=_offset(page), source=source or None
        )
    return render(
        request, "audit.html", {"rows": rows, "paging": _pages(total, page), "source": source or ""}
    )


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, page: PageNo = 1) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        total, rows = queries.dead_letters(conn, limit=PAGE_SIZE, offset=_offset(page))
    return render(request, "dead_letters.html", {"rows": rows, "paging": _pages(total, page)})


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    status: Annotated[str | None, Query(max_length=16)] = None,
    page: PageNo = 1,
) -> HTMLResponse:
    qapp = get_qapp(request)
    if status and status not in OUTBOX_STATUSES:
        raise HTTPException(400, f"status must be one of: {', '.join(OUTBOX_STATUSES)}")
    with qapp.db.engine.connect() as conn:
        total, rows = queries.outbox_entries(
            conn, status=status or None, limit=PAGE_SIZE, offset=_offset(page)
        )
    return render(
        request,
        "outbox.html",
        {
            "rows": rows,
            "paging": _pages(total, page),
            "status": status or "",
            "statuses": OUTBOX_STATUSES,
            "retryable": (FAILED, UNKNOWN),
        },
    )


@router.post("/outbox/{outbox_id}/retry", dependencies=[Depends(csrf_protect)])
async def outbox_retry(
    request: Request,
    outbox_id: int,
    user: Annotated[dict[str, Any], Depends(require_role("operator"))],
) -> RedirectResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    ok = await run_in_threadpool(retry_failed, qapp.db, outbox_id)
    if ok:
        flash(request, t("web.retried", lang, id=outbox_id), "ok")
    else:
        flash(request, t("web.retry_refused", lang, id=outbox_id), "error")
    form = await request.form()
    back = form.get("back")
    return RedirectResponse(safe_next(back if isinstance(back, str) else "/outbox"), status_code=303)


# -- staff users ------------------------------------------------------------------------------
@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request, user: Annotated[dict[str, Any], Depends(require_role("admin"))]
) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        users = list_users(conn)
    roles = [r.value for r in StaffRole if role_at_least(user["role"], r.value)]
    return render(request, "users.html", {"users": users, "roles": roles, "langs": LANGS})


@router.post("/users", dependencies=[Depends(csrf_protect)])
def users_create(
    request: Request,
    user: Annotated[dict[str, Any], Depends(require_role("admin"))],
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[StaffRole, Form()],
    lang: Annotated[str, Form()] = "zh-CN",
) -> RedirectResponse:
    qapp = get_qapp(request)
    ui = request_lang(request)
    name = name.strip()
    if not (1 <= len(name) <= 64) or len(password) < 8 or len(password) > 1024:
        flash(request, t("web.user_invalid", ui), "error")
    elif not role_at_least(user["role"], role.value):
        flash(request, t("web.role_too_high", ui), "error")
    else:
        try:
            with qapp.db.engine.begin() as conn:
                create_user(conn, name, password, role, normalize_lang(lang))
            flash(request, t("web.user_created", ui, name=name, role=t(f"role.{role.value}", ui)), "ok")
        except StaffExists:
            flash(request, t("web.user_exists", ui, name=name), "error")
    return RedirectResponse("/users", status_code=303)


__all__ = ["router", "current_user"]
