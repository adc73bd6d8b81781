"""REST endpoints ``/api/v1/moderation/...``: review queue, decisions, incidents, rule lists.

Auth is enforced by the app (bearer token or session); reading needs a viewer, deciding and
editing rules an operator. Decisions run :func:`.review.decide` — the same code as the CLI and
the dashboard — so undo actions go through the executor and the audit names the reviewer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from qunyun.events import utcnow
from qunyun.i18n import t
from qunyun.store import queries
from qunyun.web.deps import current_user, get_qapp, request_lang, require_role

from . import scope as sc
from .decisions import apply_decision, apply_decisions, moderation_settings
from .review import BULK_MAX, ReviewError, get_review, list_reviews
from .tables import community_of
from .waves import WaveTracker, list_incidents

router = APIRouter(prefix="/moderation", tags=["moderation"])

Viewer = Annotated[dict[str, Any], Depends(current_user)]
Operator = Annotated[dict[str, Any], Depends(require_role("operator"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["spam", "ham"] = Field(description="spam confirms; ham (not spam) undoes and trusts more")


class BulkDecisionIn(DecisionIn):
    ids: list[int] = Field(min_length=1, max_length=BULK_MAX, description="review ids")


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description=f"one of {', '.join(sc.LIST_KINDS)}")
    value: str
    scope: str = Field(default="*", description="*, community:<key> or group:<platform>:<group_id>")
    note: str | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=20_000, description="the message text")
    group: str | None = Field(default=None, description="group id, platform:id or name (none: the global rules)")
    user_id: str | None = Field(default=None, max_length=128, description="the sender (record, trust, strikes)")
    newcomer: bool | None = Field(default=None, description="override the member record's newcomer status")


def review_http_error(exc: ReviewError, lang: str) -> HTTPException:
    status = {"moderation.error.review_not_found": 404, "moderation.error.already_decided": 409}.get(exc.key, 422)
    return HTTPException(status, t(exc.key, lang, **exc.params))


@router.get("/reviews", summary="Review queue (复核队列)")
def reviews(
    request: Request,
    user: Viewer,
    status: Annotated[Literal["pending", "spam", "ham", "all"], Query()] = "pending",
    limit: Limit = 50,
    offset: Offset = 0,
    group: Annotated[str | None, Query(description="group id, platform:id or name")] = None,
    flagged: Annotated[bool | None, Query(description="true: flags only (nothing done yet); false: acted on")] = None,
) -> dict[str, Any]:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        ref = _group(conn, group, request_lang(request)) if group else None
        total, rows = list_reviews(
            conn, status=None if status == "all" else status, limit=limit, offset=offset, group=ref, flagged=flagged
        )
    return {"total": total, "reviews": rows}


@router.get("/reviews/{review_id}", summary="One review with the member's history")
def review(request: Request, review_id: int, user: Viewer) -> dict[str, Any]:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        try:
            return get_review(conn, review_id, ladder=moderation_settings(qapp).ladder)
        except ReviewError as exc:
            raise review_http_error(exc, request_lang(request)) from exc


@router.post("/reviews/{review_id}/decision", summary="Confirm (spam) or undo (ham) a review")
def review_decision(request: Request, review_id: int, body: DecisionIn, user: Operator) -> dict[str, Any]:
    qapp = get_qapp(request)
    try:
        result = apply_decision(qapp, review_id, body.decision, str(user["name"]))
    except ReviewError as exc:
        raise review_http_error(exc, request_lang(request)) from exc
    return result.to_dict()


@router.post("/reviews/decisions", summary="Decide several reviews at once (批量判定)")
def review_decisions(request: Request, body: BulkDecisionIn, user: Operator) -> dict[str, Any]:
    lang = request_lang(request)
    done, failed = apply_decisions(get_qapp(request), body.ids, body.decision, str(user["name"]))
    return {
        "decision": body.decision,
        "decided": [r.to_dict() for r in done],
        "errors": [{"id": rid, "error": t(exc.key, lang, **exc.params)} for rid, exc in failed],
    }


@router.get("/incidents", summary="Cross-group waves (跨群刷屏事件)")
def incidents(
    request: Request,
    user: Viewer,
    status: Annotated[str | None, Query(description="actioned, watch, dismissed, confirmed")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        total, rows = list_incidents(conn, status=status, limit=limit, offset=offset)
    return {"total": total, "incidents": rows}


@router.get("/incidents/{incident_id}", summary="One incident with its copies and senders")
def incident(request: Request, incident_id: int, user: Viewer) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        try:
            return WaveTracker.incident(conn, incident_id)
        except Exception as exc:  # NoResultFound
            raise HTTPException(404, f"incident {incident_id} not found") from exc


@router.get("/rules", summary="Rule lists, and a group's effective rules with ?group=")
def rules(request: Request, user: Viewer, group: str | None = None) -> dict[str, Any]:
    qapp = get_qapp(request)
    cfg = moderation_settings(qapp)
    lang = request_lang(request)
    out: dict[str, Any] = {
        "ladder": cfg.ladder.model_dump(),
        "waves": cfg.waves.model_dump(),
        "trusted_users": cfg.trusted_users,
    }
    with qapp.db.engine.connect() as conn:
        out["lists"] = sc.list_entries(conn)
        if group:
            ref = _group(conn, group, lang)
            community = community_of(conn, ref.platform, ref.group_id)
            out["group"] = str(ref)
            out["community"] = community.key
            out["effective"] = sc.effective_rules(cfg, conn, ref.platform, ref.group_id, community).model_dump()
    return out


def _group(conn: Connection, spec: str, lang: str) -> queries.GroupRef:
    """A ``group`` parameter (id, ``platform:id`` or name) → the group, or 404/409 naming it."""
    try:
        return queries.resolve_group(conn, spec)
    except queries.GroupNotFound as exc:
        raise HTTPException(404, t("error.group_not_found", lang, group=spec)) from exc
    except queries.GroupAmbiguous as exc:
        raise HTTPException(409, t("error.group_ambiguous", lang, group=spec, choices=", ".join(exc.choices))) from exc


@router.post("/preview", summary="Try a message: what moderation would do with it (试一试; writes nothing)")
def preview_message(request: Request, body: PreviewIn, user: Viewer) -> dict[str, Any]:
    from .plugin import plugin_of
    from .preview import preview

    qapp = get_qapp(request)
    lang = request_lang(request)
    if not body.text.strip():
        raise HTTPException(422, t("moderation.preview.empty_text", lang))
    with qapp.db.engine.connect() as conn:
        ref = _group(conn, body.group, lang) if body.group else None
        result = preview(
            conn,
            qapp.settings,
            body.text,
            now=utcnow(),
            group=ref,
            user_id=body.user_id or None,
            newcomer=body.newcomer,
            plugin=plugin_of(qapp.registry),
        )
    return result.to_dict()


@router.post("/rules", summary="Add a keyword, domain or whitelisted member", status_code=201)
def add_rule(request: Request, body: RuleIn, user: Operator) -> dict[str, Any]:
    qapp = get_qapp(request)
    try:
        with qapp.db.engine.begin() as conn:
            entry_id = sc.add_list_entry(
                conn, body.scope, body.kind, body.value, by=str(user["name"]), now=utcnow(), note=body.note
            )
    except sc.RuleListError as exc:
        raise HTTPException(422, t(exc.key, request_lang(request), **exc.params)) from exc
    return {"id": entry_id, "scope": body.scope, "kind": body.kind, "value": sc.clean_list_value(body.kind, body.value)}


@router.delete("/rules/{entry_id}", summary="Remove a rule-list entry")
def remove_rule(request: Request, entry_id: int, user: Operator) -> dict[str, Any]:
    with get_qapp(request).db.engine.begin() as conn:
        removed = sc.remove_list_entry(conn, entry_id)
    if not removed:
        raise HTTPException(404, t("moderation.list_missing", request_lang(request), id=entry_id))
    return {"id": entry_id, "removed": True}
