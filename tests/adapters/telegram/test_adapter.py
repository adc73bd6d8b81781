"""The adapter against a real HTTP peer on loopback (the fake Bot API), polling and webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.base import DeliveryState
from qunyun.adapters.telegram.adapter import TelegramAdapter
from qunyun.adapters.telegram.config import parse_account
from qunyun.config import ConfigError
from qunyun.events import Event, EventType
from qunyun.run.listener import Listener
from tests.adapters.telegram.fake_api import TOKEN, FakeBotApi
from tests.adapters.telegram.updates import GROUP, member_update, message

R = Reason(zh="测试", en="test")


def act(kind: ActionKind, **kw: Any) -> Action:
    return Action(kind=kind, platform="telegram", group_id=str(GROUP["id"]), reason=R, source="test", **kw)


def adapter_for(api: FakeBotApi, **extra: Any) -> TelegramAdapter:
    entry = {
        "name": "tg",
        "platform": "telegram",
        "token": TOKEN,
        "api_base": api.url,
        "poll_timeout": 1,
        "api_timeout": 1,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        **extra,
    }
    return TelegramAdapter(parse_account(entry), dead_letter=lambda *a: dead.append(a))


dead: list[tuple[str, str, str | None]] = []


class Sink:
    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[Event] = []
        self.fail_first = fail_first
        self.got = asyncio.Event()

    async def __call__(self, events: Sequence[Event]) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("database is down")
        self.events.extend(events)
        self.got.set()

    async def wait_for(self, n: int, timeout: float = 5) -> None:
        async def until() -> None:
            while len(self.events) < n:
                self.got.clear()
                await self.got.wait()

        await asyncio.wait_for(until(), timeout)


async def test_long_polling_delivers_confirms_and_dead_letters() -> None:
    dead.clear()
    async with FakeBotApi() as api:
        api.push(message=message())
        api.push(chat_member=member_update("left", "member", link_name="promoter-7"))
        api.push(message={"message_id": "not a number", "chat": GROUP, "date": 1})
        adapter, sink = adapter_for(api), Sink()
        await adapter.start(sink)
        try:
            await sink.wait_for(2)
            api.push(edited_message=message(edit_date=1714536099, text="edited", entities=[]))
            await sink.wait_for(3)
        finally:
            await adapter.stop()
        assert [e.type for e in sink.events] == [EventType.MESSAGE, EventType.JOIN, EventType.EDIT]
        assert sink.events[1].raw["invite_link_name"] == "promoter-7"
        assert all(e.self_id == "123456" for e in sink.events)
        polls = api.called("getUpdates")
        assert "chat_member" in polls[0]["allowed_updates"]
        assert polls[1]["offset"] == 4  # the three first updates were confirmed after they were stored
        assert api.called("deleteWebhook") and adapter.username == "qy_test_bot"
        assert len(dead) == 1 and "message_id" in dead[0][1] and dead[0][0] == "telegram:tg"
        assert adapter.status().state == "stopped" and adapter.received == 3


async def test_updates_are_not_confirmed_until_stored() -> None:
    async with FakeBotApi() as api:
        api.push(message=message())
        adapter, sink = adapter_for(api), Sink(fail_first=1)
        await adapter.start(sink)
        try:
            await sink.wait_for(1)
        finally:
            await adapter.stop()
        offsets = [p.get("offset") for p in api.called("getUpdates")]
        assert offsets[:2] == [None, None]  # after the failed sink the same update was fetched again
        assert [e.message_id for e in sink.events] == ["100"]


async def test_bad_token_and_conflict_are_visible_states() -> None:
    async with FakeBotApi(token="999:other-token_abcdefghijklmnopqrs") as api:
        adapter = adapter_for(api)
        await adapter.start(Sink())
        await asyncio.sleep(0.3)
        status = adapter.status()
        await adapter.stop()
        assert status.state == "unauthorized" and TOKEN not in (status.detail or "")


async def test_actions_map_to_bot_api_methods() -> None:
    async with FakeBotApi() as api:
        adapter = adapter_for(api)
        await adapter.start(Sink())
        try:
            sent = await adapter.execute(act(ActionKind.REPLY, message_id="100", text="hi"))
            assert sent.state is DeliveryState.CONFIRMED and sent.external_id == "500"
            assert api.called("sendMessage")[0]["reply_parameters"]["message_id"] == 100
            assert (await adapter.execute(act(ActionKind.MUTE, user_id="7", duration=600))).state is DeliveryState.SENT
            mute = api.called("restrictChatMember")[0]
            assert mute["permissions"]["can_send_messages"] is False and mute["until_date"] > 1_700_000_000
            await adapter.execute(act(ActionKind.KICK, user_id="7"))
            assert api.called("banChatMember") and api.called("unbanChatMember")[0]["only_if_banned"] is True
            link = await adapter.execute(act(ActionKind.INVITE, user_id="42", params={"name": "promoter-42"}))
            assert link.external_id and link.external_id.startswith("https://t.me/+")
            assert api.called("createChatInviteLink")[0]["name"] == "promoter-42"
            assert not adapter.supports(act(ActionKind.SET_MEMBER_CARD, user_id="7", text="x"))
        finally:
            await adapter.stop()


async def test_429_retry_after_permanent_errors_migration_and_unknown() -> None:
    async with FakeBotApi() as api:
        adapter = adapter_for(api)
        await adapter.start(Sink())
        try:
            api.throttle["sendMessage"] = [7]
            throttled = await adapter.execute(act(ActionKind.SEND_MESSAGE, text="x"))
            assert (throttled.state, throttled.retry_after, throttled.permanent) == (DeliveryState.FAILED, 7.0, False)
            api.errors["deleteMessage"] = [(400, "Bad Request: message to delete not found", None)]
            gone = await adapter.execute(act(ActionKind.DELETE_MESSAGE, message_id="1"))
            assert gone.permanent and "not found" in (gone.error or "")
            api.errors["sendMessage"] = [
                (400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": -1009})
            ]
            moved = await adapter.execute(act(ActionKind.SEND_MESSAGE, text="x"))
            assert moved.state is DeliveryState.CONFIRMED and api.called("sendMessage")[-1]["chat_id"] == "-1009"
            api.delay["sendMessage"] = 1.5  # longer than api_timeout: the request reached Telegram, the answer did not
            lost = await adapter.execute(act(ActionKind.SEND_MESSAGE, text="x"))
            assert lost.state is DeliveryState.UNKNOWN
            api.delay["deleteMessage"] = 1.5  # deleting twice is harmless: a plain, retryable failure
            retry = await adapter.execute(act(ActionKind.DELETE_MESSAGE, message_id="2"))
            assert retry.state is DeliveryState.FAILED and not retry.permanent
        finally:
            await adapter.stop()
    down = adapter_for(api)  # the server is gone now
    await down.start(Sink())
    try:
        failed = await down.execute(act(ActionKind.SEND_MESSAGE, text="x"))
    finally:
        await down.stop()
    assert failed.state is DeliveryState.FAILED and "cannot reach Telegram" in (failed.error or "")


async def test_webhook_checks_the_secret_and_stores_before_answering() -> None:
    async with FakeBotApi() as api:
        adapter = adapter_for(
            api,
            mode="webhook",
            secret_token="s3cr3t",
            webhook_url="https://bot.example/telegram/tg",
            listen="127.0.0.1:0",
        )
        sink = Sink(fail_first=1)
        await adapter.start(sink)
        listener = Listener([TelegramAdapter.inbound_router([adapter])], "127.0.0.1", 0)
        await listener.start()
        try:
            update = {"update_id": 1, "message": message()}
            async with httpx.AsyncClient(base_url=listener.url) as client:
                assert (await client.post("/telegram/tg", json=update)).status_code == 401
                bad = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                assert (await client.post("/telegram/tg", json=update, headers=bad)).status_code == 401
                ok = {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"}
                assert (await client.post("/telegram/nope", json=update, headers=ok)).status_code == 404
                assert (await client.post("/telegram/tg", json=update, headers=ok)).status_code == 500  # not stored
                assert (await client.post("/telegram/tg", json=update, headers=ok)).status_code == 200
                assert (await client.post("/telegram/tg", content=b"{", headers=ok)).status_code == 200
            await asyncio.sleep(0.1)
            hook = api.called("setWebhook")
            assert hook and hook[0]["secret_token"] == "s3cr3t" and hook[0]["url"] == "https://bot.example/telegram/tg"
            assert [e.message_id for e in sink.events] == ["100"] and adapter.status().state == "connected"
        finally:
            await listener.stop()
            await adapter.stop()


def test_config_errors_name_the_key_not_the_token() -> None:
    with pytest.raises(ConfigError, match="token must be"):
        parse_account({"name": "x", "token": "nope"})
    with pytest.raises(ConfigError, match="secret_token") as err:
        parse_account({"name": "x", "token": TOKEN, "mode": "webhook"})
    assert TOKEN not in str(err.value)
    with pytest.raises(ConfigError, match="https"):
        parse_account({"name": "x", "token": TOKEN, "mode": "webhook", "secret_token": "a", "webhook_url": "http://x"})
    assert parse_account({"token": TOKEN}).name == "tg-123456"
