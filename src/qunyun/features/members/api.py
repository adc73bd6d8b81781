"""REST endpoints of the members feature (mounted under /api/v1; auth enforced by the app)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from qunyun.features.members.leaderboard import BOARDS, PERIODS, leaderboard
from qunyun.features.members.plugin import members_config
from qunyun.features.members.profiles import profile
from qunyun.features.members.web import resolve, role_counts
from qunyun.i18n import t
from qunyun.web.deps import get_qapp, request_lang

router = APIRouter(tags=["members"])


@router.get("/leaderboard", summary="A ranked leaderboard (active, helpful, invites, checkins, points)")
def api_leaderboard(
    request: Request,
    group: Annotated[
        str | None, Query(max_length=300, description="platform:group_id; omit = community")
    ] = None,
    board: Annotated[str, Query(max_length=20)] = "active",
    period: Annotated[str, Query(max_length=10)] = "week",
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> dict[str, Any]:
    qapp = get_qapp(request)
    lang = request_lang(request)
    if board not in BOARDS:
        raise HTTPException(422, t("members.error.board", lang, board=board, choices=", ".join(BOARDS)))
    if period not in PERIODS:
        raise HTTPException(422, t("members.error.period", lang, period=period))
    with qapp.db.engine.connect() as conn:
        ref = resolve(conn, group, lang)
        return leaderboard(conn, members_config(qapp.settings), ref, board=board, period=period, limit=limit)


@router.get("/groups/{platform}/{group_id}/roles", summary="How many members have each role")
def api_roles(request: Request, platform: str, group_id: str) -> dict[str, Any]:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        ref = resolve(conn, f"{platform}:{group_id}", request_lang(request))
        assert ref is not None
        return role_counts(conn, ref, members_config(qapp.settings))


@router.get("/profiles/{platform}/{user_id}", summary="A member's profile (用户画像)")
def api_profile(request: Request, platform: str, user_id: str) -> dict[str, Any]:
    qapp = get_qapp(request)
    with qapp.db.engine.connect() as conn:
        try:
            return profile(conn, platform, user_id)
        except LookupError as exc:
            raise HTTPException(404, t("profile.not_found", request_lang(request), user=user_id)) from exc
