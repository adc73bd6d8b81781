"""Cross-group wave detection: MinHash near-duplicates, k groups within T, state in the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qunyun.features.moderation.tables import WaveBandRow, WaveEntryRow, tbl
from qunyun.features.moderation.waves import WaveConfig, WaveTracker, list_incidents, prune
from qunyun.store.db import Database
from qunyun.testing import BASE_TIME

AD = "加 V 信 abc12345，兼职日结，动动手指每天赚三百，名额有限先到先得"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def observe(
    tr: WaveTracker,
    conn,
    group: str,
    msg: str,
    user: str = "u1",
    text: str = AD,
    minutes: float = 0,
    score: float = 0.9,
    community: str = "-",
):  # noqa: ANN001, ANN202
    return tr.observe(
        conn,
        platform="qq",
        community=community,
        group_id=group,
        message_id=msg,
        user_id=user,
        time=BASE_TIME + timedelta(minutes=minutes),
        text=text,
        score=score,
        reasons=["contact:wechat"],
    )


def test_signature_sees_through_spacing_and_symbols() -> None:
    tr = WaveTracker()
    a = tr.signature(AD)
    b = tr.signature("加V信abc12345 兼职日结!! 动动手指每天赚三百~~ 名额有限,先到先得")
    c = tr.signature("今天下午三点在二号会议室开会，请大家准时参加，带上电脑")
    assert a is not None and b is not None and c is not None
    assert tr.similarity(a, b) >= 0.7
    assert tr.similarity(a, c) < 0.2
    assert tr.signature("好的收到") is None  # too short to track


def test_k_groups_within_window_make_one_incident(db: Database) -> None:
    tr = WaveTracker(WaveConfig(min_groups=3, window_minutes=30))
    with db.engine.begin() as conn:
        assert observe(tr, conn, "g1", "m1").incident is None
        assert observe(tr, conn, "g1", "m2", minutes=1).incident is None  # same group twice: still one group
        assert observe(tr, conn, "g2", "m3", user="u2", minutes=2).incident is None
        third = observe(tr, conn, "g3", "m4", user="u3", text=AD + "!!", minutes=3)
        assert third.incident is not None and third.new_incident
        inc = third.incident
        assert inc["groups"] == 3 and inc["messages"] == 4 and inc["accounts"] == 3
        assert sorted(c["message_id"] for c in inc["copies"]) == ["m1", "m2", "m3", "m4"]
        fourth = observe(tr, conn, "g4", "m5", user="u4", minutes=4)
        assert fourth.incident is not None and not fourth.new_incident and fourth.new_member
        assert fourth.incident["id"] == inc["id"] and fourth.incident["groups"] == 4
        total, rows = list_incidents(conn)
    assert total == 1 and rows[0]["groups"] == 4


def test_outside_the_window_or_another_community_is_no_wave(db: Database) -> None:
    tr = WaveTracker(WaveConfig(min_groups=3, window_minutes=10))
    with db.engine.begin() as conn:
        observe(tr, conn, "g1", "m1")
        observe(tr, conn, "g2", "m2", minutes=5)
        assert observe(tr, conn, "g3", "m3", minutes=30).incident is None  # the first two are too old
        assert observe(tr, conn, "g4", "m4", minutes=31, community="c9").incident is None  # other community
        assert (
            observe(tr, conn, "g5", "m5", minutes=32, text="完全不同的一句话，讨论周末去哪里爬山比较好").incident
            is None
        )


def test_state_survives_a_restart(db: Database) -> None:
    with db.engine.begin() as conn:
        first = WaveTracker(WaveConfig(min_groups=3))
        observe(first, conn, "g1", "m1")
        observe(first, conn, "g2", "m2", minutes=1)
    restarted = WaveTracker(WaveConfig(min_groups=3))  # a new process: only the store remembers
    with db.engine.begin() as conn:
        assert observe(restarted, conn, "g3", "m3", minutes=2).new_incident


def test_low_score_single_account_crossposting_is_not_an_incident(db: Database) -> None:
    tr = WaveTracker(WaveConfig(min_groups=3, min_score=0.2, watch_min_accounts=2))
    question = "有人知道这道二叉树的题怎么做吗？递归那一步总是写不对，求指点"
    with db.engine.begin() as conn:
        for i in range(4):
            res = observe(tr, conn, f"g{i}", f"q{i}", text=question, minutes=i, score=0.01)
            assert res.incident is None
        # a second account posting the same low-scoring text across groups is worth a look
        res = observe(tr, conn, "g8", "q8", user="u2", text=question, minutes=5, score=0.01)
        assert res.incident is None  # two people, but the text looks like ordinary chat
        res = observe(tr, conn, "g9", "q9", user="u3", text=question, minutes=6, score=0.3)
        assert res.incident is not None and res.incident["accounts"] == 3


def test_prune_keeps_the_state_bounded(db: Database) -> None:
    tr = WaveTracker(WaveConfig(min_groups=50))
    with db.engine.begin() as conn:
        for i in range(30):
            observe(tr, conn, f"g{i % 7}", f"m{i}", text=AD + f" 编号{i}", minutes=i)
        removed = prune(conn, BASE_TIME + timedelta(minutes=10), max_entries=15)
        entries = conn.execute(select(func.count()).select_from(tbl(WaveEntryRow))).scalar_one()
        orphans = conn.execute(
            select(func.count())
            .select_from(tbl(WaveBandRow))
            .where(tbl(WaveBandRow).c.entry_id.not_in(select(tbl(WaveEntryRow).c.id)))
        ).scalar_one()
    assert removed == 15 and entries == 15 and orphans == 0


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="multiple of bands"):
        WaveConfig(num_perm=64, bands=10)
    with pytest.raises(ValueError):
        WaveConfig(min_groups=1)
