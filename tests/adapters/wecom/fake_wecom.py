"""Fake WeCom peers on loopback: a callback *sender* with its own implementation of the documented
encryption (so the adapter is checked against the scheme, not against itself), and a group-robot
webhook server that answers like qyapi.weixin.qq.com (errcode 0 / 45009 / 93000 ...)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qunyun.run.listener import Listener

CORP_ID = "ww0123456789abcdef"
TOKEN = "QDG6eK"
# 43 characters, as the WeCom admin console generates them
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def encrypt(message: bytes, *, key43: str = AES_KEY, receive_id: str = CORP_ID) -> str:
    key = base64.b64decode(key43 + "=")
    body = os.urandom(16) + struct.pack("!I", len(message)) + message + receive_id.encode()
    pad = 32 - (len(body) % 32)  # PKCS#7 to a multiple of 32, as WeCom documents
    body += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


def sign(timestamp: str, nonce: str, encrypted: str, token: str = TOKEN) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class CallbackSender:
    """Plays WeCom's servers calling the application callback URL."""

    def __init__(self, base_url: str, name: str = "wecom") -> None:
        self.client = httpx.AsyncClient(base_url=base_url)
        self.path = f"/wecom/{name}"

    async def close(self) -> None:
        await self.client.aclose()

    async def verify_url(self, echo: str, *, token: str = TOKEN) -> httpx.Response:
        encrypted = encrypt(echo.encode())
        params = {"timestamp": "1714536000", "nonce": "n1", "echostr": encrypted}
        params["msg_signature"] = sign(params["timestamp"], "n1", encrypted, token)
        return await self.client.get(self.path, params=params)

    async def post(
        self, inner_xml: str, *, token: str = TOKEN, receive_id: str = CORP_ID, tamper: bool = False
    ) -> httpx.Response:
        encrypted = encrypt(inner_xml.encode(), receive_id=receive_id)
        timestamp, nonce = "1714536001", "nonce42"
        signature = sign(timestamp, nonce, encrypted, token)
        if tamper:
            encrypted = encrypted[:-8] + ("A" * 4 + encrypted[-4:])
        body = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return await self.client.post(
            self.path, params={"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, content=body
        )


class FakeRobot:
    """``POST /cgi-bin/webhook/send?key=...`` — records posts, answers errcodes on request."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.answers: list[int] = []
        self.listener: Listener | None = None

    async def __aenter__(self) -> FakeRobot:
        router = APIRouter()
        router.add_api_route("/cgi-bin/webhook/send", self._send, methods=["POST"])
        self.listener = Listener([router], "127.0.0.1", 0)
        await self.listener.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.listener is not None
        await self.listener.stop()

    @property
    def url(self) -> str:
        assert self.listener is not None
        return f"{self.listener.url}/cgi-bin/webhook/send"

    async def _send(self, request: Request, key: str = "") -> Response:
        body = orjson.loads(await request.body())
        self.posts.append((key, body))
        if key not in self.keys:
            code, msg = 93000, "invalid webhook url"
        elif self.answers:
            code = self.answers.pop(0)
            msg = {45009: "api freq out of limit"}.get(code, "error")
        else:
            code, msg = 0, "ok"
        return Response(orjson.dumps({"errcode": code, "errmsg": msg}), media_type="application/json")
