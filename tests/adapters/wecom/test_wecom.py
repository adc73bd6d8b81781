"""WeCom: callback decryption against an independent sender, robot sending, staff tasks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from qunyun.actions import Action, ActionKind, Reason
from qunyun.adapters.base import DeliveryState
from qunyun.adapters.wecom.adapter import WeComAdapter
from qunyun.adapters.wecom.config import parse_account
from qunyun.adapters.wecom.crypto import WeComCrypto, WeComCryptoError
from qunyun.adapters.wecom.parse import WeComParseError, parse_callback
from qunyun.config import ConfigError
from qunyun.engine.executor import submit_actions
from qunyun.events import Event, EventType
from qunyun.run.listener import Listener
from qunyun.store.db import Database
from tests.adapters.wecom.fake_wecom import AES_KEY, CORP_ID, TOKEN, CallbackSender, FakeRobot, encrypt

R = Reason(zh="刷屏", en="flooding", evidence={"rule": "flood"})
APP_TEXT = (
    "<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName><FromUserName><![CDATA[zhangsan]]>"
    "</FromUserName><CreateTime>1714536000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[你好 <b>qunyun</b>]]></Content><MsgId>7000000001</MsgId><AgentID>1000002</AgentID></xml>"
)
ADD_MEMBERS = (
    "<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName><FromUserName><![CDATA[sys]]>"
    "</FromUserName><CreateTime>1714536100</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA]]>"
    "</ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]>"
    "</UpdateDetail><JoinScene>3</JoinScene><MemChangeCnt>2</MemChangeCnt><MemChangeList>"
    "<Item>wmEAAA</Item><Item>wmEBBB</Item></MemChangeList><CurMemVer>v2</CurMemVer></xml>"
)


class Sink:
    def __init__(self, fail: int = 0) -> None:
        self.events: list[Event] = []
        self.fail = fail

    async def __call__(self, events: Sequence[Event]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("store down")
        self.events.extend(events)


def account(**extra: Any) -> dict[str, Any]:
    return {
        "name": "wecom",
        "platform": "wecom",
        "corp_id": CORP_ID,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "listen": "127.0.0.1:0",
        **extra,
    }


async def test_callback_url_verification_and_messages_over_loopback() -> None:
    dead: list[tuple[str, str, str | None]] = []
    adapter = WeComAdapter(parse_account(account()), dead_letter=lambda *a: dead.append(a))
    sink = Sink(fail=1)
    await adapter.start(sink)
    listener = Listener([WeComAdapter.inbound_router([adapter])], "127.0.0.1", 0)
    await listener.start()
    sender = CallbackSender(listener.url)
    try:
        ok = await sender.verify_url("1616140317555161061")
        assert (ok.status_code, ok.text) == (200, "1616140317555161061")
        assert (await sender.verify_url("x", token="other")).status_code == 403
        assert (await sender.post(APP_TEXT)).status_code == 500  # the store failed: WeCom will retry
        assert (await sender.post(APP_TEXT)).status_code == 200
        assert (await sender.post(ADD_MEMBERS)).status_code == 200
        assert (await sender.post(APP_TEXT, token="forged")).status_code == 403
        assert (await sender.post(APP_TEXT, tamper=True)).status_code == 403  # signature covers the ciphertext
        assert (await sender.post(APP_TEXT, receive_id="ww-other-corp")).status_code == 200
        assert (await sender.post("<xml><MsgType>text</MsgType></xml>")).status_code == 200
    finally:
        await sender.close()
        await listener.stop()
        await adapter.stop()
    msg, join_a, join_b = sink.events
    assert (msg.group_id, msg.user_id, msg.message_id, msg.text) == (
        "app:1000002",
        "zhangsan",
        "7000000001",
        "你好 <b>qunyun</b>",
    )
    assert [(e.type, e.user_id, e.subtype) for e in (join_a, join_b)] == [
        (EventType.JOIN, "wmEAAA", "qrcode"),
        (EventType.JOIN, "wmEBBB", "qrcode"),
    ]
    assert join_a.group_id == "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA" and join_a.raw["join_scene"] == 3
    assert [d[1].split(":")[0] for d in dead] == ["decrypt", "callback message"]
    assert "receiveid" in dead[0][1] and adapter.status().state == "stopped"


def test_crypto_round_trip_and_errors() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    for size in (0, 1, 11, 12, 31, 32, 100):  # padding 1..32 bytes
        message = ("字" * size).encode()
        assert crypto.decrypt(encrypt(message)) == message
        assert crypto.decrypt(crypto.encrypt(message)) == message
    with pytest.raises(WeComCryptoError, match="not base64"):
        crypto.decrypt("***")
    with pytest.raises(WeComCryptoError, match="multiple of 16"):
        crypto.decrypt("AAAA")
    with pytest.raises(WeComCryptoError, match="padding|length|short"):
        crypto.decrypt(encrypt(b"hello", key43="A" * 43))
    with pytest.raises(WeComCryptoError, match="msg_signature"):
        crypto.verify("0" * 40, "1", "2", "abc")


@settings(max_examples=200, deadline=None)
@given(blob=st.text(max_size=200))
def test_garbage_ciphertext_is_a_clear_error(blob: str) -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    try:
        crypto.decrypt(blob)
    except WeComCryptoError as exc:
        assert str(exc)


_XML_BITS = st.sampled_from(
    [
        "<xml>",
        "</xml>",
        "<MsgType>text</MsgType>",
        "<MsgType>event</MsgType>",
        "<Event>change_external_chat</Event>",
        "<ChatId>c</ChatId>",
        "<CreateTime>12</CreateTime>",
        "<CreateTime>x</CreateTime>",
        "<MsgId>1</MsgId>",
        "<FromUserName>u</FromUserName>",
        "<UpdateDetail>del_member</UpdateDetail>",
        "<MemChangeList><Item>a</Item></MemChangeList>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]>",
        "&a;",
        "<JoinScene>q</JoinScene>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_XML_BITS, st.text(max_size=8)), max_size=12))
def test_garbage_callback_xml_gives_events_or_a_clear_error(parts: list[str]) -> None:
    try:
        events = parse_callback("".join(parts))
    except (WeComParseError, ValueError) as exc:
        assert str(exc)
        return
    assert all(isinstance(e, Event) for e in events)


def act(kind: ActionKind, group: str = "g1", **kw: Any) -> Action:
    return Action(kind=kind, platform="wecom", group_id=group, reason=R, source="moderation.flood", **kw)


async def test_robot_sending_errcodes_and_limits() -> None:
    async with FakeRobot({"key-1"}) as robot:
        adapter = WeComAdapter(
            parse_account(
                {
                    "name": "w",
                    "platform": "wecom",
                    "robot_api": robot.url,
                    "robots": {"g1": "key-1", "g2": f"{robot.url}?key=stale"},
                }
            )
        )
        await adapter.start(Sink())
        try:
            sent = await adapter.execute(act(ActionKind.REPLY, message_id="1", user_id="zhangsan", text="请勿刷屏"))
            assert sent.state is DeliveryState.SENT and sent.external_id is None  # robots return no id
            key, body = robot.posts[-1]
            assert key == "key-1" and body == {
                "msgtype": "text",
                "text": {"content": "请勿刷屏", "mentioned_list": ["zhangsan"]},
            }
            await adapter.execute(act(ActionKind.SEND_MESSAGE, text="**hi**", params={"markdown": True}))
            assert robot.posts[-1][1]["msgtype"] == "markdown"
            robot.answers = [45009]
            limited = await adapter.execute(act(ActionKind.SEND_MESSAGE, text="x"))
            assert (limited.state, limited.retry_after, limited.permanent) == (DeliveryState.FAILED, 60.0, False)
            stale = await adapter.execute(act(ActionKind.SEND_MESSAGE, group="g2", text="x"))
            assert stale.permanent and "93000" in (stale.error or "")
            too_long = await adapter.execute(act(ActionKind.SEND_MESSAGE, text="字" * 700))
            assert too_long.permanent and "2048" in (too_long.error or "")
        finally:
            await adapter.stop()


def test_what_a_robot_cannot_do_becomes_a_staff_task() -> None:
    adapter = WeComAdapter(parse_account({"name": "w", "platform": "wecom", "robots": {"g1": "k"}}))
    assert adapter.supports(act(ActionKind.SEND_MESSAGE, text="hi"))
    assert adapter.staff_task(act(ActionKind.SEND_MESSAGE, text="hi")) is None
    for kind, extra, words in (
        (ActionKind.KICK, {"user_id": "u1"}, "移出"),
        (ActionKind.MUTE, {"user_id": "u1", "duration": 600}, "10 分钟"),
        (ActionKind.DELETE_MESSAGE, {"message_id": "m1"}, "撤回"),
        (ActionKind.SEND_MESSAGE, {"text": "活动通知", "params": {"customer_group": True}}, "每月最多"),
    ):
        original = act(kind, **extra)
        assert not adapter.supports(original)
        task = adapter.staff_task(original)
        assert task is not None and task.kind is ActionKind.NOTIFY_STAFF
        assert words in task.reason.zh and "刷屏" in task.reason.zh and "flooding" in task.reason.en
        assert task.reason.evidence["original_kind"] == kind.value and task.reason.evidence["rule"] == "flood"
        assert task.idempotency_key == adapter.staff_task(original).idempotency_key  # type: ignore[union-attr]
    no_robot = adapter.staff_task(act(ActionKind.SEND_MESSAGE, group="g9", text="hi"))
    assert (
        no_robot is not None
        and "g9" in no_robot.reason.en
        and not adapter.supports(act(ActionKind.WARN, group="g9", text="x"))
    )


def test_staff_tasks_queue_once(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    adapter = WeComAdapter(parse_account({"name": "w", "platform": "wecom", "robots": {"g1": "k"}}))
    task = adapter.staff_task(act(ActionKind.KICK, user_id="u1"))
    assert task is not None
    with db.engine.begin() as conn:
        first = submit_actions(conn, [task], dry_run=False)
        again = submit_actions(conn, [adapter.staff_task(act(ActionKind.KICK, user_id="u1"))], dry_run=False)  # type: ignore[list-item]
    assert len(first) == 1 and again == []
    with db.engine.connect() as conn:
        row = conn.execute(text("select kind, status from outbox")).one()
        reason = conn.execute(text("select reason_zh from audit_log")).scalar()
    assert row == ("notify_staff", "confirmed") and "移出" in reason
    db.dispose()


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="43 characters"):
        parse_account(account(encoding_aes_key="short"))
    with pytest.raises(ConfigError, match="together"):
        parse_account({"name": "w", "platform": "wecom", "corp_id": CORP_ID})
    with pytest.raises(ConfigError, match="robots"):
        parse_account({"name": "w", "platform": "wecom"})
    with pytest.raises(ConfigError, match="no key="):
        parse_account({"name": "w", "platform": "wecom", "robots": {"g": "https://x/send"}})
