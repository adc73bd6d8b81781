"""Dashboard pages: the review queue (with confirm/undo buttons), incidents and the rules editor.

Every form POST carries the session's CSRF token and needs the operator role; decisions and rule
edits go through the same functions as the REST API and the CLI.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Connection

from qunyun.events import utcnow
from qunyun.i18n import t
from qunyun.store import queries
from qunyun.store.queries import GroupRef
from qunyun.web.deps import csrf_protect, current_user, flash, get_qapp, render, request_lang, require_role

from . import scope as sc
from .decisions import apply_decision, apply_decisions, moderation_settings
from .review import BULK_MAX, ReviewError, list_reviews, member_history
from .waves import WaveTracker, list_incidents

router = APIRouter(prefix="/moderation")
PAGE_SIZE = 25

Viewer = Annotated[dict[str, Any], Depends(current_user)]
Operator = Annotated[dict[str, Any], Depends(require_role("operator"))]
Page = Annotated[int, Query(ge=1, le=100_000)]


def _paging(total: int, page: int) -> dict[str, Any]:
    return {"page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)), "total": total, "size": PAGE_SIZE}


def _back(request: Request, fallback: str) -> RedirectResponse:
    """Back to the page the form was on (same-site paths only), else ``fallback``."""
    ref = request.headers.get("referer") or ""
    path = fallback
    if ref:
        from urllib.parse import urlsplit

        parts = urlsplit(ref)
        if parts.netloc in ("", request.url.netloc) and parts.path.startswith("/moderation/"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
    return RedirectResponse(path, status_code=303)


def _group_or_flash(request: Request, conn: Connection, spec: str) -> GroupRef | None:
    """A group chosen on a page (id, ``platform:id`` or name), or None with a flash saying why."""
    if not spec:
        return None
    lang = request_lang(request)
    try:
        return queries.resolve_group(conn, spec)
    except queries.GroupNotFound:
        flash(request, t("error.group_not_found", lang, group=spec), "error")
    except queries.GroupAmbiguous as exc:
        flash(request, t("error.group_ambiguous", lang, group=spec, choices=", ".join(exc.choices)), "error")
    return None


@router.get("", response_class=HTMLResponse)
def moderation_home() -> RedirectResponse:
    return RedirectResponse("/moderation/review", status_code=303)


BADGES = 6


def _badges(reasons: list[str]) -> tuple[list[str], int]:
    """The reasons a reviewer sees first: shapes, contacts and links before keywords (a message
    with seven strong keywords would otherwise hide its QQ number), and how many are left out."""
    ordered = [c for c in reasons if not c.startswith("keyword:")] + [c for c in reasons if c.startswith("keyword:")]
    return ordered[:BADGES], max(0, len(ordered) - BADGES)


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request, user: Viewer, status: str = "pending", page: Page = 1, group: str = "", kind: str = ""
) -> HTMLResponse:
    """The queue, filtered by status, group (``platform:id``) and kind (``flag``: nothing done yet;
    ``acted``: deleted, muted, removed or banned)."""
    qapp = get_qapp(request)
    cfg = moderation_settings(qapp)
    if status not in ("pending", "spam", "ham", "all"):
        status = "pending"
    with qapp.db.engine.connect() as conn:
        groups = queries.list_groups(conn)
        ref = _group_or_flash(request, conn, group)  # a stale link: said, and the whole queue shown
        total, rows = list_reviews(
            conn,
            status=None if status == "all" else status,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            group=ref,
            flagged={"flag": True, "acted": False}.get(kind),
        )
        for row in rows:
            row["badges"], row["more_reasons"] = _badges(row.get("reasons") or [])
            row["history"] = (
                member_history(conn, row["platform"], row["user_id"], row["group_id"], ladder=cfg.ladder, messages=3)
                if row["user_id"]
                else None
            )
    return render(
        request,
        "moderation/review.html",
        {
            "rows": rows,
            "paging": _paging(total, page),
            "status": status,
            "statuses": ["pending", "spam", "ham", "all"],
            "groups": groups,
            "group": group,
            "kind": kind if kind in ("flag", "acted") else "",
        },
    )


@router.post("/review/bulk")
def decide_bulk_form(
    request: Request,
    user: Operator,
    decision: Annotated[str, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
    _csrf: Annotated[None, Depends(csrf_protect)] = None,
) -> RedirectResponse:
    """The ticked reviews of a page, all confirmed or all undone (批量判定)."""
    lang = request_lang(request)
    if not ids:
        flash(request, t("moderation.bulk.none", lang), "error")
        return _back(request, "/moderation/review")
    try:
        done, failed = apply_decisions(get_qapp(request), ids[:BULK_MAX], decision, str(user["name"]))
    except ReviewError as exc:
        flash(request, t(exc.key, lang, **exc.params), "error")
        return _back(request, "/moderation/review")
    if done:
        label = t(f"moderation.decision.{decision}", lang)
        settled = len(done) + sum(len(r.linked) for r in done)  # an incident settles its copies' reviews
        flash(request, t("moderation.bulk.done", lang, n=settled, decision=label), "ok")
    for rid, err in failed:
        flash(request, f"#{rid}: {t(err.key, lang, **err.params)}", "error")
    return _back(request, "/moderation/review")


@router.post("/review/{review_id}/decide")
def decide_form(
    request: Request,
    review_id: int,
    user: Operator,
    decision: Annotated[str, Form()],
    _csrf: Annotated[None, Depends(csrf_protect)] = None,
) -> RedirectResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    try:
        result = apply_decision(qapp, review_id, decision, str(user["name"]))
    except ReviewError as exc:
        flash(request, t(exc.key, lang, **exc.params), "error")
    else:
        flash(
            request,
            t(
                "moderation.decided",
                lang,
                id=review_id,
                decision=t(f"moderation.decision.{result.decision}", lang),
                actions=len(result.actions),
            ),
            "ok",
        )
    return _back(request, "/moderation/review")


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, user: Viewer, status: str | None = None, page: Page = 1) -> HTMLResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        total, rows = list_incidents(conn, status=status or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        for row in rows:
            row["copies"] = WaveTracker.incident(conn, row["id"])["copies"]
    return render(
        request, "moderation/incidents.html", {"rows": rows, "paging": _paging(total, page), "status": status or ""}
    )


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, user: Viewer) -> HTMLResponse:
    qapp = get_qapp(request)
    cfg = moderation_settings(qapp)
    with qapp.db.engine.connect() as conn:
        entries = sc.list_entries(conn)
    return render(
        request,
        "moderation/rules.html",
        {
            "entries": entries,
            "kinds": list(sc.LIST_KINDS),
            "families": list(sc.RULE_FAMILIES),
            "cfg": cfg,
            "steps": [s.label()[1 if request_lang(request) == "en" else 0] for s in cfg.ladder.steps],
        },
    )


@router.post("/rules/add")
def add_rule_form(
    request: Request,
    user: Operator,
    kind: Annotated[str, Form()],
    value: Annotated[str, Form()],
    scope: Annotated[str, Form()] = "*",
    note: Annotated[str | None, Form()] = None,
    _csrf: Annotated[None, Depends(csrf_protect)] = None,
) -> RedirectResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    try:
        with qapp.db.engine.begin() as conn:
            entry_id = sc.add_list_entry(
                conn, scope.strip() or "*", kind, value, by=str(user["name"]), now=utcnow(), note=note or None
            )
    except sc.RuleListError as exc:
        flash(request, t(exc.key, lang, **exc.params), "error")
    else:
        flash(request, t("moderation.list_added", lang, id=entry_id, kind=kind, value=value.strip(), scope=scope), "ok")
    return RedirectResponse("/moderation/rules", status_code=303)


@router.post("/rules/{entry_id}/remove")
def remove_rule_form(
    request: Request,
    entry_id: int,
    user: Operator,
    _csrf: Annotated[None, Depends(csrf_protect)] = None,
) -> RedirectResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    with qapp.db.engine.begin() as conn:
        removed = sc.remove_list_entry(conn, entry_id)
    key = "moderation.list_removed" if removed else "moderation.list_missing"
    flash(request, t(key, lang, id=entry_id), "ok" if removed else "error")
    return RedirectResponse("/moderation/rules", status_code=303)


def _preview_page(
    request: Request, form: dict[str, Any], result: dict[str, Any] | None = None, conn: Connection | None = None
) -> HTMLResponse:
    """The preview form (its group list) and, after a POST, the result; ``conn``: the caller's, if open."""
    if conn is None:
        with get_qapp(request).db.engine.connect() as own:
            groups = queries.list_groups(own)
    else:
        groups = queries.list_groups(conn)
    return render(request, "moderation/preview.html", {"groups": groups, "form": form, "result": result})


@router.get("/preview", response_class=HTMLResponse)
def preview_page(
    request: Request,
    user: Viewer,
    group: str = "",
    text: Annotated[str, Query(max_length=20_000)] = "",
    user_id: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    """Try a message (试一试): the form, filled from the query (a review row links here)."""
    return _preview_page(request, {"text": text, "group": group, "user_id": user_id, "newcomer": ""})


@router.post("/preview", response_class=HTMLResponse)
def preview_form(
    request: Request,
    user: Viewer,
    text: Annotated[str, Form(max_length=20_000)] = "",
    group: Annotated[str, Form()] = "",
    user_id: Annotated[str, Form(max_length=128)] = "",
    newcomer: Annotated[str, Form()] = "",
    _csrf: Annotated[None, Depends(csrf_protect)] = None,
) -> HTMLResponse:
    """The verdict and what would happen, computed by the plugin's own code; nothing is written."""
    from .plugin import plugin_of
    from .preview import preview

    qapp = get_qapp(request)
    lang = request_lang(request)
    form = {"text": text, "group": group, "user_id": user_id.strip(), "newcomer": newcomer}
    if not text.strip():
        flash(request, t("moderation.preview.empty_text", lang), "error")
        return _preview_page(request, form)
    with qapp.db.engine.connect() as conn:
        ref = _group_or_flash(request, conn, group)
        if group and ref is None:
            return _preview_page(request, form, conn=conn)
        result = preview(
            conn,
            qapp.settings,
            text,
            now=utcnow(),
            group=ref,
            user_id=form["user_id"] or None,
            newcomer={"yes": True, "no": False}.get(newcomer),
            plugin=plugin_of(qapp.registry),
        )
        out = result.to_dict()
        out["summary_text"] = result.summary(lang)
        return _preview_page(request, form, out, conn=conn)
