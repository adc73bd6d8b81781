from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunyun.events import Event, EventType
from qunyun.features.moderation.config import SpamRulesConfig
from qunyun.features.moderation.flood import FloodTracker

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_n = 0


def ev(user: str, text: str = "hi", seconds: float = 0, type_: EventType = EventType.MESSAGE) -> Event:
    global _n
    _n += 1
    return Event(
        platform="qq", group_id="g", message_id=str(_n), user_id=user, type=type_,
        time=T0 + timedelta(seconds=seconds), text=text,
    )  # fmt: skip


def test_flood_rate() -> None:
    tr = FloodTracker(SpamRulesConfig(flood_messages=3, flood_seconds=10))
    found = [tr.observe(ev("u", f"m{i}", i)) for i in range(5)]
    assert not any(f.code == "flood:rate" for f in found[2])
    assert any(f.code == "flood:rate" for f in found[3])
    # slow enough: no flood; another group counts apart
    tr2 = FloodTracker(SpamRulesConfig(flood_messages=3, flood_seconds=10))
    assert not any(tr2.observe(ev("u", f"m{i}", i * 20)) for i in range(6))


def test_repeats_are_normalized() -> None:
    tr = FloodTracker(SpamRulesConfig(repeat_count=3))
    texts = ["加微信 abc", "加 微 信 ABC", "加微信abc"]
    found = [tr.observe(ev("u", t, i * 30)) for i, t in enumerate(texts)]
    assert [any(f.code == "flood:repeat" for f in fs) for fs in found] == [False, False, True]


def test_newcomer_first_messages() -> None:
    tr = FloodTracker(SpamRulesConfig(newcomer_messages=2))
    tr.observe(ev("n", "", 0, EventType.JOIN))
    assert tr.is_newcomer(ev("n"))
    found = [tr.observe(ev("n", f"m{i}", 100 * (i + 1))) for i in range(3)]
    assert [any(f.code == "newcomer" for f in fs) for fs in found] == [True, True, False]
    assert not tr.is_newcomer(ev("n"))
    assert not tr.observe(ev("old", "hello", 5))


def test_bounded_state() -> None:
    tr = FloodTracker(max_keys=100)
    for i in range(1000):
        tr.observe(ev(f"u{i}", "x", i))
    assert len(tr) == 100
