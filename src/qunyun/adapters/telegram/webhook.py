"""The webhook endpoint Telegram POSTs updates to (no dashboard login: the secret token is the auth).

``POST /telegram/<account name>`` with header ``X-Telegram-Bot-Api-Secret-Token`` equal to the
account's ``secret_token`` (constant-time comparison). The answer is 200 only after the events are
stored, so a crash before that makes Telegram redeliver (the store ignores the duplicate).
A malformed update is dead-lettered and still answered 200: retrying it could never succeed.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_router(adapters: list[Any]) -> APIRouter:
    by_name = {a.account: a for a in adapters}
    router = APIRouter()

    @router.post("/telegram/{name}", include_in_schema=False)
    async def telegram_webhook(name: str, request: Request) -> Response:
        adapter = by_name.get(name)
        if adapter is None:
            return Response(status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        expected = adapter.config.secret_token or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(status_code=401)
        body = await request.body()
        try:
            update = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if adapter.dead_letter is not None:
                adapter.dead_letter(
                    f"telegram:{name}", f"webhook body is not JSON: {exc}", body[:10000].decode("utf-8", "replace")
                )
            return Response(status_code=200)
        try:
            await adapter.deliver([update])
        except Exception:  # not stored: make Telegram retry later
            return Response(status_code=500)
        return Response(status_code=200)

    return router
