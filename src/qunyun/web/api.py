"""REST API ``/api/v1``: the same numbers as the dashboard, plus event ingest for third-party bridges.

Auth: ``Authorization: Bearer qy_...`` (``qunyun user token NAME``) or a signed-in browser session
(write calls then also need the ``X-CSRF-Token`` header). Viewers read; operators act (retry,
ingest); admins and owners manage users. The auth gate answers 401 before any route runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from qunyun.domain import StaffRole
from qunyun.engine.executor import retry_failed
from qunyun.events import Event, utcnow
from qunyun.i18n import normalize_lang, t
from qunyun.importers.base import Rejected
from qunyun.importers.native import parse_event_line
from qunyun.staff import StaffExists, create_user, list_users, role_at_least
from qunyun.store import queries
from qunyun.store.queries import GroupNotFound, GroupRef
from qunyun.store.tables import OutboxRow
from qunyun.store.writer import write_dead_letters
from qunyun.web import data
from qunyun.web.deps import current_user, get_qapp, request_lang, require_role

MAX_EVENTS = 5000
MAX_LIMIT = 500

router = APIRouter(tags=["qunyun"])

Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows to return (at most {MAX_LIMIT}).")]
Viewer = Annotated[dict[str, Any], Depends(current_user)]
Operator = Annotated[dict[str, Any], Depends(require_role("operator"))]
Admin = Annotated[dict[str, Any], Depends(require_role("admin"))]


# -- response shapes (they are what /openapi.json documents) ----------------------------------
class UserOut(BaseModel):
    id: int
    name: str
    role: str
    lang: str | None = None


class OverviewOut(BaseModel):
    groups: int
    members: int = Field(description="Distinct accounts (platform + user id) across all groups.")
    messages: int
    last_message: datetime | None
    active_last_day: int = Field(description="Accounts that spoke in the 24 h before the last message.")


class GroupOut(BaseModel):
    platform: str
    group_id: str
    name: str | None
    type: str
    tier: str | None
    capacity: int | None
    parent_group_id: str | None
    members: int
    messages: int
    last_message: datetime | None


class GroupDetailOut(GroupOut):
    active_last_day: int


class MemberOut(BaseModel):
    """A member row; plugins' member enrichers may add columns (score, role, reason ...)."""

    model_config = ConfigDict(extra="allow")
    platform: str
    group_id: str
    user_id: str
    user_name: str | None
    messages: int
    first_seen: datetime | None
    last_seen: datetime | None
    last_spoke: datetime | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    is_admin: bool = False
    status: str | None = None


class MembersPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MemberOut]


class DayOut(BaseModel):
    date: date
    messages: int


class AuditOut(BaseModel):
    id: int
    time: datetime
    actor: str
    source: str
    kind: str
    platform: str | None
    group_id: str | None
    user_id: str | None
    reason_zh: str | None
    reason_en: str | None
    evidence: dict[str, Any] | None
    dry_run: bool
    status: str | None
    outbox_id: int | None
    idempotency_key: str | None
    cause: str | None


class AuditPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AuditOut]


class DeadLetterOut(BaseModel):
    id: int
    source: str
    line: int | None
    reason: str
    raw: str | None
    created_at: datetime


class DeadLetterPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[DeadLetterOut]


class OutboxOut(BaseModel):
    id: int
    idempotency_key: str
    kind: str
    platform: str
    account: str | None
    group_id: str | None
    user_id: str | None
    action: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class OutboxPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[OutboxOut]


class RetryOut(BaseModel):
    id: int
    retried: bool
    status: str


class ItemError(BaseModel):
    index: int
    reason: str


class ItemResult(BaseModel):
    index: int
    status: str = Field(description="stored, duplicate or rejected")
    actions: int = 0


class IngestOut(BaseModel):
    imported: int
    duplicates: int
    rejected: int
    actions: int
    errors: list[ItemError]
    results: list[ItemResult]


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    role: StaffRole = StaffRole.VIEWER
    lang: str = "zh-CN"


class StaffOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime | None
    disabled: bool


# -- helpers ----------------------------------------------------------------------------------
def _group_or_404(request: Request, conn: Any, platform: str, group_id: str) -> GroupRef:
    ref = GroupRef(platform, group_id)
    try:
        queries.get_group(conn, ref)
    except GroupNotFound as exc:
        raise HTTPException(404, t("error.group_not_found", request_lang(request), group=str(ref))) from exc
    return ref


# -- routes -----------------------------------------------------------------------------------
@router.get("/me", response_model=UserOut, summary="Who am I (the token's or session's user)")
def me(user: Viewer) -> dict[str, Any]:
    return user


@router.get("/overview", response_model=OverviewOut, summary="Totals across every group")
def overview(request: Request, user: Viewer) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        return data.overview(conn)


@router.get("/groups", response_model=list[GroupOut], summary="Every group with members and messages")
def groups(request: Request, user: Viewer) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        return queries.list_groups(conn)


@router.get("/groups/{platform}/{group_id}", response_model=GroupDetailOut, summary="One group's numbers")
def group(request: Request, platform: str, group_id: str, user: Viewer) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        ref = _group_or_404(request, conn, platform, group_id)
        return data.group_detail(conn, ref)


@router.get(
    "/groups/{platform}/{group_id}/members",
    response_model=MembersPage,
    summary="A group's members (search, paging, plugin columns)",
)
def members(
    request: Request,
    platform: str,
    group_id: str,
    user: Viewer,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or user id.")] = None,
    order: Annotated[str, Query(pattern="^(messages|last_seen|first_seen|name)$")] = "messages",
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        ref = _group_or_404(request, conn, platform, group_id)
        total, rows = data.members_page(
            conn, qapp.registry, ref, search=q, offset=offset, limit=limit, order=order
        )
    return {"total": total, "offset": offset, "limit": limit, "items": rows}


@router.get(
    "/groups/{platform}/{group_id}/messages-per-day",
    response_model=list[DayOut],
    summary="Messages per UTC day up to the group's last message",
)
def messages_per_day(
    request: Request,
    platform: str,
    group_id: str,
    user: Viewer,
    days: Annotated[int, Query(ge=1, le=3660)] = 60,
) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        ref = _group_or_404(request, conn, platform, group_id)
        return data.per_day(conn, ref, days=days)


@router.get("/messages-per-day", response_model=list[DayOut], summary="Messages per UTC day, all groups")
def messages_per_day_all(
    request: Request, user: Viewer, days: Annotated[int, Query(ge=1, le=3660)] = 60
) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        return data.per_day(conn, None, days=days)


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first")
def audit(
    request: Request,
    user: Viewer,
    source: Annotated[str | None, Query(max_length=128, description="Rule/feature prefix.")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        total, rows = queries.audit_entries(conn, limit=limit, offset=offset, source=source)
    return {"total": total, "offset": offset, "limit": limit, "items": rows}


@router.get("/dead-letters", response_model=DeadLetterPage, summary="Malformed input kept aside")
def dead_letters(request: Request, user: Viewer, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        total, rows = queries.dead_letters(conn, limit=limit, offset=offset)
    return {"total": total, "offset": offset, "limit": limit, "items": rows}


@router.get("/outbox", response_model=OutboxPage, summary="Outbound actions and their delivery state")
def outbox(
    request: Request,
    user: Viewer,
    status: Annotated[
        str | None, Query(pattern="^(pending|sending|sent|confirmed|unknown|failed|staff|dry_run|cancelled)$")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    with get_qapp(request).db.engine.connect() as conn:
        total, rows = queries.outbox_entries(conn, status=status, limit=limit, offset=offset)
    return {"total": total, "offset": offset, "limit": limit, "items": rows}


@router.post(
    "/outbox/{outbox_id}/retry",
    response_model=RetryOut,
    summary="Queue a failed (or unknown) action again",
    responses={404: {"description": "No such outbox entry"}, 409: {"description": "Not failed"}},
)
async def outbox_retry(request: Request, outbox_id: int, user: Operator) -> dict[str, Any]:
    qapp = get_qapp(request)
    ok = await run_in_threadpool(retry_failed, qapp.db, outbox_id)
    ob = OutboxRow.__table__
    with qapp.db.engine.connect() as conn:
        status = conn.execute(select(ob.c.status).where(ob.c.id == outbox_id)).scalar()
    if status is None:
        raise HTTPException(404, t("api.outbox_not_found", request_lang(request), id=outbox_id))
    if not ok:
        raise HTTPException(409, t("web.retry_refused", request_lang(request), id=outbox_id))
    return {"id": outbox_id, "retried": True, "status": status}


@router.post(
    "/events",
    response_model=IngestOut,
    summary="Ingest a batch of events (native JSON shape) through the engine",
    description=(
        "The body is a JSON array of event objects in the native import format "
        '(`{"platform", "group_id", "message_id", "user_id", "type", "text", "time", ...}`). '
        "Valid events are stored, then policies and handlers run and their actions are queued. "
        "Malformed items go to the dead letters and are listed in `errors` with their index; "
        "the rest of the batch is still processed. Re-sending an event is a no-op (`duplicate`)."
    ),
)
async def ingest_events(
    request: Request,
    user: Operator,
    items: Annotated[list[Any], Body(description="Events in the native JSON shape.")],
) -> dict[str, Any]:
    qapp = get_qapp(request)
    lang = request_lang(request)
    if len(items) > MAX_EVENTS:
        raise HTTPException(413, t("api.too_many", lang, max=MAX_EVENTS))
    events: list[tuple[int, Event]] = []
    errors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    source = f"api:{user['name']}"
    now = utcnow()
    for index, item in enumerate(items):
        raw = orjson.dumps(item).decode()
        if not isinstance(item, dict):
            record: Any = Rejected(index, f"expected a JSON object, got {type(item).__name__}", raw)
        else:
            record = parse_event_line(raw.encode(), index)
        if isinstance(record, Rejected):
            errors.append({"index": index, "reason": record.reason})
            results.append({"index": index, "status": "rejected", "actions": 0})
            dead.append(
                {
                    "source": source,
                    "line": index,
                    "reason": record.reason,
                    "raw": raw[:10000],
                    "created_at": now,
                }
            )
        else:
            events.append((index, record))
    if dead:
        await run_in_threadpool(_write_dead, qapp, dead)
    outcomes = await qapp.engine.aprocess([ev for _, ev in events]) if events else []
    imported = duplicates = actions = 0
    for (index, _), outcome in zip(events, outcomes, strict=True):
        if outcome.stored:
            imported += 1
            actions += len(outcome.actions)
        else:
            duplicates += 1
        results.append(
            {
                "index": index,
                "status": "stored" if outcome.stored else "duplicate",
                "actions": len(outcome.actions),
            }
        )
    results.sort(key=lambda r: r["index"])
    return {
        "imported": imported,
        "duplicates": duplicates,
        "rejected": len(errors),
        "actions": actions,
        "errors": errors,
        "results": results,
    }


def _write_dead(qapp: Any, rows: list[dict[str, Any]]) -> None:
    with qapp.db.engine.begin() as conn:
        write_dead_letters(conn, rows)


@router.get("/users", response_model=list[StaffOut], summary="Staff logins (admin)")
def users(request: Request, user: Admin) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        return list_users(conn)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Create a staff login (admin; never above your own role)",
    responses={409: {"description": "Name taken"}, 403: {"description": "Role above your own"}},
)
def create_staff(request: Request, body: UserCreate, user: Admin) -> dict[str, Any]:
    lang = request_lang(request)
    if not role_at_least(user["role"], body.role.value):
        raise HTTPException(403, t("web.role_too_high", lang))
    try:
        with get_qapp(request).db.engine.begin() as conn:
            uid = create_user(conn, body.name.strip(), body.password, body.role, normalize_lang(body.lang))
    except StaffExists as exc:
        raise HTTPException(409, t("web.user_exists", lang, name=body.name)) from exc
    return {"id": uid, "name": body.name.strip(), "role": body.role.value, "lang": normalize_lang(body.lang)}
