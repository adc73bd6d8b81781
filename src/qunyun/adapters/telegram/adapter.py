"""The Telegram Bot API adapter: long polling or webhook in, Bot API methods out.

Built on httpx directly rather than aiogram 3: qunyun needs a dozen methods, its own event model,
its own dispatcher, rate limiter and outbox (aiogram would bring a second of each), and one
``httpx.AsyncClient`` with a configurable ``api_base`` makes the loopback fake Bot API of the
tests (and a self-hosted ``telegram-bot-api`` server) a one-line change.

Honesty about delivery: a method that returned ``ok`` is *sent* (``sendMessage`` returns the
stored message, so it is *confirmed*); a 429 is a failure with ``retry_after``; 400/401/403 are
permanent (no rights, gone chat, bad token); a send whose request may have reached Telegram but
whose answer was lost is *unknown* — never success, never blindly resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from qunyun.actions import Action, ActionKind
from qunyun.adapters.base import Adapter, ConnectionStatus, Delivery, DeliveryState, EventSink
from qunyun.adapters.telegram.config import TelegramAccount
from qunyun.adapters.telegram.parse import TelegramParseError, parse_update
from qunyun.events import Event

log = logging.getLogger(__name__)

DeadLetter = Callable[[str, str, str | None], None]
#: actions that are safe to repeat (the platform state is the same after a second call)
_IDEMPOTENT = {
    ActionKind.DELETE_MESSAGE,
    ActionKind.MUTE,
    ActionKind.UNMUTE,
    ActionKind.BAN,
    ActionKind.UNBAN,
    ActionKind.KICK,
    ActionKind.SET_GROUP_NAME,
    ActionKind.WHOLE_MUTE,
    ActionKind.APPROVE_REQUEST,
    ActionKind.REJECT_REQUEST,
}
_UNSUPPORTED = {ActionKind.SET_MEMBER_CARD}
_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
)


class TelegramApiError(Exception):
    """The Bot API answered ``ok: false`` (``error_code``, ``description``, ``parameters``)."""

    def __init__(self, method: str, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(f"{method}: {code} {description}")
        self.method = method
        self.code = code
        self.description = description
        params = parameters or {}
        self.retry_after: float | None = float(params["retry_after"]) if "retry_after" in params else None
        self.migrate_to: int | None = params.get("migrate_to_chat_id")


def permissions(allowed: bool) -> dict[str, bool]:
    return dict.fromkeys(_PERMISSIONS, allowed)


class TelegramAdapter(Adapter):
    """One Telegram bot account."""

    platform = "telegram"

    def __init__(
        self,
        config: TelegramAccount,
        *,
        dead_letter: DeadLetter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config.name)
        self.config = config
        self.self_id = config.bot_id
        self.dead_letter = dead_letter
        self.clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._sink: EventSink | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.offset: int | None = None
        self.state = "stopped"
        self.detail: str | None = None
        self.username: str | None = None
        self.last_event_at: datetime | None = None
        self.lag_seconds: float | None = None
        self.received = 0
        self.rejected = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._stopping = False
        self._client = httpx.AsyncClient(
            base_url=f"{self.config.api_base.rstrip('/')}/bot{self.config.token}/",
            timeout=self.config.api_timeout,
            transport=self._transport,
            headers={"User-Agent": "qunyun-telegram/1"},
        )
        if self.config.mode == "polling":
            self.state = "connecting"
            self._task = asyncio.create_task(self._poll_loop(), name=f"telegram-poll-{self.account}")
        else:
            self.state = "waiting"
            self._task = asyncio.create_task(self._webhook_setup(), name=f"telegram-webhook-{self.account}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.state = "stopped"

    @property
    def connected(self) -> bool:
        """Sending only needs the HTTP client (the outbox keeps actions while this is False)."""
        return self._client is not None

    @property
    def listen_addr(self) -> tuple[str, int] | None:
        """Where Telegram's webhook reaches qunyun (None when polling)."""
        return self.config.listen_addr if self.config.mode == "webhook" else None

    @staticmethod
    def inbound_router(adapters: list[Any]) -> Any:
        """``POST /telegram/<account name>`` for every webhook-mode account sharing a listen address.

        No dashboard login: Telegram authenticates with the secret token header instead.
        """
        from qunyun.adapters.telegram.webhook import make_router

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

    # -- Bot API calls ---------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        """Never let the token reach a log line, an error or the dashboard."""
        return text.replace(self.config.token, "<token>")

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """One Bot API method; returns ``result`` or raises TelegramApiError / httpx.HTTPError."""
        if self._client is None:
            raise httpx.ConnectError("telegram adapter is not started")
        kwargs: dict[str, Any] = {
            "content": orjson.dumps(params or {}),
            "headers": {"Content-Type": "application/json"},
        }
        if timeout is not None:
            kwargs["timeout"] = timeout
        resp = await self._client.post(method, **kwargs)
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise TelegramApiError(method, resp.status_code, f"non-JSON answer (HTTP {resp.status_code})") from None
        if not isinstance(body, dict):
            raise TelegramApiError(method, resp.status_code, "answer is not a JSON object")
        if body.get("ok") is True:
            return body.get("result")
        raise TelegramApiError(
            method,
            int(body.get("error_code") or resp.status_code),
            str(body.get("description") or "unknown error"),
            body.get("parameters") if isinstance(body.get("parameters"), dict) else None,
        )

    # -- receiving -------------------------------------------------------------------------
    async def _identify(self) -> None:
        me = await self.call("getMe")
        if isinstance(me, dict):
            self.self_id = str(me.get("id") or self.self_id)
            self.username = me.get("username") if isinstance(me.get("username"), str) else None

    async def _poll_loop(self) -> None:
        delay = self.config.reconnect_min
        prepared = False
        while not self._stopping:
            try:
                if not prepared:
                    await self._identify()
                    # getUpdates answers 409 while a webhook is set; pending updates are kept
                    await self.call("deleteWebhook", {"drop_pending_updates": False})
                    prepared = True
                params: dict[str, Any] = {
                    "timeout": self.config.poll_timeout,
                    "allowed_updates": self.config.allowed_updates,
                }
                if self.offset is not None:
                    params["offset"] = self.offset
                updates = await self.call(
                    "getUpdates", params, timeout=self.config.poll_timeout + self.config.api_timeout
                )
                self.state, self.detail, delay = "connected", None, self.config.reconnect_min
                if isinstance(updates, list) and updates:
                    await self.deliver(updates)
                    ids = [
                        u["update_id"] for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)
                    ]
                    if ids:  # confirmed to Telegram by the next getUpdates, only after the sink stored them
                        self.offset = max(ids) + 1
                continue
            except asyncio.CancelledError:
                raise
            except TelegramApiError as exc:
                self.detail = self._clean(str(exc))[:300]
                if exc.retry_after:
                    self.state = "throttled"
                    await asyncio.sleep(exc.retry_after)
                    continue
                self.state = {401: "unauthorized", 404: "unauthorized", 409: "conflict"}.get(exc.code, "error")
            except Exception as exc:  # transport trouble or a failing sink: wait, then poll again
                self.state = "disconnected"
                self.detail = self._clean(f"{type(exc).__name__}: {exc}")[:300]
            log.warning("telegram %s: %s (retry in %.0fs)", self.account, self.detail, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    async def _webhook_setup(self) -> None:
        delay = self.config.reconnect_min
        while not self._stopping:
            try:
                await self._identify()
                if self.config.webhook_url:
                    await self.call(
                        "setWebhook",
                        {
                            "url": self.config.webhook_url,
                            "secret_token": self.config.secret_token,
                            "allowed_updates": self.config.allowed_updates,
                            "drop_pending_updates": False,
                        },
                    )
                self.detail = None
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.detail = self._clean(f"setWebhook: {type(exc).__name__}: {exc}")[:300]
                log.warning("telegram %s: %s", self.account, self.detail)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    def parse(self, updates: Sequence[Any]) -> list[Event]:
        """Updates → events; a malformed update is dead-lettered and the rest kept."""
        events: list[Event] = []
        for update in updates:
            try:
                events.extend(parse_update(update, self_id=self.self_id, include_private=self.config.include_private))
            except TelegramParseError as exc:
                self.rejected += 1
                raw = orjson.dumps(update, default=str).decode()[:10000]
                if self.dead_letter is not None:
                    self.dead_letter(f"telegram:{self.account}", str(exc)[:500], raw)
                else:
                    log.warning("telegram %s rejected an update: %s", self.account, exc)
        return events

    async def deliver(self, updates: Sequence[Any]) -> list[Event]:
        """Parse and hand to the sink; returns only after the sink accepted (stored) them."""
        events = self.parse(updates)
        if events and self._sink is not None:
            await self._sink(events)
            self.received += len(events)
            newest = max(ev.time for ev in events)
            self.last_event_at = datetime.now(UTC)
            self.lag_seconds = max(0.0, self.clock() - newest.timestamp())
        if self.config.mode == "webhook":
            self.state = "connected"
        return events

    # -- acting ----------------------------------------------------------------------------
    def supports(self, action: Action) -> bool:
        return action.kind not in _UNSUPPORTED and action.kind is not ActionKind.NOTIFY_STAFF

    async def execute(self, action: Action) -> Delivery:
        chat: str | None = action.group_id
        for attempt in range(2):
            try:
                return await self._execute(action, chat)
            except TelegramApiError as exc:
                if exc.migrate_to and attempt == 0:  # group upgraded to a supergroup: follow it once
                    chat = str(exc.migrate_to)
                    continue
                return self._failure(exc, chat)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                return Delivery.fail(f"cannot reach Telegram: {self._clean(str(exc)) or type(exc).__name__}")
            except httpx.HTTPError as exc:
                reason = self._clean(f"{type(exc).__name__}: {exc}")[:300]
                if action.kind in _IDEMPOTENT:
                    return Delivery.fail(reason)
                # the request may have reached Telegram: saying "sent" or resending would both lie
                return Delivery(state=DeliveryState.UNKNOWN, error=f"no answer from Telegram: {reason}")
            except (ValueError, TypeError) as exc:  # a malformed action (non-numeric message id ...)
                return Delivery.fail(f"invalid action for Telegram: {exc}", permanent=True)
        return Delivery.fail("group migrated more than once", permanent=True)  # pragma: no cover

    def _failure(self, exc: TelegramApiError, chat: str | None) -> Delivery:
        error = self._clean(f"{exc.method}: {exc.description}")
        if exc.code == 429 or exc.retry_after:
            return Delivery.fail(error, retry_after=exc.retry_after or 30.0)
        if exc.migrate_to:
            return Delivery.fail(f"{error} (group is now {exc.migrate_to})", permanent=True)
        if exc.code >= 500:
            return Delivery.fail(error)
        return Delivery.fail(error, permanent=exc.code in (400, 401, 403, 404))

    async def _execute(self, action: Action, chat: str | None) -> Delivery:
        kind, p = action.kind, action.params
        if kind in (ActionKind.SEND_MESSAGE, ActionKind.REPLY, ActionKind.WARN):
            params: dict[str, Any] = {"chat_id": chat, "text": action.text}
            reply_to = action.message_id if kind is ActionKind.REPLY else p.get("reply_to")
            if reply_to:
                params["reply_parameters"] = {"message_id": int(reply_to), "allow_sending_without_reply": True}
            if p.get("parse_mode") in ("HTML", "MarkdownV2"):
                params["parse_mode"] = p["parse_mode"]
            if p.get("disable_notification"):
                params["disable_notification"] = True
            result = await self.call("sendMessage", params)
            mid = result.get("message_id") if isinstance(result, dict) else None
            return Delivery.ok(str(mid) if mid is not None else None, confirmed=mid is not None)
        if kind is ActionKind.DELETE_MESSAGE:
            await self.call("deleteMessage", {"chat_id": chat, "message_id": int(str(action.message_id))})
            return Delivery.ok()
        if kind in (ActionKind.MUTE, ActionKind.UNMUTE):
            params = {
                "chat_id": chat,
                "user_id": int(str(action.user_id)),
                "permissions": permissions(kind is ActionKind.UNMUTE),
                "use_independent_chat_permissions": True,
            }
            if kind is ActionKind.MUTE and action.duration:
                # Telegram treats < 30 s or > 366 days as "forever": clamp to what was meant
                params["until_date"] = int(self.clock()) + max(30, min(action.duration, 366 * 86400 - 60))
            await self.call("restrictChatMember", params)
            return Delivery.ok()
        if kind is ActionKind.BAN:
            params = {
                "chat_id": chat,
                "user_id": int(str(action.user_id)),
                "revoke_messages": bool(p.get("revoke_messages", False)),
            }
            if action.duration:
                params["until_date"] = int(self.clock()) + max(30, action.duration)
            await self.call("banChatMember", params)
            return Delivery.ok()
        if kind is ActionKind.KICK:  # remove without a lasting ban: ban, then lift it
            uid = int(str(action.user_id))
            await self.call("banChatMember", {"chat_id": chat, "user_id": uid})
            await self.call("unbanChatMember", {"chat_id": chat, "user_id": uid, "only_if_banned": True})
            return Delivery.ok()
        if kind is ActionKind.UNBAN:
            await self.call(
                "unbanChatMember", {"chat_id": chat, "user_id": int(str(action.user_id)), "only_if_banned": True}
            )
            return Delivery.ok()
        if kind is ActionKind.INVITE:
            return await self._invite_link(action, chat)
        if kind in (ActionKind.APPROVE_REQUEST, ActionKind.REJECT_REQUEST):
            method = "approveChatJoinRequest" if kind is ActionKind.APPROVE_REQUEST else "declineChatJoinRequest"
            await self.call(method, {"chat_id": chat, "user_id": int(str(action.user_id))})
            return Delivery.ok()
        if kind is ActionKind.SET_GROUP_NAME:
            title = action.text or p.get("title")
            if not title:
                return Delivery.fail("set_group_name needs text (the new title)", permanent=True)
            await self.call("setChatTitle", {"chat_id": chat, "title": str(title)[:128]})
            return Delivery.ok()
        if kind is ActionKind.WHOLE_MUTE:
            enable = bool(p.get("enable", True))
            await self.call(
                "setChatPermissions",
                {"chat_id": chat, "permissions": permissions(not enable), "use_independent_chat_permissions": True},
            )
            return Delivery.ok()
        return Delivery.fail(f"telegram cannot {kind.value}", permanent=True)

    async def _invite_link(self, action: Action, chat: str | None) -> Delivery:
        """A named invite link per promoter: joins through it carry the name (invite attribution)."""
        p = action.params
        name = str(p.get("name") or f"qy:{action.user_id}")[:32]
        params: dict[str, Any] = {"chat_id": chat, "name": name}
        for key in ("expire_date", "member_limit"):
            if isinstance(p.get(key), int) and not isinstance(p.get(key), bool):
                params[key] = p[key]
        if p.get("creates_join_request"):
            params["creates_join_request"] = True
            params.pop("member_limit", None)  # the Bot API refuses both together
        result = await self.call("createChatInviteLink", params)
        link = result.get("invite_link") if isinstance(result, dict) else None
        return Delivery.ok(str(link) if link else None, confirmed=bool(link))

    async def create_invite_link(self, chat_id: str, name: str, **extra: Any) -> str:
        """Direct helper for features that need the link now (e.g. to show it on a page)."""
        result = await self.call("createChatInviteLink", {"chat_id": chat_id, "name": name[:32], **extra})
        if not isinstance(result, dict) or not result.get("invite_link"):
            raise TelegramApiError("createChatInviteLink", 0, "no invite_link in the answer")
        return str(result["invite_link"])
