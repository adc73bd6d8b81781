"""The WeCom application callback endpoint (接收消息服务器): no dashboard login, signatures instead.

- ``GET /wecom/<name>?msg_signature&timestamp&nonce&echostr`` — URL verification when the admin
  saves the callback URL: check the signature over ``echostr``, answer its decrypted plaintext.
- ``POST /wecom/<name>?msg_signature&timestamp&nonce`` with ``<xml><Encrypt>…</Encrypt></xml>`` —
  check the signature, decrypt, parse, store; answer 200 (empty body) only after storing, so a
  failure makes WeCom retry. A bad signature is 403 (nothing is decrypted); an undecryptable or
  malformed body is dead-lettered and answered 200 (a retry could not fix it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from qunyun.adapters.wecom.crypto import WeComCryptoError
from qunyun.adapters.wecom.parse import WeComParseError, parse_xml

MAX_BODY = 1 << 20


def make_router(adapters: list[Any]) -> APIRouter:
    by_name = {a.account: a for a in adapters}
    router = APIRouter()

    def lookup(name: str) -> Any:
        adapter = by_name.get(name)
        return adapter if adapter is not None and adapter.crypto is not None else None

    @router.get("/wecom/{name}", include_in_schema=False)
    async def verify_url(
        name: str, msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""
    ) -> Response:
        adapter = lookup(name)
        if adapter is None:
            return Response(status_code=404)
        try:
            adapter.crypto.verify(msg_signature, timestamp, nonce, echostr)
            plain = adapter.crypto.decrypt(echostr)
        except WeComCryptoError as exc:
            return Response(str(exc), status_code=403, media_type="text/plain")
        return Response(plain, media_type="text/plain")

    @router.post("/wecom/{name}", include_in_schema=False)
    async def receive(
        name: str, request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = ""
    ) -> Response:
        adapter = lookup(name)
        if adapter is None:
            return Response(status_code=404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("body too large", status_code=413, media_type="text/plain")
        try:
            encrypted = parse_xml(body).findtext("Encrypt") or ""
        except WeComParseError as exc:
            adapter.reject(f"callback body: {exc}", body[:10000].decode("utf-8", "replace"))
            return Response(status_code=400)
        try:
            adapter.crypto.verify(msg_signature, timestamp, nonce, encrypted)
        except WeComCryptoError as exc:
            return Response(str(exc), status_code=403, media_type="text/plain")
        try:
            xml = adapter.crypto.decrypt(encrypted)
        except WeComCryptoError as exc:
            adapter.reject(f"decrypt: {exc}", encrypted[:10000])
            return Response(status_code=200)
        try:
            await adapter.deliver_xml(xml)
        except WeComParseError as exc:
            adapter.reject(f"callback message: {exc}", xml[:10000].decode("utf-8", "replace"))
            return Response(status_code=200)
        except ValueError as exc:  # an event the model refuses
            adapter.reject(f"callback message: {exc}", xml[:10000].decode("utf-8", "replace"))
            return Response(status_code=200)
        except Exception:  # not stored: let WeCom retry
            return Response(status_code=500)
        return Response(status_code=200)

    return router
