"""A tier review on a community where the correct plan is known by construction (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from qunyun.events import EventType
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.plugin import MembersPlugin
from qunyun.features.tiers.config import ChainSpec, TierSpec
from qunyun.features.tiers.plugin import TiersPlugin
from qunyun.features.tiers.review import TierError, apply_plan, drop_move, due_removals, get_plan, make_plan
from qunyun.store.tables import MemberRow, OutboxRow
from qunyun.testing import BotTester
from tests.features.members.community import NOW, ev

SPEC = ChainSpec(
    tiers=[
        TierSpec(group="qq:t1", name="一群", move_down=1),
        TierSpec(group="qq:t2", name="二群"),
        TierSpec(group="qq:t3", name="留级群"),
    ],
    move_up=2,
    move_down=3,
    exempt=["vip"],
    grace_hours=24,
)
MCFG = MembersConfig(reference="now")


def tier_community() -> list:
    """t1: a1..a5 (a5 least active) + m; t2: b1..b8 (bN posts N messages), boss (admin), vip (exempt),
    newbie (joined 2 days ago), m (also in t1); t3: c1..c4 posting 0, 0, 5, 2 messages."""
    out = []
    plan = {
        "t1": {f"a{i}": 10 + i for i in range(1, 6)} | {"m": 9},
        "t2": {f"b{i}": i for i in range(1, 9)} | {"boss": 0, "vip": 0, "m": 1},
        "t3": {"c1": 0, "c2": 0, "c3": 5, "c4": 2},
    }
    for group, users in plan.items():
        for user, n in users.items():
            out.append(ev(user, 30, type=EventType.JOIN, group=group))
            for k in range(n):
                out.append(ev(user, 1 + k * 0.4, text=f"msg {k}", group=group))
    out.append(ev("newbie", 2, type=EventType.JOIN, group="t2"))
    return out


@pytest.fixture
def bot(db_url: str):  # type: ignore[no-untyped-def]
    b = BotTester(plugins=[MembersPlugin(), TiersPlugin()], db_url=db_url)
    b.feed_many(tier_community())
    m = MemberRow.__table__
    with b.db.engine.begin() as conn:
        conn.execute(update(m).where(m.c.user_id == "boss").values(is_admin=True))
    yield b
    b.close()


def test_plan_is_correct_by_construction(bot: BotTester) -> None:
    with bot.db.engine.begin() as conn:
        plan = get_plan(conn, make_plan(conn, "main", SPEC, MCFG, now=NOW))
    moves = {(m["user_id"], m["from_group"], m["to_group"]) for m in plan["moves"]}
    assert moves == {
        ("a1", "t1", "t2"),  # the top tier demotes its 1 least active
        ("b8", "t2", "t1"),
        ("b7", "t2", "t1"),  # the 2 most active of 二群 move up
        ("b1", "t2", "t3"),
        ("b2", "t2", "t3"),
        ("b3", "t2", "t3"),  # the 3 least active go down
        ("c3", "t3", "t2"),
        ("c4", "t3", "t2"),  # active members of 留级群 come back
    }
    skipped = {(s["user_id"], s["group"]): s["why"] for s in plan["skipped"]}
    assert skipped[("boss", "t2")] == "staff"
    assert skipped[("vip", "t2")] == "exempt"
    assert skipped[("newbie", "t2")] == "tenure"
    assert skipped[("m", "t2")] == "in_higher_tier"
    b8 = next(m for m in plan["moves"] if m["user_id"] == "b8")
    assert b8["rank"] == 1 and b8["activity"] == pytest.approx(8.0)
    assert "二群" in b8["reason_zh"] and "一群" in b8["reason_zh"] and "rank 1 of 8" in b8["reason_en"]
    assert plan["status"] == "draft"


def test_apply_with_a_dropped_move_then_removals(bot: BotTester) -> None:
    with bot.db.engine.begin() as conn:
        plan_id = make_plan(conn, "main", SPEC, MCFG, now=NOW)
        plan = get_plan(conn, plan_id)
        c4 = next(m for m in plan["moves"] if m["user_id"] == "c4")
        drop_move(conn, plan_id, c4["id"])
        actions = apply_plan(conn, plan_id, dry_run=False, actor="test", now=NOW)
    assert len(actions) == 2 * 7  # invite + notify for each of the 7 kept moves
    invites = {(a.user_id, a.group_id) for a in actions if a.kind == "invite"}
    assert ("c4", "t2") not in invites and ("b8", "t1") in invites
    notify = next(
        a for a in actions if a.kind == "send_message" and a.group_id == "t2" and "b8" in a.params["mention"]
    )
    assert "一群" in notify.text
    with bot.db.engine.begin() as conn:
        with pytest.raises(TierError, match="applied"):
            apply_plan(conn, plan_id, dry_run=False, now=NOW)
        assert due_removals(conn, dry_run=False, now=NOW + timedelta(hours=23)) == []
        kicks = due_removals(conn, dry_run=False, now=NOW + timedelta(hours=25))
        assert {(a.user_id, a.group_id) for a in kicks} == {
            (m["user_id"], m["from_group"]) for m in plan["moves"] if m["user_id"] != "c4"
        }
        assert due_removals(conn, dry_run=False, now=NOW + timedelta(hours=26)) == []
        queued = conn.execute(select(OutboxRow.kind)).scalars().all()
    assert sorted(set(queued)) == ["invite", "kick", "send_message"] and len(queued) == 21


def test_cli_plan_json_and_bad_chain(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qunyun.cli.main import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    b = BotTester(plugins=[MembersPlugin(), TiersPlugin()], db_url=url)
    b.feed_many(tier_community())
    b.close()
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "--db",
            url,
            "tiers",
            "chain",
            "main",
            "-g",
            "qq:t1",
            "-g",
            "qq:t2",
            "-g",
            "qq:t3",
            "--up",
            "2",
            "--down",
            "3",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", url, "tiers", "plan", "--chain", "main", "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert plan["id"] >= 1 and plan["moves"] and all(m["reason_zh"] and m["reason_en"] for m in plan["moves"])
    res = runner.invoke(app, ["--db", url, "tiers", "apply", str(plan["id"]), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["--db", url, "tiers", "plan", "--chain", "nope"])
    assert res.exit_code != 0 and "nope" in res.output
    res = runner.invoke(app, ["--db", url, "tiers", "chain", "bad", "-g", "qq:t1", "-g", "tg:x"])
    assert res.exit_code != 0 and "one platform" in res.output


def test_chain_inferred_from_group_tiers(bot: BotTester) -> None:
    from qunyun.features.tiers.config import TiersConfig
    from qunyun.features.tiers.review import chains
    from qunyun.store.tables import GroupRow

    g = GroupRow.__table__
    with bot.db.engine.begin() as conn:
        for gid, tier in (("t1", "一群"), ("t3", "留级群"), ("t2", "二群")):
            conn.execute(update(g).where(g.c.group_id == gid).values(tier=tier, parent_group_id="t1"))
        found = chains(conn, TiersConfig())
    spec, source = found["qq:t1"]
    assert source == "groups" and [t.group for t in spec.tiers] == ["qq:t1", "qq:t2", "qq:t3"]
    assert [t.name for t in spec.tiers] == ["一群", "二群", "留级群"] and spec.period_days == 15
