"""The moderation plugin's batch path: one ``detect_many`` per batch, store work only where needed,
and the same decisions as the per-message path (which still runs when the batch hook is absent
or preparing a batch fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, func, select

from qunyun.config import Settings
from qunyun.engine.pipeline import Outcome
from qunyun.events import Event
from qunyun.features.moderation.detector import Detector
from qunyun.features.moderation.plugin import ModerationPlugin
from qunyun.features.moderation.tables import IncidentRow, ReviewRow, StrikeRow, WaveEntryRow, tbl
from qunyun.features.moderation.waves import WaveConfig, WaveItem, WaveTracker
from qunyun.store.db import Database
from qunyun.testing import BASE_TIME, BotTester, join, message

GROUPS = ["2001", "2002", "2003", "2004", "2005"]
SPAM = "兼职日结工资，加微信 abc12345 领取名额，动动手指日赚三百"
NORMAL = "今天的作业第三题有人会做吗？我卡在循环那里了"
TIP = "可以私聊我，返现活动的模板发你"


def settings() -> Settings:
    s = Settings()
    s.features["moderation"] = {"rules": {"use_model": False}, "waves": {"min_groups": 3}}
    return s


def bot(db_url: str) -> BotTester:
    return BotTester([ModerationPlugin()], db_url=db_url, settings=settings())


def traffic() -> list[Event]:
    """Chat, a newcomer's flagged tip, a spam wave over five groups, a flood, an admin, more chat."""
    t = BASE_TIME
    out: list[Event] = []

    def at(seconds: int) -> Any:
        return t + timedelta(seconds=seconds)

    for i, g in enumerate(GROUPS):
        out.append(message(f"{NORMAL} {i}", group_id=g, user_id="good", message_id=f"n{i}", time=at(i)))
    out.append(join("fresh", group_id="2001", message_id="j1", time=at(10)))
    out.append(message(TIP, group_id="2001", user_id="fresh", message_id="f1", time=at(11)))
    for i, g in enumerate(GROUPS):
        out.append(
            message(SPAM + "!" * i, group_id=g, user_id=["s1", "s2"][i % 2], message_id=f"w{i}", time=at(20 + i))
        )
    for i in range(5):  # the same line five times in a few seconds: a flood
        out.append(
            message(
                "大家快来看看这个东西真的很不错哦", group_id="2002", user_id="fl", message_id=f"r{i}", time=at(30 + i)
            )
        )
    out.append(
        message(SPAM, group_id="2003", user_id="boss", message_id="a1", raw={"sender": {"role": "admin"}}, time=at(40))
    )
    for i, g in enumerate(GROUPS):
        out.append(message(f"{NORMAL} 又来了 {i}", group_id=g, user_id="good", message_id=f"m{i}", time=at(50 + i)))
    return out


def summary(b: BotTester, outcomes: list[Outcome]) -> dict[str, Any]:
    """What moderation decided: per event the stop and the actions, plus what the store recorded."""
    decided = [
        (
            o.event.message_id,
            o.stopped_by,
            sorted((a.kind.value, a.group_id, a.user_id or "", a.message_id or "") for a in o.actions),
        )
        for o in outcomes
    ]
    with b.db.engine.connect() as conn:
        incidents = [(r.status, r.groups, r.accounts, r.messages) for r in conn.execute(select(tbl(IncidentRow)))]
        reviews = sorted((r.kind, r.step or "", r.user_id or "") for r in conn.execute(select(tbl(ReviewRow))))
        strikes = sorted((r.user_id, r.source) for r in conn.execute(select(tbl(StrikeRow))))
    return {"decided": decided, "incidents": incidents, "reviews": reviews, "strikes": strikes}


def reference_bot(tmp: Path) -> BotTester:
    """The per-message path (no batch hook) on its own SQLite file."""
    b = BotTester([ModerationPlugin()], db_url=f"sqlite:///{tmp / 'reference.db'}", settings=settings())
    b.registry.batch_hooks.clear()
    return b


@pytest.fixture
def detect_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts Detector.detect_many calls (and their sizes); the real method still runs."""
    calls: list[int] = []
    original = Detector.detect_many

    def counting(self: Detector, texts: Any, **kw: Any) -> Any:
        calls.append(len(texts))
        return original(self, texts, **kw)

    monkeypatch.setattr(Detector, "detect_many", counting)
    yield calls


def test_one_detect_many_per_batch_and_the_same_decisions(
    db_url: str, feedback_csv: Path, detect_calls: list[int]
) -> None:
    batched = bot(db_url)
    found = summary(batched, batched.feed_many(traffic()))
    # every message but the admin's, scored in one call
    assert detect_calls == [len([e for e in traffic() if e.type.value == "message"]) - 1]
    batched.close()

    detect_calls.clear()
    reference = reference_bot(feedback_csv.parent)  # the same batch, decided message by message
    expected = summary(reference, reference.feed_many(traffic()))
    assert len(detect_calls) == len([e for e in traffic() if e.type.value == "message"]) - 1
    reference.close()

    assert found == expected
    stops = {mid: stop for mid, stop, _ in found["decided"]}
    assert stops["w2"] == stops["w3"] == "moderation.spam"  # the wave, acted on inside the batch
    assert stops["n0"] is None and stops["a1"] is None and stops["f1"] is None
    assert found["incidents"] == [("actioned", 5, 2, 5)]
    assert ("message", "flag", "fresh") in found["reviews"]  # the newcomer's tip: flagged
    assert any(u == "fl" for u, _ in found["strikes"])  # the flood: acted on


def test_ordinary_chat_costs_the_same_statements_whatever_the_batch_size(db_url: str, feedback_csv: Path) -> None:
    b = bot(db_url)
    b.feed_many([message(f"{NORMAL} 预热 {i}", group_id=g, user_id="good") for i, g in enumerate(GROUPS)])
    policy = b.registry.policies[0].fn
    inside, count = [False], [0]

    def counted(ctx: Any) -> Any:
        inside[0] = True
        try:
            return policy(ctx)
        finally:
            inside[0] = False

    def on_execute(*_: Any) -> None:
        count[0] += inside[0]

    b.registry.policies[0].fn = counted
    event.listen(b.db.engine, "before_cursor_execute", on_execute)
    counts = []
    for n in (10, 60):
        count[0] = 0
        chat = [
            message(f"第{i}条普通聊天：{NORMAL}，顺便问问周末活动几点开始", group_id=GROUPS[i % 5], user_id=f"u{n}-{i}")
            for i in range(n)
        ]
        outcomes = b.feed_many(chat)
        assert all(o.actions == [] and o.stopped_by is None for o in outcomes)
        counts.append(count[0])
    event.remove(b.db.engine, "before_cursor_execute", on_execute)
    with b.db.engine.connect() as conn:  # every message still has its wave signature, ham included
        assert conn.execute(select(func.count()).select_from(tbl(WaveEntryRow))).scalar_one() == 5 + 10 + 60
    b.close()
    assert counts[0] == counts[1] and counts[0] <= 4  # members, tail of the index, insert: nothing per message


def test_a_failed_batch_falls_back_to_the_per_message_path(
    db_url: str, feedback_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = reference_bot(feedback_csv.parent)
    expected = summary(reference, reference.feed_many(traffic()))
    reference.close()

    original = WaveTracker.prepare
    failures = [0]

    def fails_once(self: WaveTracker, conn: Any, items: Any) -> None:
        if not failures[0]:
            failures[0] += 1
            raise RuntimeError("store unavailable")  # after the flood tracker was fed
        original(self, conn, items)

    monkeypatch.setattr(WaveTracker, "prepare", fails_once)
    b = bot(db_url)
    found = summary(b, b.feed_many(traffic()))
    b.close()
    assert failures[0] == 1
    assert found == expected  # the flood tracker was not fed twice; nothing decided differently


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def test_batch_signatures_equal_one_by_one() -> None:
    tr = WaveTracker()
    texts = [
        SPAM,
        SPAM + "!!",
        NORMAL,
        "好的",
        "",
        "ＶＸ：ａｂｃ１２３ 加微信领红包 hello world",
        "Ünïcödé 😀 text with words",
    ]
    one = [tr.signature(t) for t in texts]
    many = tr.signatures(texts)
    for a, b in zip(one, many, strict=True):
        assert (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
    assert many[3] is None and many[0] is not None and many[0].dtype == np.uint64


def test_a_wave_inside_one_prepared_batch_and_a_restart(db: Database) -> None:
    def item(group: str, msg: str, minutes: float = 0, user: str = "u1") -> WaveItem:
        t = BASE_TIME + timedelta(minutes=minutes)
        return WaveItem("qq", "-", group, msg, user, t, SPAM, 0.9, ["contact:wechat"])

    tr = WaveTracker(WaveConfig(min_groups=3))
    batch = [item("g1", "m1"), item("g2", "m2", 1, "u2"), item("g3", "m3", 2, "u3"), item("g4", "m4", 3)]
    with db.engine.begin() as conn:
        tr.prepare(conn, batch)
        assert batch[0].similar == [] and len(batch[2].similar) == 2  # only earlier messages count
        results = [tr.resolve(conn, it) for it in batch]
    assert [r is not None and r.new_incident for r in results] == [False, False, True, False]
    assert results[3] is not None and results[3].incident is not None and results[3].incident["groups"] == 4

    restarted = WaveTracker(WaveConfig(min_groups=3))  # a new process: warmed from the store
    later = item("g5", "m5", 4, "u4")
    with db.engine.begin() as conn:
        tr_result = restarted.observe(
            conn,
            platform="qq",
            community="-",
            group_id="g5",
            message_id="m5",
            user_id="u4",
            time=later.time,
            text=SPAM,
            score=0.9,
        )
    assert tr_result is not None and tr_result.incident is not None and tr_result.incident["groups"] == 5


def test_entries_gone_from_the_store_no_longer_count(db: Database) -> None:
    tr = WaveTracker(WaveConfig(min_groups=3))

    def observe(conn: Any, i: int, user: str, score: float) -> Any:
        t = BASE_TIME + timedelta(minutes=i)
        return tr.observe(
            conn, platform="qq", community="-", group_id=f"g{i}", message_id=f"m{i}", user_id=user,
            time=t, text=SPAM, score=score,
        )  # fmt: skip

    with db.engine.begin() as conn:
        for i in range(3):  # one member, chat-like scores: no incident
            assert observe(conn, i, "u0", 0.01).incident is None
        conn.execute(tbl(WaveEntryRow).delete())  # pruned (or reset) by someone else
        # memory still proposes the old copies (three groups, a spam score): the store says they are gone
        fourth = observe(conn, 3, "u9", 0.9)
    assert fourth is not None and fourth.incident is None and fourth.similar == []


def test_links_made_earlier_in_the_batch_send_a_copy_to_the_store(db: Database) -> None:
    """A copy near-same to one linked copy only must join the incident, as one by one."""
    tr = WaveTracker(WaveConfig(min_groups=3))
    t = BASE_TIME
    batch = [WaveItem("qq", "-", f"g{i}", f"m{i}", f"u{i}", t + timedelta(minutes=i), SPAM, 0.9) for i in range(3)]
    lone = WaveItem("qq", "-", "g9", "m9", "u9", t + timedelta(minutes=5), SPAM, 0.1)
    with db.engine.begin() as conn:
        tr.prepare(conn, [*batch, lone])
        assert batch[2].entry_id is not None
        lone.similar = [batch[2].entry_id]  # as if only the third copy were near enough
        assert not tr.needs_store(lone)  # one other group, a low score: nothing to do (yet)
        results = [tr.resolve(conn, it) for it in batch]
        assert results[2] is not None and results[2].new_incident
        assert tr.needs_store(lone)  # the copy it resembles now belongs to an incident
        joined = tr.resolve(conn, lone)
    assert joined is not None and joined.incident is not None and joined.incident["groups"] == 4
