"""The OneBot v11 adapter: QQ through NapCat, Lagrange, go-cqhttp and friends.

One :class:`OneBotAdapter` per bot account. Transports:

- ``ws`` (forward WebSocket): qunyun connects to the implementation and reconnects with
  exponential backoff and jitter;
- ``ws-reverse``: the implementation connects to qunyun's ``/onebot/v11/ws``
  (:mod:`qunyun.adapters.onebot.server` serves it and attaches the socket here);
- ``http``: the implementation POSTs events to qunyun's ``/onebot/v11/http`` and qunyun calls its
  HTTP API.

Received events are micro-batched: the socket reader never waits for the database; every
non-empty batch goes to the sink, which stores it durably. API calls carry an ``echo`` and are
matched with their response; no response in ``api_timeout`` seconds → :class:`OneBotTimeout`, which
for a message send means *unknown* (it may have been sent) and never *success*.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from qunyun.actions import Action, ActionKind
from qunyun.adapters.base import Adapter, ConnectionStatus, Delivery, DeliveryState, EventSink
from qunyun.adapters.onebot.config import OneBotAccount
from qunyun.adapters.onebot.errors import (
    OneBotApiError,
    OneBotError,
    OneBotNotConnected,
    OneBotParseError,
    OneBotTimeout,
)
from qunyun.adapters.onebot.parse import parse_event
from qunyun.engine.ratelimit import jittered
from qunyun.events import Event, EventType

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]
#: (source, reason, raw text) of an input that could not be read
DeadLetter = Callable[[str, str, str | None], None]

#: retcodes that retrying cannot fix (bad params, unknown action, auth)
_PERMANENT_RETCODES = {100, 1400, 1401, 1403, 1404}
_SUPPORTED = {
    ActionKind.SEND_MESSAGE,
    ActionKind.REPLY,
    ActionKind.WARN,
    ActionKind.DELETE_MESSAGE,
    ActionKind.MUTE,
    ActionKind.UNMUTE,
    ActionKind.KICK,
    ActionKind.BAN,
    ActionKind.WHOLE_MUTE,
    ActionKind.SET_MEMBER_CARD,
    ActionKind.SET_GROUP_NAME,
    ActionKind.APPROVE_REQUEST,
    ActionKind.REJECT_REQUEST,
}
_SENDS = {ActionKind.SEND_MESSAGE, ActionKind.REPLY, ActionKind.WARN}


def check_token(expected: str | None, authorization: str | None, query_token: str | None) -> int:
    """0 if the caller may in, else the HTTP status the spec prescribes (401 none, 403 wrong)."""
    if not expected:
        return 0
    given = query_token
    if authorization:
        scheme, _, value = authorization.partition(" ")
        given = value.strip() if scheme.lower() in ("bearer", "token") else authorization.strip()
    if not given:
        return 401
    return 0 if hmac.compare_digest(given.encode(), expected.encode()) else 403


def check_signature(secret: str | None, body: bytes, header: str | None) -> bool:
    """``X-Signature: sha1=<hex HMAC-SHA1 of the body>``; always true when no secret is set."""
    if not secret:
        return True
    if not header or not header.startswith("sha1="):
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(digest, header[5:].strip().lower())


def _num(value: str | None, what: str) -> int:
    if value is None or not str(value).isdigit():
        raise ValueError(f"{what} {value!r} is not a QQ number")
    return int(value)


class OneBotAdapter(Adapter):
    """One OneBot v11 bot account."""

    def __init__(
        self,
        account: OneBotAccount,
        *,
        dead_letter: DeadLetter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(account.name)
        self.config = account
        self.platform = account.platform
        self.self_id = account.self_id
        self.dead_letter = dead_letter
        self.clock = clock
        self._sink: EventSink | None = None
        self._event_send: Send | None = None  # set while a socket is attached
        self._api_send: Send | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._echo = itertools.count(1)
        self._echo_prefix = f"qy{id(self) & 0xFFFF:x}-"
        self._pending: list[Event] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._http: httpx.AsyncClient | None = None
        self.state = "disconnected" if account.mode == "ws" else "waiting"
        self.detail: str | None = None
        self._last_at: float | None = None  # receive time of the last event (status is computed lazily)
        self._last_time: datetime | None = None  # and that event's own time
        self.last_heartbeat_at: datetime | None = None
        self.received = 0
        self.rejected = 0
        self.reconnects = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._stopping = False
        if self.config.mode == "ws":
            self._task = asyncio.create_task(self._forward_loop(), name=f"onebot-ws-{self.account}")
        elif self.config.mode == "http":
            self._http = httpx.AsyncClient(base_url=self.config.url or "", timeout=self.config.api_timeout)
            self.state = "connected"

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._background):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.flush()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        self._detach("stopped")
        self.state = "stopped"

    async def flush(self) -> None:
        """Hand what is pending to the sink and wait until every handed batch is stored."""
        if self._pending:
            self._schedule_flush()
        while self._flushes:
            await asyncio.gather(*list(self._flushes), return_exceptions=True)

    def headers(self) -> dict[str, str]:
        h = {"User-Agent": "qunyun-onebot/1"}
        if self.config.access_token:
            h["Authorization"] = f"Bearer {self.config.access_token}"
        return h

    async def _forward_loop(self) -> None:
        from websockets.asyncio.client import connect

        delay = self.config.reconnect_min
        while not self._stopping:
            self.state = "connecting"
            try:
                async with connect(
                    self.config.url or "", additional_headers=self.headers(), max_size=None, open_timeout=10
                ) as ws:
                    self.attach(ws.send, role="Universal")
                    delay = self.config.reconnect_min
                    if self.self_id is None:  # implementations that send no lifecycle event
                        self._spawn_login_info()
                    async for message in ws:
                        self.feed(message)
                self.detail = "connection closed by the implementation"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every transport failure means: wait and reconnect
                self.detail = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("onebot %s: %s", self.account, self.detail)
            finally:
                self._detach(self.detail or "disconnected")
            if self._stopping:
                break
            self.state = "disconnected"
            self.reconnects += 1
            await asyncio.sleep(jittered(delay))
            delay = min(delay * 2, self.config.reconnect_max)

    def _spawn_login_info(self) -> None:
        async def learn() -> None:
            try:
                data = await self.call("get_login_info", timeout=min(self.config.api_timeout, 10))
            except OneBotError as exc:
                log.info("onebot %s: get_login_info failed: %s", self.account, exc)
                return
            if self.self_id is None and isinstance(data, dict) and data.get("user_id") is not None:
                self.self_id = str(data["user_id"])

        task = asyncio.get_running_loop().create_task(learn())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- connections (forward WS, and the reverse-WS server attaching a socket) -------------
    def attach(self, send: Send, role: str = "Universal") -> None:
        role = role.lower()
        if role in ("universal", "api"):
            self._api_send = send
        if role in ("universal", "event"):
            self._event_send = send
        self.state = "connected"
        self.detail = None

    def _detach(self, why: str, role: str = "universal") -> None:
        role = role.lower()
        if role in ("universal", "api"):
            self._api_send = None
            for echo, fut in list(self._waiting.items()):
                if not fut.done():
                    fut.set_exception(OneBotTimeout(f"connection lost before the response to {echo} ({why})"))
        if role in ("universal", "event"):
            self._event_send = None
        if self._api_send is None and self._event_send is None and not self._stopping:
            self.state = "disconnected" if self.config.mode != "http" else self.state

    def detach(self, why: str = "disconnected", role: str = "Universal") -> None:
        self._detach(why, role)

    # -- receiving -------------------------------------------------------------------------
    def feed(self, message: str | bytes) -> Event | None:
        """One frame from the implementation: an API response, or an event queued for storing."""
        try:
            payload = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            self._reject(f"not JSON: {exc}", message)
            return None
        if isinstance(payload, dict) and "echo" in payload and "post_type" not in payload:
            self._resolve(payload)
            return None
        try:
            event = parse_event(payload, platform=self.platform)
        except OneBotParseError as exc:
            self._reject(str(exc), message)
            return None
        self._accept(event)
        return event

    def _accept(self, event: Event) -> None:
        now = self._last_at = self.clock()
        self._last_time = event.time
        self.received += 1
        if event.type is EventType.META:  # heartbeat/lifecycle: connection status only, never stored
            self.last_heartbeat_at = datetime.fromtimestamp(now, UTC)
            if self.self_id is None and event.self_id and event.self_id != "0":
                self.self_id = event.self_id
            return
        self._pending.append(event)
        if len(self._pending) == 1:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush_once())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_once(self) -> None:
        await asyncio.sleep(0)  # let the reader queue what already arrived with this frame burst
        batch, self._pending = self._pending, []
        if batch and self._sink is not None:
            await self._sink(batch)

    def _reject(self, reason: str, raw: str | bytes | None) -> None:
        self.rejected += 1
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if self.dead_letter is not None:
            self.dead_letter(f"onebot:{self.account}", reason, text)
        else:
            log.warning("onebot %s rejected input: %s", self.account, reason)

    def _resolve(self, payload: dict[str, Any]) -> None:
        fut = self._waiting.get(str(payload.get("echo")))
        if fut is not None and not fut.done():
            fut.set_result(payload)

    async def receive_post(self, body: bytes, signature: str | None) -> int:
        """HTTP POST event reporting: verify, parse, store; return the HTTP status to answer.

        The answer (204) is only given after the event is stored, so the implementation's retry
        covers a crash in between; 401 on a bad signature, 400 on a malformed event (dead letter).
        """
        if not check_signature(self.config.secret, body, signature):
            return 401
        before = self.rejected
        self.feed(body)
        if self.rejected > before:
            return 400
        await self.flush()
        return 204

    # -- API -------------------------------------------------------------------------------
    async def call(self, action: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Call an OneBot API action; return its ``data``. Raises OneBotTimeout / OneBotApiError."""
        timeout = timeout or self.config.api_timeout
        if self.config.mode == "http":
            return await self._http_call(action, params or {}, timeout)
        send = self._api_send
        if send is None:
            raise OneBotNotConnected(f"account {self.account} is not connected")
        echo = f"{self._echo_prefix}{next(self._echo)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[echo] = fut
        try:
            try:
                await send(orjson.dumps({"action": action, "params": params or {}, "echo": echo}).decode())
            except Exception as exc:
                raise OneBotNotConnected(f"account {self.account}: sending {action} failed: {exc}") from exc
            try:
                response = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                raise OneBotTimeout(f"{action}: no response within {timeout:g}s (echo {echo})") from None
        finally:
            self._waiting.pop(echo, None)
        return self._result(action, response)

    async def _http_call(self, action: str, params: dict[str, Any], timeout: float) -> Any:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.config.url or "", timeout=timeout)
        try:
            resp = await self._http.post(f"/{action}", json=params, headers=self.headers(), timeout=timeout)
        except httpx.TimeoutException as exc:
            raise OneBotTimeout(f"{action}: no HTTP response within {timeout:g}s") from exc
        except httpx.HTTPError as exc:
            raise OneBotNotConnected(f"{action}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise OneBotApiError(
                action,
                1000 + resp.status_code if resp.status_code < 1000 else resp.status_code,
                f"HTTP {resp.status_code}",
            )
        try:
            payload = resp.json()
        except ValueError as exc:
            raise OneBotApiError(action, -1, "response is not JSON") from exc
        return self._result(action, payload)

    @staticmethod
    def _result(action: str, response: Any) -> Any:
        if not isinstance(response, dict):
            raise OneBotApiError(action, -1, "response is not a JSON object")
        if response.get("status") in ("ok", "async") and response.get("retcode", 0) in (0, 1):
            return response.get("data")
        retcode = response.get("retcode")
        message = response.get("wording") or response.get("msg") or response.get("message") or ""
        raise OneBotApiError(action, retcode if isinstance(retcode, int) else -1, str(message))

    async def get_group_list(self) -> list[dict[str, Any]]:
        return list(await self.call("get_group_list") or [])

    async def get_group_member_list(self, group_id: str) -> list[dict[str, Any]]:
        return list(await self.call("get_group_member_list", {"group_id": _num(group_id, "group")}) or [])

    async def get_group_member_info(self, group_id: str, user_id: str, *, no_cache: bool = False) -> dict[str, Any]:
        params = {"group_id": _num(group_id, "group"), "user_id": _num(user_id, "user"), "no_cache": no_cache}
        return dict(await self.call("get_group_member_info", params) or {})

    # -- actions ---------------------------------------------------------------------------
    def supports(self, action: Action) -> bool:
        return action.kind in _SUPPORTED

    def request_for(self, action: Action) -> tuple[str, dict[str, Any]]:
        """The OneBot API call that performs ``action`` (ValueError if it cannot be expressed)."""
        k = action.kind
        p = action.params
        if k in _SENDS:
            segments: list[dict[str, Any]] = list(p.get("segments") or [])
            if k is ActionKind.REPLY:
                segments.insert(0, {"type": "reply", "data": {"id": str(action.message_id)}})
            if k is ActionKind.WARN and action.user_id:
                segments += [
                    {"type": "at", "data": {"qq": str(action.user_id)}},
                    {"type": "text", "data": {"text": " "}},
                ]
            if action.text and not p.get("segments"):
                segments.append({"type": "text", "data": {"text": action.text}})
            target = action.group_id or ""
            if target.startswith("private:"):  # a private chat (see parse: group "private:<user>")
                return "send_private_msg", {"user_id": _num(target[8:], "user"), "message": segments}
            return "send_group_msg", {"group_id": _num(target, "group"), "message": segments}
        group = _num(action.group_id, "group") if action.group_id else None
        if k is ActionKind.DELETE_MESSAGE:
            mid = str(action.message_id)
            return "delete_msg", {"message_id": int(mid) if mid.lstrip("-").isdigit() else mid}
        if k in (ActionKind.MUTE, ActionKind.UNMUTE):
            duration = 0 if k is ActionKind.UNMUTE else int(action.duration or 600)
            return "set_group_ban", {
                "group_id": group,
                "user_id": _num(action.user_id, "user"),
                "duration": duration,
            }
        if k in (ActionKind.KICK, ActionKind.BAN):
            return "set_group_kick", {
                "group_id": group,
                "user_id": _num(action.user_id, "user"),
                "reject_add_request": k is ActionKind.BAN,
            }
        if k is ActionKind.WHOLE_MUTE:
            return "set_group_whole_ban", {"group_id": group, "enable": bool(p.get("enable", True))}
        if k is ActionKind.SET_MEMBER_CARD:
            return "set_group_card", {
                "group_id": group,
                "user_id": _num(action.user_id, "user"),
                "card": p.get("card", action.text or ""),
            }
        if k is ActionKind.SET_GROUP_NAME:
            return "set_group_name", {"group_id": group, "group_name": p.get("name", action.text or "")}
        if k in (ActionKind.APPROVE_REQUEST, ActionKind.REJECT_REQUEST):
            flag = p.get("flag")
            if not flag:
                raise ValueError("approve/reject needs params.flag (from the request event's raw.flag)")
            approve = k is ActionKind.APPROVE_REQUEST
            if p.get("request_type") == "friend":
                return "set_friend_add_request", {
                    "flag": flag,
                    "approve": approve,
                    "remark": p.get("remark", ""),
                }
            return "set_group_add_request", {
                "flag": flag,
                "sub_type": p.get("sub_type", "add"),
                "approve": approve,
                "reason": "" if approve else (action.text or p.get("reason", "")),
            }
        raise ValueError(f"OneBot cannot {k.value}")

    async def execute(self, action: Action) -> Delivery:
        try:
            api, params = self.request_for(action)
        except ValueError as exc:
            return Delivery.fail(str(exc), permanent=True)
        try:
            data = await self.call(api, params)
        except OneBotNotConnected as exc:
            return Delivery.fail(f"{self.account}: {exc}", retry_after=5)
        except OneBotTimeout as exc:
            if action.kind in _SENDS:  # it may have been sent: unknown, never success, never resent
                return Delivery(state=DeliveryState.UNKNOWN, error=str(exc))
            return Delivery.fail(str(exc))
        except OneBotApiError as exc:
            return Delivery.fail(str(exc), permanent=exc.retcode in _PERMANENT_RETCODES)
        except OneBotError as exc:
            return Delivery.fail(str(exc))
        mid = data.get("message_id") if isinstance(data, dict) else None
        return Delivery.ok(str(mid) if mid is not None else None)

    @property
    def last_event_at(self) -> datetime | None:
        return None if self._last_at is None else datetime.fromtimestamp(self._last_at, UTC)

    @property
    def lag_seconds(self) -> float | None:
        """How late the last event arrived (receive time minus the event's own time)."""
        if self._last_at is None or self._last_time is None:
            return None
        return max(0.0, self._last_at - self._last_time.timestamp())

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(
            platform=self.platform,
            account=self.account,
            state=self.state,
            last_event_at=self.last_event_at,
            lag_seconds=self.lag_seconds,
            detail=self.detail,
        )

    # -- inbound endpoint hook used by qunyun run (reverse WS / HTTP POST) ------------------
    @property
    def listen_addr(self) -> tuple[str, int] | None:
        """Where the implementation reaches qunyun (None for forward WS: qunyun dials out)."""
        return None if self.config.mode == "ws" else self.config.listen_addr

    @staticmethod
    def inbound_router(adapters: list[Any]) -> Any:
        """One router serving every OneBot account that shares a listen address."""
        from qunyun.adapters.onebot.server import OneBotHub, make_router

        return make_router(OneBotHub(adapters))

    @property
    def connected(self) -> bool:
        return self.config.mode == "http" or self._api_send is not None
