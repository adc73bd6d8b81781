"""Scores and roles on a community built so the right answer is known (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from qunyun.config import ConfigError, Settings
from qunyun.features.members.config import MembersConfig, Weights
from qunyun.features.members.plugin import MembersPlugin, enrich_rows
from qunyun.features.members.scores import credit, refresh_scores
from qunyun.features.members.tables import MemberScoreRow
from qunyun.store import queries
from qunyun.store.queries import GroupRef
from qunyun.testing import BotTester
from tests.features.members.community import NOW, ev, role_community

CFG = MembersConfig(reference="now", clock="calendar", admins=["qq:boss"])
CFG.roles.kol_min_people = 5
CFG.roles.kol_min_interactions = 10


def _roles(bot: BotTester, cfg: MembersConfig = CFG) -> dict[str, dict]:
    with bot.db.engine.connect() as conn:
        _, rows = queries.list_members(conn, GroupRef("qq", "g1"))
        rows = enrich_rows(conn, GroupRef("qq", "g1"), rows, cfg, now=NOW)
    return {r["user_id"]: r for r in rows}


def test_roles_known_by_construction(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        bot.feed_many(role_community())
        got = _roles(bot)
        roles = {u: r["role"] for u, r in got.items()}
        assert roles["boss"] == "admin"
        assert roles["expert"] == "kol"
        assert roles["talker1"] == roles["talker2"] == "core"
        assert roles["gone"] == "silent"
        assert roles["lurk"] == "lurker"
        assert roles["fresh"] == "newcomer"
        assert {roles[f"asker{i}"] for i in range(8)} == {"regular"}
        kol = got["expert"]
        assert kol["evidence"]["distinct_people"] == 8 and kol["evidence"]["kol_rank"] == 1
        assert "8" in kol["reason"] and "8 different members" in kol["reason_en"]
        assert got["gone"]["evidence"]["days_since_last_message"] == 12
        # message count alone never makes a KOL: the talkers outpost the expert but nobody answers them
        assert got["talker1"]["messages"] > got["expert"]["messages"]
        assert all(r["score"] >= 0 and r["reason"] and r["reason_en"] for r in got.values())
    finally:
        bot.close()


def test_score_formula_decay_and_incremental_equals_full(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    cfg = MembersConfig(reference="now", clock="calendar", half_life_days=14)
    try:
        # day A: 3 messages in one minute (1 + 0.2 + 0.2), day A+14: 1 message
        first = ev("u1", 14.0)
        bot.feed_many([first, ev("u1", 14.0 - 1 / 86400), ev("u1", 14.0 - 2 / 86400)])
        with bot.db.engine.begin() as conn:
            refresh_scores(conn, cfg, now=NOW)
        bot.feed_many([ev("u1", 0.0)])  # incremental: only u1 is dirty
        got = _roles(bot, cfg)["u1"]["score"]
        assert got == pytest.approx(1.4 * 0.5 + 1.0, abs=0.01)
        s = MemberScoreRow.__table__
        with bot.db.engine.begin() as conn:
            incremental = {r.group_id: r.score for r in conn.execute(select(s))}
            conn.execute(update(s).values(score=0))
            refresh_scores(conn, cfg, full=True, now=NOW)
            full = {r.group_id: r.score for r in conn.execute(select(s))}
        assert incremental == pytest.approx(full) and set(full) == {"g1", "*"}
    finally:
        bot.close()


def test_credit_weights() -> None:
    w = Weights()
    # messages, active_minutes, replies_given, replies_received, mentions_received, reactions, invites,
    # checkins, valuable
    assert credit(w, (10, 2, 0, 1, 1, 0, 1, 0, 0)) == pytest.approx(2 + 8 * 0.2 + 2 + 1 + 5)


def test_active_day_clock_ignores_gaps_in_a_log() -> None:
    bot = BotTester(plugins=[MembersPlugin()])
    cfg = MembersConfig(reference="last_event", clock="active_days", half_life_days=1)
    try:
        # two log days a year apart: in active days the old day is 1 day old, not 365
        bot.feed_many([ev("old", 365), ev("new", 0)])
        got = _roles(bot, cfg)
        assert got["old"]["score"] == pytest.approx(0.5)
        assert got["new"]["score"] == pytest.approx(1.0)
        assert got["old"]["evidence"]["clock"] == "active_days"
    finally:
        bot.close()


def test_bots_are_admin_not_kol() -> None:
    bot = BotTester(plugins=[MembersPlugin()])
    try:
        bot.feed_many(role_community())
        cfg = MembersConfig(reference="now", clock="calendar", admins=["qq:boss"], bots=["qq:g1:expert"])
        cfg.roles.kol_min_people = 5
        got = _roles(bot, cfg)["expert"]
        assert got["role"] == "admin" and got["evidence"]["admin_source"] == "bot"
        assert "机器人" in got["reason"]
    finally:
        bot.close()


def test_bad_config_names_the_key() -> None:
    settings = Settings(features={"members": {"half_life_days": -3}})
    with pytest.raises(ConfigError, match="features.members.half_life_days"):
        settings.feature("members", MembersConfig)
    with pytest.raises(ConfigError, match="group_types.learning"):
        Settings(features={"members": {"group_types": {"learning": {"core_top_pct": 5}}}}).feature(
            "members", MembersConfig
        )
    assert (
        MembersConfig(group_types={"learning": {"core_min_messages": 3}})
        .roles_for("learning")
        .core_min_messages
        == 3
    )


def test_cli_members_json_contract_and_leaderboard(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qunyun.cli.main import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bot = BotTester(plugins=[MembersPlugin()], db_url=url)
    bot.feed_many(role_community())
    bot.close()
    runner = CliRunner()
    res = runner.invoke(app, ["--db", url, "members", "--group", "g1", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert isinstance(rows, list) and len(rows) == 15
    for row in rows:
        for key in ("user_id", "user_name", "messages", "score", "role", "reason", "first_seen", "last_seen"):
            assert key in row, key
        assert row["role"] in {"admin", "kol", "core", "regular", "lurker", "newcomer", "silent"}
    res = runner.invoke(
        app, ["--db", url, "leaderboard", "--group", "g1", "--board", "active", "--period", "month", "--json"]
    )
    assert res.exit_code == 0, res.output
    board = json.loads(res.stdout)
    assert [r["rank"] for r in board] == list(range(1, len(board) + 1))
    values = [r["value"] for r in board]
    assert values == sorted(values, reverse=True) and board[0]["value"] > 0
    res = runner.invoke(app, ["--db", url, "leaderboard", "--board", "nope", "--json"])
    assert res.exit_code != 0 and "nope" in res.output


def test_leaderboard_boards_and_community(db_url: str) -> None:
    from qunyun.features.members.leaderboard import leaderboard

    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    cfg = MembersConfig(reference="last_event")
    try:
        bot.feed_many(role_community("g1") + role_community("g2"))
        with bot.db.engine.connect() as conn:
            helpful = leaderboard(conn, cfg, GroupRef("qq", "g1"), board="helpful", period="month")
            community = leaderboard(conn, cfg, None, board="active", period="week")
            one = leaderboard(conn, cfg, GroupRef("qq", "g1"), board="active", period="week")
        assert helpful["rows"][0]["user_id"] == "expert" and helpful["rows"][0]["value"] == 8
        assert community["rows"][0]["value"] == 2 * one["rows"][0]["value"]
        assert date.fromisoformat(one["end"]) == (NOW - timedelta(days=1)).date()  # the last event's day
    finally:
        bot.close()


def test_past_contributor_is_not_a_lurker(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        events = [
            ev("veteran", 100 - k * 0.5, text=f"answer {k}") for k in range(40)
        ]  # 40 messages, 80-100 days ago
        events += [ev("shy", 90, text="hi"), ev("now", 1, text="hello")]
        bot.feed_many(events)
        got = _roles(bot)
        assert got["veteran"]["role"] == "regular" and "40" in got["veteran"]["reason"]
        assert "Was active before" in got["veteran"]["reason_en"]
        assert got["shy"]["role"] == "lurker"
    finally:
        bot.close()


def test_listing_survives_an_analysis_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from qunyun.features.members import roles

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("boom")

    bot = BotTester(plugins=[MembersPlugin()])
    try:
        bot.feed_many(role_community())
        monkeypatch.setattr(roles, "compute_insights", broken)
        got = _roles(bot)
        assert got["lurk"]["role"] == "lurker" and got["fresh"]["role"] == "newcomer"
        assert all(r["evidence"].get("fallback") for r in got.values())
    finally:
        bot.close()
