"""Dashboard page ``/connections`` and API ``GET /api/v1/connections``: each account's state,
last event time and lag (as the bot process last reported them) plus an outbox summary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from qunyun.engine.executor import outbox_summary
from qunyun.run.status import read_connections

page_router = APIRouter()
api_router = APIRouter(tags=["connections"])


def connections_data(qapp: Any) -> dict[str, Any]:
    with qapp.db.engine.connect() as conn:
        data = read_connections(conn)
        data["outbox"] = outbox_summary(conn)
    return data


@page_router.get("/connections", response_class=HTMLResponse)
def connections_page(request: Request) -> HTMLResponse:
    from qunyun.web.deps import current_user, get_qapp, render

    current_user(request)
    return render(request, "connections.html", connections_data(get_qapp(request)))


def _user(request: Request) -> dict[str, Any]:
    from qunyun.web.deps import current_user

    return current_user(request)


@api_router.get("/connections", summary="Connection state of every bot account, and the outbox summary")
def connections_api(request: Request, _user: dict[str, Any] = Depends(_user)) -> dict[str, Any]:
    """``{"process", "accounts": [{platform, account, state, last_event_at, lag_seconds, ...}],
    "outbox": {"counts", "problems"}}``; ``stale`` marks rows the bot process stopped refreshing."""
    from qunyun.web.deps import get_qapp

    return connections_data(get_qapp(request))
