"""Dashboard pages and REST endpoints of the tiers feature: review, edit (drop moves) and approve plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from qunyun.features.members.plugin import members_config
from qunyun.features.tiers.config import ChainSpec, TiersConfig, TierSpec
from qunyun.features.tiers.review import (
    TierError,
    apply_plan,
    chains,
    drop_move,
    get_chain,
    get_plan,
    list_plans,
    make_plan,
    save_chain,
)
from qunyun.i18n import t
from qunyun.web.deps import csrf_protect, flash, get_qapp, render, request_lang, require_role

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["tiers"])
Operator = Annotated[dict[str, Any], Depends(require_role("operator"))]


def _cfg(request: Request) -> TiersConfig:
    cfg: TiersConfig = get_qapp(request).settings.feature("tiers", TiersConfig)
    return cfg


def _new_plan(request: Request, name: str, actor: str) -> int:
    qapp = get_qapp(request)
    try:
        with qapp.db.engine.begin() as conn:
            spec = get_chain(conn, _cfg(request), name)
            return make_plan(conn, name, spec, members_config(qapp.settings), created_by=actor)
    except TierError as exc:
        raise HTTPException(404, str(exc)) from exc


def _plan(request: Request, plan_id: int) -> dict[str, Any]:
    try:
        with get_qapp(request).db.engine.connect() as conn:
            return get_plan(conn, plan_id)
    except TierError as exc:
        raise HTTPException(404, str(exc)) from exc


def _drop(request: Request, plan_id: int, move_id: int, dropped: bool) -> None:
    try:
        with get_qapp(request).db.engine.begin() as conn:
            drop_move(conn, plan_id, move_id, dropped)
    except TierError as exc:
        raise HTTPException(409, str(exc)) from exc


def _apply(request: Request, plan_id: int, actor: str) -> int:
    qapp = get_qapp(request)
    try:
        with qapp.db.engine.begin() as conn:
            return len(apply_plan(conn, plan_id, dry_run=qapp.settings.engine.dry_run, actor=actor))
    except TierError as exc:
        raise HTTPException(409, str(exc)) from exc


# -- pages ------------------------------------------------------------------------------------
@router.get("/tiers", response_class=HTMLResponse)
def tiers_page(request: Request, user: Operator) -> HTMLResponse:
    with get_qapp(request).db.engine.connect() as conn:
        found = chains(conn, _cfg(request))
        plans = list_plans(conn)
    return render(request, "tiers.html", {"chains": found, "plans": plans})


@router.post("/tiers/chains", dependencies=[Depends(csrf_protect)])
def tiers_save_chain(
    request: Request,
    user: Operator,
    name: Annotated[str, Form(min_length=1, max_length=64)],
    groups: Annotated[str, Form(max_length=2000, description="platform:group_id, top tier first")],
    period_days: Annotated[int, Form(ge=1, le=365)] = 15,
    move_up: Annotated[int, Form(ge=0, le=100)] = 3,
    move_down: Annotated[int, Form(ge=0, le=1000)] = 10,
) -> RedirectResponse:
    """Define (or replace) a chain from the dashboard; a wrong value is shown back with its field."""
    lang = request_lang(request)
    specs = [g.strip() for g in groups.replace("，", ",").replace("\n", ",").split(",") if g.strip()]
    try:
        spec = ChainSpec(
            tiers=[TierSpec(group=g) for g in specs],
            period_days=period_days,
            move_up=move_up,
            move_down=move_down,
        )
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        flash(request, detail, "error")
        return RedirectResponse("/tiers", status_code=303)
    with get_qapp(request).db.engine.begin() as conn:
        save_chain(conn, name.strip(), spec)
    flash(request, t("tiers.chain.saved", lang, name=name.strip()), "success")
    return RedirectResponse("/tiers", status_code=303)


@router.post("/tiers/chains/{name}/plan", dependencies=[Depends(csrf_protect)])
def tiers_new_plan(request: Request, name: str, user: Operator) -> RedirectResponse:
    plan_id = _new_plan(request, name, user["name"])
    return RedirectResponse(f"/tiers/plans/{plan_id}", status_code=303)


@router.get("/tiers/plans/{plan_id}", response_class=HTMLResponse)
def tiers_plan_page(request: Request, plan_id: int, user: Operator) -> HTMLResponse:
    plan = _plan(request, plan_id)
    names = {t["group"].partition(":")[2]: t.get("name") or t["group"] for t in plan["spec"].get("tiers", [])}
    return render(request, "tiers_plan.html", {"plan": plan, "names": names})


@router.post("/tiers/plans/{plan_id}/moves/{move_id}/drop", dependencies=[Depends(csrf_protect)])
def tiers_drop(
    request: Request, plan_id: int, move_id: int, user: Operator, restore: bool = False
) -> RedirectResponse:
    _drop(request, plan_id, move_id, not restore)
    return RedirectResponse(f"/tiers/plans/{plan_id}", status_code=303)


@router.post("/tiers/plans/{plan_id}/approve", dependencies=[Depends(csrf_protect)])
def tiers_approve(request: Request, plan_id: int, user: Operator) -> RedirectResponse:
    n = _apply(request, plan_id, user["name"])
    flash(request, t("tiers.plan.applied", request_lang(request), id=plan_id, actions=n), "success")
    return RedirectResponse(f"/tiers/plans/{plan_id}", status_code=303)


# -- REST -------------------------------------------------------------------------------------
@api_router.get("/tiers/chains", summary="Tier chains (config and database)")
def api_chains(request: Request) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        found = chains(conn, _cfg(request))
    return [
        {"name": n, "source": src, **spec.model_dump(mode="json")} for n, (spec, src) in sorted(found.items())
    ]


@api_router.post("/tiers/chains/{name}/plans", summary="Dry run: a new review plan for a chain")
def api_new_plan(request: Request, name: str, user: Operator) -> dict[str, Any]:
    return _plan(request, _new_plan(request, name, user["name"]))


@api_router.get("/tiers/plans", summary="Review history")
def api_plans(request: Request, chain: str | None = None) -> list[dict[str, Any]]:
    with get_qapp(request).db.engine.connect() as conn:
        return list_plans(conn, chain)


@api_router.get("/tiers/plans/{plan_id}", summary="A plan with its moves")
def api_plan(request: Request, plan_id: int) -> dict[str, Any]:
    return _plan(request, plan_id)


@api_router.post("/tiers/plans/{plan_id}/moves/{move_id}/drop", summary="Leave a move out of a draft plan")
def api_drop(
    request: Request, plan_id: int, move_id: int, user: Operator, restore: bool = False
) -> dict[str, Any]:
    _drop(request, plan_id, move_id, not restore)
    return _plan(request, plan_id)


@api_router.post("/tiers/plans/{plan_id}/apply", summary="Approve and carry out a plan")
def api_apply(request: Request, plan_id: int, user: Operator) -> dict[str, Any]:
    n = _apply(request, plan_id, user["name"])
    return {"plan": plan_id, "actions": n}
