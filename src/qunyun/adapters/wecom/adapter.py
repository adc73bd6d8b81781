"""The WeCom (企业微信) adapter: group robots to send, the application callback to receive.

Sending goes through each group's robot webhook (``POST …/webhook/send?key=…``, text or markdown,
20 messages a minute per robot — the ``rate_limits.wecom.group`` bucket, one robot per group).
Robots return no message id, so a delivery is *sent*, never *confirmed*. ``errcode`` 45009 (rate
limit) is a retryable failure after a minute; a wrong/removed robot key is permanent.

Everything a robot may not do (see :mod:`qunyun.adapters.wecom.staff`) is reported by
:meth:`WeComAdapter.supports` as unsupported, and :meth:`WeComAdapter.staff_task` gives the
``notify_staff`` action that replaces it.

Receiving: the self-built application's callback (URL verification with ``echostr``,
``msg_signature`` check, AES decryption), served by :func:`qunyun.adapters.wecom.callback.make_router`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from qunyun.actions import Action, ActionKind
from qunyun.adapters.base import Adapter, ConnectionStatus, Delivery, DeliveryState, EventSink
from qunyun.adapters.wecom.config import WeComAccount
from qunyun.adapters.wecom.crypto import WeComCrypto
from qunyun.adapters.wecom.parse import parse_callback
from qunyun.adapters.wecom.staff import staff_task
from qunyun.events import Event

log = logging.getLogger(__name__)

DeadLetter = Callable[[str, str, str | None], None]
#: robot limits: text content ≤ 2048 bytes, markdown ≤ 4096 bytes (UTF-8)
MAX_BYTES = {"text": 2048, "markdown": 4096}
_SENDS = {ActionKind.SEND_MESSAGE, ActionKind.REPLY, ActionKind.WARN}
#: errcodes retrying can fix (rate limit, system busy)
_TRANSIENT = {-1, 45009, 45033}
_RETRY_AFTER = {45009: 60.0, 45033: 60.0}


class WeComAdapter(Adapter):
    platform = "wecom"

    def __init__(
        self,
        config: WeComAccount,
        *,
        dead_letter: DeadLetter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config.name)
        self.config = config
        self.dead_letter = dead_letter
        self.crypto = (
            WeComCrypto(config.token or "", config.encoding_aes_key or "", config.corp_id or "")
            if config.receives
            else None
        )
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._sink: EventSink | None = None
        self.state = "stopped"
        self.detail: str | None = None
        self.last_event_at: datetime | None = None
        self.lag_seconds: float | None = None
        self.received = 0
        self.rejected = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._client = httpx.AsyncClient(timeout=self.config.api_timeout, transport=self._transport)
        self.state = "waiting" if self.config.receives else "connected"

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.state = "stopped"

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def listen_addr(self) -> tuple[str, int] | None:
        return self.config.listen_addr if self.config.receives else None

    @staticmethod
    def inbound_router(adapters: list[Any]) -> Any:
        """``GET/POST /wecom/<account name>`` — WeCom authenticates by signature, not by login."""
        from qunyun.adapters.wecom.callback import make_router

        return make_router(adapters)

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(
            platform=self.platform,
            account=self.account,
            state=self.state,
            last_event_at=self.last_event_at,
            lag_seconds=self.lag_seconds,
            detail=self.detail,
        )

    # -- receiving ---------------------------------------------------------------------------
    def reject(self, reason: str, raw: str | None) -> None:
        self.rejected += 1
        if self.dead_letter is not None:
            self.dead_letter(f"wecom:{self.account}", reason[:500], raw)
        else:
            log.warning("wecom %s rejected a callback: %s", self.account, reason)

    async def deliver_xml(self, xml: bytes) -> list[Event]:
        """Decrypted callback XML → events → sink (returns once stored). WeComParseError if malformed."""
        events = parse_callback(xml, account=self.account)
        if events and self._sink is not None:
            await self._sink(events)
            self.received += len(events)
            self.last_event_at = datetime.now(UTC)
            self.lag_seconds = max(0.0, (self.last_event_at - max(e.time for e in events)).total_seconds())
        self.state = "connected"
        return events

    # -- acting ------------------------------------------------------------------------------
    def robot_for(self, group_id: str | None) -> str | None:
        return self.config.robots.get(group_id or "")

    def supports(self, action: Action) -> bool:
        """Only posting to a group that has a robot; the rest are staff tasks (:meth:`staff_task`)."""
        return staff_task(action, has_robot=self.robot_for(action.group_id) is not None) is None and (
            action.kind in _SENDS
        )

    def staff_task(self, action: Action) -> Action | None:
        """The ``notify_staff`` action replacing an unsupported one (None if the robot can do it)."""
        return staff_task(action, has_robot=self.robot_for(action.group_id) is not None)

    async def execute(self, action: Action) -> Delivery:
        key = self.robot_for(action.group_id)
        if action.kind not in _SENDS or key is None or action.params.get("customer_group"):
            return Delivery.fail(
                f"a WeCom robot cannot do {action.kind.value} in group {action.group_id}; it is a staff task",
                permanent=True,
            )
        if self._client is None:
            return Delivery.fail("wecom adapter is not started")
        msgtype = "markdown" if action.params.get("markdown") else "text"
        content = action.text or ""
        size = len(content.encode("utf-8"))
        if size > MAX_BYTES[msgtype]:
            return Delivery.fail(
                f"{msgtype} is {size} bytes; WeCom robots accept at most {MAX_BYTES[msgtype]}", permanent=True
            )
        body: dict[str, Any] = {"msgtype": msgtype, msgtype: {"content": content}}
        if msgtype == "text":
            mentions = action.params.get("mentioned_list")
            if action.kind is ActionKind.REPLY and action.user_id and not mentions:
                mentions = [action.user_id]  # robots cannot quote; mention the member instead
            if mentions:
                body["text"]["mentioned_list"] = [str(m) for m in mentions]
        try:
            resp = await self._client.post(
                self.config.robot_api,
                params={"key": key},
                content=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Delivery.fail(f"cannot reach WeCom: {type(exc).__name__}")
        except httpx.HTTPError as exc:  # the post may have happened: neither success nor resend
            return Delivery(state=DeliveryState.UNKNOWN, error=f"no answer from WeCom: {type(exc).__name__}")
        try:
            answer = orjson.loads(resp.content)
            code = int(answer.get("errcode", -1))
            message = str(answer.get("errmsg", ""))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return Delivery.fail(f"WeCom answered HTTP {resp.status_code} without a JSON body")
        if code == 0:
            return Delivery.ok()
        error = f"WeCom robot errcode {code}: {message[:200]}"
        if code in _TRANSIENT:
            return Delivery.fail(error, retry_after=_RETRY_AFTER.get(code))
        return Delivery.fail(error, permanent=True)
