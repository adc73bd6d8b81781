"""What qunyun serves to OneBot implementations: reverse WebSocket and HTTP POST event reporting.

``/onebot/v11/ws`` (reverse WS; the implementation sends ``X-Self-ID`` and ``X-Client-Role``) and
``/onebot/v11/http`` (HTTP POST, signed with ``X-Signature`` when a secret is set). Both check the
account's ``access_token`` (``Authorization: Bearer`` or ``?access_token=``) themselves, so the
router never needs a dashboard login: ``qunyun run`` serves it on each account's ``listen``
address (:class:`qunyun.run.listener.Listener`), and it is a plain FastAPI ``APIRouter`` that
can be mounted on any app.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import orjson
from fastapi import APIRouter, FastAPI, Request, Response, WebSocket, WebSocketDisconnect

from qunyun.adapters.onebot.adapter import OneBotAdapter, check_token

log = logging.getLogger(__name__)

WS_PATH = "/onebot/v11/ws"
HTTP_PATH = "/onebot/v11/http"


class OneBotHub:
    """The accounts served at one listen address, found by the ``X-Self-ID`` they present."""

    def __init__(self, adapters: Iterable[OneBotAdapter] = ()) -> None:
        self.adapters: list[OneBotAdapter] = list(adapters)

    def add(self, adapter: OneBotAdapter) -> None:
        self.adapters.append(adapter)

    def find(self, self_id: str | None, mode: str) -> OneBotAdapter | None:
        candidates = [a for a in self.adapters if a.config.mode == mode]
        if self_id:
            for a in candidates:
                if a.self_id == self_id:
                    return a
        unnamed = [a for a in candidates if a.self_id is None]
        if len(unnamed) == 1:  # one account without a configured self_id: it is this one; learn it
            unnamed[0].self_id = self_id or None
            return unnamed[0]
        if not self_id and len(candidates) == 1:
            return candidates[0]
        return None


def _body_self_id(body: bytes) -> str | None:
    """Implementations that omit ``X-Self-ID`` still put ``self_id`` in every event."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = payload.get("self_id") if isinstance(payload, dict) else None
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None


def make_router(hub: OneBotHub) -> APIRouter:
    router = APIRouter()

    @router.websocket(WS_PATH)
    @router.websocket(WS_PATH + "/")
    async def reverse_ws(websocket: WebSocket) -> None:
        self_id = websocket.headers.get("x-self-id")
        adapter = hub.find(self_id, "ws-reverse")
        if adapter is None:
            log.warning("reverse WS from unknown self_id %r refused", self_id)
            await websocket.close(code=1008, reason="unknown X-Self-ID")
            return
        denied = check_token(
            adapter.config.access_token,
            websocket.headers.get("authorization"),
            websocket.query_params.get("access_token"),
        )
        if denied:
            await websocket.close(code=1008, reason="401 missing access token" if denied == 401 else "403 bad token")
            return
        role = websocket.headers.get("x-client-role", "Universal")
        await websocket.accept()
        adapter.attach(websocket.send_text, role=role)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text")
                if data is None:
                    data = message.get("bytes")
                if data is not None:
                    adapter.feed(data)
        except WebSocketDisconnect:
            pass
        finally:
            adapter.detach("implementation disconnected", role=role)

    @router.post(HTTP_PATH)
    @router.post(HTTP_PATH + "/")
    async def http_post(request: Request) -> Response:
        body = await request.body()
        self_id = request.headers.get("x-self-id") or _body_self_id(body)
        adapter = hub.find(self_id, "http")
        if adapter is None:
            return Response("unknown X-Self-ID", status_code=404)
        denied = check_token(
            adapter.config.access_token,
            request.headers.get("authorization"),
            request.query_params.get("access_token"),
        )
        if denied:
            return Response(status_code=denied)
        status = await adapter.receive_post(body, request.headers.get("x-signature"))
        return Response(status_code=status)

    return router


def make_app(hub: OneBotHub) -> FastAPI:
    app = FastAPI(title="qunyun OneBot endpoint", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(make_router(hub))
    return app
