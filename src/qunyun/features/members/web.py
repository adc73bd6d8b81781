"""Dashboard pages of the members feature: leaderboards + role distribution, member profiles."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from qunyun.features.members.leaderboard import BOARDS, PERIODS, leaderboard
from qunyun.features.members.plugin import members_config
from qunyun.features.members.profiles import profile, set_tags, upsert_profile
from qunyun.features.members.roles import ROLES, compute_insights
from qunyun.i18n import t
from qunyun.store import queries
from qunyun.store.queries import GroupAmbiguous, GroupNotFound, GroupRef
from qunyun.web.deps import csrf_protect, flash, get_qapp, render, request_lang, require_role

router = APIRouter(include_in_schema=False)


def resolve(conn: Any, group: str | None, lang: str) -> GroupRef | None:
    if not group:
        return None
    try:
        return queries.resolve_group(conn, group)
    except GroupNotFound as exc:
        raise HTTPException(404, t("error.group_not_found", lang, group=group)) from exc
    except GroupAmbiguous as exc:
        raise HTTPException(
            400, t("error.group_ambiguous", lang, group=group, choices=", ".join(exc.choices))
        ) from exc


def role_counts(conn: Any, ref: GroupRef, cfg: Any) -> dict[str, Any]:
    _, rows = queries.list_members(conn, ref)
    insights, meta = compute_insights(conn, ref, rows, cfg)
    counts = Counter(i.role for i in insights.values())
    return {
        "group": str(ref),
        "members": len(rows),
        "roles": {r: counts.get(r, 0) for r in ROLES},
        "reference": meta["reference"].isoformat(),
        "reference_rule": meta["reference_rule"],
        "clock": meta["clock"],
    }


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(
    request: Request,
    group: Annotated[str | None, Query(max_length=300)] = None,
    board: Annotated[str, Query(max_length=20)] = "active",
    period: Annotated[str, Query(max_length=10)] = "week",
) -> HTMLResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    if board not in BOARDS or period not in PERIODS:
        raise HTTPException(400, t("members.error.board", lang, board=board, choices=", ".join(BOARDS)))
    cfg = members_config(qapp.settings)
    with qapp.db.engine.connect() as conn:
        groups = queries.list_groups(conn)
        ref = resolve(conn, group, lang)
        result = leaderboard(conn, cfg, ref, board=board, period=period, limit=20)
        roles = role_counts(conn, ref, cfg) if ref else None
    chart = {
        "names": [r["user_name"] for r in result["rows"]][::-1],
        "values": [r["value"] for r in result["rows"]][::-1],
        "roles": [
            {"name": t(f"members.role.{k}", lang), "value": v}
            for k, v in (roles or {}).get("roles", {}).items()
            if v
        ],
    }
    return render(
        request,
        "members_leaderboard.html",
        {
            "groups": groups,
            "selected": str(ref) if ref else "",
            "board": board,
            "period": period,
            "boards": list(BOARDS),
            "periods": list(PERIODS),
            "result": result,
            "roles": roles,
            "chart": chart,
        },
    )


@router.get("/profiles/{platform}/{user_id}", response_class=HTMLResponse)
def profile_page(request: Request, platform: str, user_id: str) -> HTMLResponse:
    qapp = get_qapp(request)
    lang = request_lang(request)
    with qapp.db.engine.connect() as conn:
        try:
            prof = profile(conn, platform, user_id)
        except LookupError as exc:
            raise HTTPException(404, t("profile.not_found", lang, user=f"{platform}:{user_id}")) from exc
    per_day: dict[str, int] = {}
    for item in prof["timeline"]:
        key = item["day"].isoformat()
        per_day[key] = per_day.get(key, 0) + int(item["messages"])
    chart = {"name": t("col.messages", lang), "dates": list(per_day), "values": list(per_day.values())}
    return render(request, "members_profile.html", {"p": prof, "chart": chart})


@router.post("/profiles/{platform}/{user_id}", dependencies=[Depends(csrf_protect)])
def profile_save(
    request: Request,
    platform: str,
    user_id: str,
    user: Annotated[dict[str, Any], Depends(require_role("operator"))],
    region: Annotated[str, Form(max_length=64)] = "",
    industry: Annotated[str, Form(max_length=64)] = "",
    needs: Annotated[str, Form(max_length=255)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    qapp = get_qapp(request)
    with qapp.db.engine.begin() as conn:
        try:
            current = profile(conn, platform, user_id)
        except LookupError as exc:
            raise HTTPException(404, t("profile.not_found", request_lang(request), user=user_id)) from exc
        upsert_profile(
            conn,
            platform,
            user_id,
            {
                "region": region.strip() or None,
                "industry": industry.strip() or None,
                "needs": needs.strip() or None,
                "notes": notes.strip() or None,
            },
        )
        wanted = {x.strip() for x in tags.replace("，", ",").split(",") if x.strip()}
        set_tags(conn, platform, user_id, sorted(wanted), sorted(set(current["tags"]) - wanted))
    flash(request, t("profile.saved", request_lang(request)), "success")
    return RedirectResponse(f"/profiles/{platform}/{user_id}", status_code=303)
