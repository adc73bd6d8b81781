"""The escalation ladder: steps from points, decay (half-life or window), the actions of each step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from qunyun.actions import ActionKind
from qunyun.features.moderation.ladder import (
    LadderConfig,
    LadderStep,
    escalate,
    member_points,
    revoke_strikes,
    step_index,
    strike_weight,
)
from qunyun.features.moderation.tables import Community
from qunyun.store.db import Database
from qunyun.testing import BASE_TIME

COMMUNITY = Community("qq", "-", None, None, ("g1", "g2", "g3"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def offend(conn, cfg: LadderConfig, hours: float, user: str = "u1", **kw):  # noqa: ANN001, ANN201
    return escalate(
        conn,
        cfg,
        community=COMMUNITY,
        group_id="g1",
        user_id=user,
        user_name="Spammer",
        message_id=f"m{hours}",
        time=BASE_TIME + timedelta(hours=hours),
        score=kw.pop("score", 0.9),
        codes=["contact:wechat"],
        evidence={"rules": ["contact:wechat"], "matched": ["vx abc123"]},
        **kw,
    )


def test_step_index_rounds_points_and_respects_bounds() -> None:
    cfg = LadderConfig()
    assert [step_index(p, cfg) for p in (0.2, 1.0, 1.4, 1.6, 2.0, 3.0, 4.0, 5.0, 9.0)] == [
        0,
        0,
        0,
        1,
        1,
        2,
        3,
        4,
        4,
    ]
    assert step_index(1.0, cfg, minimum=3) == 3


def test_decay_half_life_and_window() -> None:
    half = LadderConfig(half_life_hours=24)
    assert strike_weight(timedelta(hours=24), half) == pytest.approx(0.5)
    assert strike_weight(timedelta(hours=72), half) == pytest.approx(0.125)
    window = LadderConfig(half_life_hours=None, window_hours=48)
    assert strike_weight(timedelta(hours=47), window) == 1.0
    assert strike_weight(timedelta(hours=49), window) == 0.0


def test_each_step_is_actions_with_a_bilingual_reason(db: Database) -> None:
    cfg = LadderConfig(half_life_hours=24)
    with db.engine.begin() as conn:
        decisions = [offend(conn, cfg, hours=i * 0.01) for i in range(5)]
    kinds = [[a.kind for a in d.actions] for d in decisions]
    assert kinds[0] == [ActionKind.DELETE_MESSAGE, ActionKind.WARN]
    assert kinds[1] == [ActionKind.DELETE_MESSAGE, ActionKind.MUTE]
    assert [a.duration for a in decisions[2].actions] == [None, 86400]
    assert kinds[3] == [ActionKind.DELETE_MESSAGE, ActionKind.KICK]
    bans = [a for a in decisions[4].actions if a.kind is ActionKind.BAN]
    assert sorted(a.group_id for a in bans) == ["g1", "g2", "g3"]  # every group of the community
    reason = decisions[1].actions[1].reason
    assert "10" in reason.zh and "mute" in reason.en
    assert reason.evidence["rules"] == ["contact:wechat"] and reason.evidence["matched"] == ["vx abc123"]
    assert reason.evidence["step"] == 1 and reason.evidence["strike_points"] == pytest.approx(2.0, abs=0.01)
    warn = decisions[0].actions[1]
    assert warn.text and "Spammer" in warn.text and warn.user_id == "u1"


def test_strikes_decay_and_can_be_revoked(db: Database) -> None:
    cfg = LadderConfig(half_life_hours=24)
    with db.engine.begin() as conn:
        offend(conn, cfg, hours=0, review_id=7)
        offend(conn, cfg, hours=0.1)
        now = BASE_TIME + timedelta(hours=36)
        assert member_points(conn, "qq", "-", "u1", now, cfg) == pytest.approx(2 * 0.5**1.5, abs=0.01)
        assert offend(conn, cfg, hours=36).index == 1  # 0.71 + 1 rounds to 2 → mute
        assert revoke_strikes(conn, review_id=7) == 1
        later = BASE_TIME + timedelta(hours=36)
        assert member_points(conn, "qq", "-", "u1", later, cfg) == pytest.approx(1 + 0.5**1.5, abs=0.01)
        assert member_points(conn, "qq", "-", "someone-else", later, cfg) == 0.0


def test_newcomers_and_severe_scores_can_start_higher(db: Database) -> None:
    cfg = LadderConfig(newcomer_min_step=1, severe_score=0.99, severe_min_step=3)
    with db.engine.begin() as conn:
        assert offend(conn, cfg, hours=0, user="new", newcomer=True).index == 1
        assert offend(conn, cfg, hours=0, user="vile", score=0.995).index == 3
        assert offend(conn, cfg, hours=0, user="plain").index == 0


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="needs duration"):
        LadderStep(action="mute")
    with pytest.raises(ValueError):
        LadderConfig(steps=[])
    with pytest.raises(ValueError):
        LadderStep(action="shout")  # type: ignore[arg-type]
