"""A fake Telegram Bot API server on loopback: real HTTP, the Bot API's JSON shapes, 429s on request.

``POST /bot<token>/<method>`` like api.telegram.org. ``getUpdates`` long-polls a queue (holding the
request up to ``hold`` seconds), honours ``offset`` (earlier updates are confirmed and dropped, as
Telegram does) and records every call so tests can assert what the adapter asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qunyun.run.listener import Listener

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstu"


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class FakeBotApi:
    def __init__(self, *, token: str = TOKEN, hold: float = 0.3) -> None:
        self.token = token
        self.hold = hold
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.throttle: dict[str, list[int]] = {}  # method -> retry_after values to answer with, in order
        self.errors: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self.delay: dict[str, float] = {}
        self._new = asyncio.Event()
        self._ids = itertools.count(500)
        self._update_ids = itertools.count(1)
        self.listener: Listener | None = None

    async def __aenter__(self) -> FakeBotApi:
        router = APIRouter()
        router.add_api_route("/bot{token}/{method}", self._handle, methods=["POST"])
        self.listener = Listener([router], "127.0.0.1", 0)
        await self.listener.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.listener is not None
        await self.listener.stop()

    @property
    def url(self) -> str:
        assert self.listener is not None
        return self.listener.url

    def push(self, **update: Any) -> int:
        uid = next(self._update_ids)
        self.updates.append({"update_id": uid, **update})
        self._new.set()
        return uid

    def push_raw(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new.set()

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def _handle(self, token: str, method: str, request: Request) -> Response:
        if token != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        body = await request.body()
        params: dict[str, Any] = orjson.loads(body) if body else {}
        self.calls.append((method, params))
        if method in self.delay:
            await asyncio.sleep(self.delay[method])
        if self.throttle.get(method):
            retry = self.throttle[method].pop(0)
            return _json(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry}",
                    "parameters": {"retry_after": retry},
                },
                429,
            )
        if self.errors.get(method):
            code, desc, extra = self.errors[method].pop(0)
            out: dict[str, Any] = {"ok": False, "error_code": code, "description": desc}
            if extra:
                out["parameters"] = extra
            return _json(out, code)
        return _json({"ok": True, "result": await self._result(method, params)})

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": 123456, "is_bot": True, "first_name": "qy", "username": "qy_test_bot"}
        if method == "getUpdates":
            offset = params.get("offset")
            if offset is not None:  # Telegram forgets confirmed updates
                self.updates = [u for u in self.updates if u.get("update_id", 0) >= offset]
            if not self.updates:
                self._new.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), timeout=min(self.hold, float(params.get("timeout", 0))))
            return list(self.updates)
        if method == "sendMessage":
            return {
                "message_id": next(self._ids),
                "date": 1714536000,
                "chat": {"id": int(params["chat_id"]), "type": "supergroup"},
                "text": params.get("text"),
            }
        if method == "createChatInviteLink":
            return {
                "invite_link": f"https://t.me/+fake{next(self._ids)}",
                "name": params.get("name"),
                "creator": {"id": 123456, "is_bot": True, "first_name": "qy"},
                "creates_join_request": False,
                "is_primary": False,
                "is_revoked": False,
            }
        return True
