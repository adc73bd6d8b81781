"""The adapter against a real fake implementation on loopback: forward WS, reverse WS, HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Sequence

import httpx
import orjson
import pytest
from websockets.exceptions import InvalidStatus

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.base import DeliveryState
from qunyun.adapters.onebot import OneBotAccount, OneBotAdapter, OneBotApiError, OneBotTimeout
from qunyun.events import Event, EventType
from qunyun.run.listener import Listener

from . import payloads as p
from .fake import FakeHttpApi, FakeOneBot, reverse_connect

R = Reason(zh="测试", en="test")


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.got = asyncio.Event()

    async def __call__(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        self.got.set()

    async def wait_for(self, n: int, timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            while len(self.events) < n:
                self.got.clear()
                await self.got.wait()


async def _until(cond, timeout: float = 5) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def _account(**kw: object) -> OneBotAccount:
    base: dict[str, object] = {"name": "bot", "reconnect_min": 0.05, "reconnect_max": 0.2, "api_timeout": 2}
    base.update(kw)
    return OneBotAccount.model_validate(base)


async def test_forward_ws_receives_events_and_matches_api_echo() -> None:
    async with FakeOneBot(token="s3cret") as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url, access_token="s3cret"))
        sink = Sink()
        await adapter.start(sink)
        await asyncio.wait_for(impl.connected.wait(), 5)
        await _until(lambda: adapter.connected)
        assert impl.auth_seen[-1] == "Bearer s3cret"
        await impl.push(
            p.lifecycle(), p.group_message(1), p.heartbeat(), p.group_increase(), p.group_message(2, cq=True)
        )
        await sink.wait_for(3)
        assert [e.type for e in sink.events] == [EventType.MESSAGE, EventType.JOIN, EventType.MESSAGE]
        assert adapter.self_id == str(p.SELF) and adapter.last_heartbeat_at is not None
        # concurrent calls are matched to their own responses by echo
        results = await asyncio.gather(
            adapter.get_group_list(),
            adapter.get_group_member_list("20001"),
            adapter.get_group_member_info("20001", "42"),
        )
        assert results[0][0]["group_id"] == 20001 and results[1][0]["user_id"] == 30001 and results[2]["user_id"] == 42
        calls = [c for c in impl.calls if c["action"] != "get_login_info"]
        assert len({c["echo"] for c in calls}) == 3
        await adapter.stop()


async def test_forward_ws_wrong_token_is_refused_and_retried() -> None:
    async with FakeOneBot(token="right") as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url, access_token="wrong"))
        await adapter.start(Sink())
        await _until(lambda: adapter.reconnects >= 2)
        assert not adapter.connected and "403" in (adapter.detail or "")
        await adapter.stop()


async def test_reconnects_after_the_implementation_drops() -> None:
    async with FakeOneBot() as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url))
        sink = Sink()
        await adapter.start(sink)
        await _until(lambda: adapter.connected)
        await impl.push(p.group_message(1))
        await sink.wait_for(1)
        await impl.drop()
        await _until(lambda: adapter.reconnects >= 1)
        await _until(lambda: adapter.connected and bool(impl.connections))
        await impl.push(p.group_message(2))
        await sink.wait_for(2)
        assert [e.message_id for e in sink.events] == ["5001", "5002"]
        await adapter.stop()


async def test_api_timeout_and_failure() -> None:
    async with FakeOneBot() as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url, api_timeout=0.2))
        await adapter.start(Sink())
        await _until(lambda: adapter.connected)
        impl.silent.add("get_group_list")
        with pytest.raises(OneBotTimeout, match="get_group_list: no response within 0.2s"):
            await adapter.get_group_list()
        impl.fail["set_group_kick"] = 102
        with pytest.raises(OneBotApiError, match="set_group_kick failed: retcode 102"):
            await adapter.call("set_group_kick", {"group_id": 1, "user_id": 2})
        # a send that times out is *unknown*, never success; a kick that times out is a retryable failure
        impl.silent.add("send_group_msg")
        send = Action(kind=ActionKind.SEND_MESSAGE, platform="qq", group_id="20001", text="hi", reason=R, source="t")
        d = await adapter.execute(send)
        assert d.state is DeliveryState.UNKNOWN and "no response" in (d.error or "")
        impl.silent.add("set_group_kick")
        kick = Action(kind=ActionKind.KICK, platform="qq", group_id="20001", user_id="3", reason=R, source="t")
        d = await adapter.execute(kick)
        assert d.state is DeliveryState.FAILED and not d.permanent
        await adapter.stop()


async def test_actions_become_spec_api_calls() -> None:
    async with FakeOneBot() as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url))
        await adapter.start(Sink())
        await _until(lambda: adapter.connected)
        acts = [
            Action(
                kind=ActionKind.REPLY,
                platform="qq",
                group_id="20001",
                message_id="5001",
                text="收到",
                reason=R,
                source="t",
            ),
            Action(
                kind=ActionKind.DELETE_MESSAGE, platform="qq", group_id="20001", message_id="5001", reason=R, source="t"
            ),
            Action(
                kind=ActionKind.MUTE, platform="qq", group_id="20001", user_id="3", duration=60, reason=R, source="t"
            ),
            Action(kind=ActionKind.BAN, platform="qq", group_id="20001", user_id="3", reason=R, source="t"),
            Action(kind=ActionKind.WHOLE_MUTE, platform="qq", group_id="20001", reason=R, source="t"),
            Action(
                kind=ActionKind.SET_MEMBER_CARD,
                platform="qq",
                group_id="20001",
                user_id="3",
                text="新名片",
                reason=R,
                source="t",
            ),
            Action(
                kind=ActionKind.APPROVE_REQUEST,
                platform="qq",
                params={"flag": "f1", "sub_type": "add"},
                reason=R,
                source="t",
            ),
        ]
        deliveries = [await adapter.execute(a) for a in acts]
        assert deliveries[0].state is DeliveryState.SENT and deliveries[0].external_id == "1000"
        assert all(d.state is DeliveryState.SENT for d in deliveries)
        calls = [(c["action"], c["params"]) for c in impl.calls if c["action"] != "get_login_info"]
        assert calls[0] == (
            "send_group_msg",
            {
                "group_id": 20001,
                "message": [{"type": "reply", "data": {"id": "5001"}}, {"type": "text", "data": {"text": "收到"}}],
            },
        )
        assert calls[1] == ("delete_msg", {"message_id": 5001})
        assert calls[2] == ("set_group_ban", {"group_id": 20001, "user_id": 3, "duration": 60})
        assert calls[3] == ("set_group_kick", {"group_id": 20001, "user_id": 3, "reject_add_request": True})
        assert calls[4] == ("set_group_whole_ban", {"group_id": 20001, "enable": True})
        assert calls[5] == ("set_group_card", {"group_id": 20001, "user_id": 3, "card": "新名片"})
        assert calls[6] == ("set_group_add_request", {"flag": "f1", "sub_type": "add", "approve": True, "reason": ""})
        dm = Action(
            kind=ActionKind.SEND_MESSAGE, platform="qq", group_id="private:30002", text="hi", reason=R, source="t"
        )
        assert (await adapter.execute(dm)).state is DeliveryState.SENT
        assert (impl.calls[-1]["action"], impl.calls[-1]["params"]) == (
            "send_private_msg",
            {"user_id": 30002, "message": [{"type": "text", "data": {"text": "hi"}}]},
        )
        bad = Action(
            kind=ActionKind.SEND_MESSAGE, platform="qq", group_id="not-a-number", text="x", reason=R, source="t"
        )
        d = await adapter.execute(bad)
        assert d.state is DeliveryState.FAILED and d.permanent and "not a QQ number" in (d.error or "")
        await adapter.stop()


async def test_garbage_frames_become_dead_letters_and_the_stream_goes_on() -> None:
    dead: list[tuple[str, str, str | None]] = []
    async with FakeOneBot() as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url), dead_letter=lambda *a: dead.append(a))
        sink = Sink()
        await adapter.start(sink)
        await _until(lambda: adapter.connected)
        await impl.push("{not json", {"post_type": "message", "message_type": "group"}, p.group_message(9))
        await sink.wait_for(1)
        assert [e.message_id for e in sink.events] == ["5009"]
        assert len(dead) == 2 and "not JSON" in dead[0][1] and "missing" in dead[1][1]
        await adapter.stop()


async def _reverse_setup(token: str | None, self_id: str | None = str(p.SELF)):  # type: ignore[no-untyped-def]
    adapter = OneBotAdapter(_account(mode="ws-reverse", access_token=token, self_id=self_id, listen="127.0.0.1:0"))
    sink = Sink()
    await adapter.start(sink)
    listener = Listener([OneBotAdapter.inbound_router([adapter])], "127.0.0.1", 0)
    await listener.start()
    return adapter, sink, listener


async def test_reverse_ws_with_token_events_and_api() -> None:
    adapter, sink, listener = await _reverse_setup("tok")
    try:
        with pytest.raises(InvalidStatus):
            await reverse_connect(listener.port, self_id=p.SELF)  # no token
        with pytest.raises(InvalidStatus):
            await reverse_connect(listener.port, self_id=p.SELF, token="nope")
        with pytest.raises(InvalidStatus):
            await reverse_connect(listener.port, self_id=999, token="tok")  # unknown account
        ws = await reverse_connect(listener.port, self_id=p.SELF, token="tok", query_token=True)
        impl = FakeOneBot()
        await _until(lambda: adapter.connected)
        await ws.send(orjson.dumps(p.group_message(1)).decode())
        await sink.wait_for(1)

        async def answer() -> None:
            call = orjson.loads(await ws.recv())
            await ws.send(orjson.dumps(impl.response_for(call)).decode())

        task = asyncio.create_task(answer())
        groups = await adapter.get_group_list()
        await task
        assert groups[0]["group_name"] == "测试群"
        await ws.close()
        await _until(lambda: not adapter.connected)
    finally:
        await adapter.stop()
        await listener.stop()


def _signed(body: bytes, secret: str) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


async def test_http_post_events_signature_token_and_http_api() -> None:
    async with FakeHttpApi(FakeOneBot(token="tok")) as api:
        adapter = OneBotAdapter(
            _account(
                mode="http", url=api.url, access_token="tok", secret="sec", self_id=str(p.SELF), listen="127.0.0.1:0"
            )
        )
        sink = Sink()
        await adapter.start(sink)
        listener = Listener([OneBotAdapter.inbound_router([adapter])], "127.0.0.1", 0)
        await listener.start()
        url = f"{listener.url}/onebot/v11/http"
        body = orjson.dumps(p.group_message(1))
        good = {"Authorization": "Bearer tok", "X-Self-ID": str(p.SELF), "Content-Type": "application/json"}
        try:
            async with httpx.AsyncClient() as client:
                r = await client.post(url, content=body, headers={**good, "X-Signature": _signed(body, "sec")})
                assert r.status_code == 204 and [e.message_id for e in sink.events] == ["5001"]
                r = await client.post(url, content=body, headers={**good, "X-Signature": _signed(body, "wrong")})
                assert r.status_code == 401
                r = await client.post(url, content=body, headers={**good, "X-Signature": "sha1=00"})
                assert r.status_code == 401
                no_sig = await client.post(url, content=body, headers=good)
                assert no_sig.status_code == 401
                no_tok = {k: v for k, v in good.items() if k != "Authorization"}
                r = await client.post(url, content=body, headers={**no_tok, "X-Signature": _signed(body, "sec")})
                assert r.status_code == 401
                r = await client.post(
                    url + "?access_token=bad", content=body, headers={**no_tok, "X-Signature": _signed(body, "sec")}
                )
                assert r.status_code == 403
                garbage = b'{"post_type": "message"}'
                r = await client.post(url, content=garbage, headers={**good, "X-Signature": _signed(garbage, "sec")})
                assert r.status_code == 400
            assert len(sink.events) == 1
            # the HTTP API out, with the token
            send = Action(
                kind=ActionKind.SEND_MESSAGE, platform="qq", group_id="20001", text="hi", reason=R, source="t"
            )
            d = await adapter.execute(send)
            assert d.state is DeliveryState.SENT and d.external_id
            assert api.bot.calls[-1]["action"] == "send_group_msg"
        finally:
            await adapter.stop()
            await listener.stop()


def test_account_config_errors_name_the_entry() -> None:
    from qunyun.adapters.onebot import parse_account
    from qunyun.config import ConfigError

    with pytest.raises(ConfigError, match=r"accounts\[0\] \(main\).*mode 'ws' needs url"):
        parse_account({"name": "main", "mode": "ws"})
    with pytest.raises(ConfigError, match=r"accounts\[2\].*mode"):
        parse_account({"mode": "carrier-pigeon"}, 2)
    with pytest.raises(ConfigError, match="listen must be host:port"):
        parse_account({"mode": "ws-reverse", "listen": "8080"})
    with pytest.raises(ConfigError, match="Extra inputs"):
        parse_account({"mode": "ws", "url": "ws://x", "tokn": "typo"})
    acc = parse_account({"mode": "ws-reverse", "self_id": 123})
    assert acc.name == "123" and acc.self_id == "123"


async def test_reverse_ws_separate_event_and_api_sockets() -> None:
    adapter, sink, listener = await _reverse_setup(None)
    try:
        events = await reverse_connect(listener.port, self_id=p.SELF, role="Event")
        api = await reverse_connect(listener.port, self_id=p.SELF, role="API")
        await _until(lambda: adapter.connected)
        await events.send(orjson.dumps(p.group_message(3)).decode())
        await sink.wait_for(1)
        impl = FakeOneBot()

        async def answer() -> None:
            call = orjson.loads(await api.recv())
            await api.send(orjson.dumps(impl.response_for(call)).decode())

        task = asyncio.create_task(answer())
        info = await adapter.get_group_member_info("20001", "42")
        await task
        assert info["user_id"] == 42 and impl.calls[0]["action"] == "get_group_member_info"
        await api.close()
        await _until(lambda: not adapter.connected)  # no API socket: sends wait, nothing is lost
        await events.close()
    finally:
        await adapter.stop()
        await listener.stop()


async def test_forward_ws_learns_self_id_without_a_lifecycle_event() -> None:
    async with FakeOneBot(self_id=424242) as impl:
        adapter = OneBotAdapter(_account(mode="ws", url=impl.url))
        await adapter.start(Sink())
        await _until(lambda: adapter.self_id == "424242")
        assert impl.calls[0]["action"] == "get_login_info"
        await adapter.stop()


async def test_http_post_without_x_self_id_is_routed_by_the_body() -> None:
    a = OneBotAdapter(_account(name="a", mode="http", url="http://127.0.0.1:9", self_id="111", listen="127.0.0.1:0"))
    b = OneBotAdapter(_account(name="b", mode="http", url="http://127.0.0.1:9", self_id="222", listen="127.0.0.1:0"))
    sink_a, sink_b = Sink(), Sink()
    await a.start(sink_a)
    await b.start(sink_b)
    listener = Listener([OneBotAdapter.inbound_router([a, b])], "127.0.0.1", 0)
    await listener.start()
    try:
        async with httpx.AsyncClient() as client:
            url = f"{listener.url}/onebot/v11/http"
            r = await client.post(url, content=orjson.dumps(p.group_message(1, self_id=222)))
            assert r.status_code == 204 and len(sink_b.events) == 1 and not sink_a.events
            r = await client.post(url, content=orjson.dumps(p.group_message(2, self_id=333)))
            assert r.status_code == 404
    finally:
        await a.stop()
        await b.stop()
        await listener.stop()
