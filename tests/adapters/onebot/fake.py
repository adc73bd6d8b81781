"""A fake OneBot v11 implementation on loopback (what NapCat / go-cqhttp look like to qunyun).

- :class:`FakeOneBot` is a forward-WebSocket server: it checks the access token, pushes events
  (spec-shaped, see :mod:`payloads`), answers API calls with their ``echo`` (or stays silent /
  fails them on request), records every call and can drop the connection.
- :func:`reverse_connect` plays the implementation in reverse-WS mode.
- :class:`FakeHttpApi` is the implementation's HTTP API (``POST /<action>``).
"""

from __future__ import annotations

import asyncio
import itertools
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from qunyun.run.listener import Listener


class FakeOneBot:
    def __init__(self, *, token: str | None = None, self_id: int = 10000) -> None:
        self.token = token
        self.self_id = self_id
        self.calls: list[dict[str, Any]] = []
        self.silent: set[str] = set()
        self.fail: dict[str, int] = {}
        self.connections: list[ServerConnection] = []
        self.connected = asyncio.Event()
        self.auth_seen: list[str | None] = []
        self._ids = itertools.count(1000)
        self._server: Server | None = None
        self.port = 0

    async def __aenter__(self) -> FakeOneBot:
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._auth)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _auth(self, conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        header = request.headers.get("Authorization")
        self.auth_seen.append(header)
        if self.token is None:
            return None
        if header is None:
            return conn.respond(HTTPStatus.UNAUTHORIZED, "missing token\n")
        if header != f"Bearer {self.token}":
            return conn.respond(HTTPStatus.FORBIDDEN, "bad token\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.connected.set()
        try:
            async for message in ws:
                await self._answer(ws, orjson.loads(message))
        except Exception:
            pass
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            if not self.connections:
                self.connected.clear()

    def response_for(self, call: dict[str, Any]) -> dict[str, Any] | None:
        self.calls.append(call)
        action = call.get("action", "")
        if action in self.silent:
            return None
        if action in self.fail:
            return {
                "status": "failed",
                "retcode": self.fail[action],
                "data": None,
                "wording": "refused",
                "echo": call.get("echo"),
            }
        data: Any = None
        if action.startswith("send_"):
            data = {"message_id": next(self._ids)}
        elif action == "get_login_info":
            data = {"user_id": self.self_id, "nickname": "qunyun-bot"}
        elif action == "get_group_list":
            data = [{"group_id": 20001, "group_name": "测试群", "member_count": 3, "max_member_count": 500}]
        elif action == "get_group_member_list":
            data = [
                {
                    "group_id": call["params"]["group_id"],
                    "user_id": 30001,
                    "nickname": "a",
                    "card": "",
                    "role": "member",
                }
            ]
        elif action == "get_group_member_info":
            data = {"group_id": call["params"]["group_id"], "user_id": call["params"]["user_id"], "nickname": "a"}
        return {"status": "ok", "retcode": 0, "data": data, "echo": call.get("echo")}

    async def _answer(self, ws: ServerConnection, call: dict[str, Any]) -> None:
        response = self.response_for(call)
        if response is not None:
            await ws.send(orjson.dumps(response).decode())

    async def push(self, *payloads: dict[str, Any] | str) -> None:
        """Send events (dicts, or raw strings for garbage) to every connected client."""
        for ws in list(self.connections):
            for p in payloads:
                await ws.send(p if isinstance(p, str) else orjson.dumps(p).decode())

    async def drop(self) -> None:
        for ws in list(self.connections):
            await ws.close(code=1011, reason="fake drop")


async def reverse_connect(
    port: int, *, self_id: int, token: str | None = None, role: str = "Universal", query_token: bool = False
) -> ClientConnection:
    headers = {"X-Self-ID": str(self_id), "X-Client-Role": role}
    url = f"ws://127.0.0.1:{port}/onebot/v11/ws"
    if token and query_token:
        url += f"?access_token={token}"
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    return await connect(url, additional_headers=headers)


class FakeHttpApi:
    """The implementation's HTTP API on a real loopback port."""

    def __init__(self, bot: FakeOneBot) -> None:
        self.bot = bot
        router = APIRouter()

        @router.post("/{action}")
        async def call(action: str, request: Request) -> JSONResponse:
            if bot.token and request.headers.get("authorization") != f"Bearer {bot.token}":
                return JSONResponse({"status": "failed", "retcode": 1403}, status_code=403)
            params = await request.json()
            if action in bot.silent:
                await asyncio.sleep(5)
            response = bot.response_for({"action": action, "params": params}) or {}
            response.pop("echo", None)
            return JSONResponse(response)

        self.listener = Listener([router], "127.0.0.1", 0)

    async def __aenter__(self) -> FakeHttpApi:
        await self.listener.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.listener.stop()

    @property
    def url(self) -> str:
        return self.listener.url
