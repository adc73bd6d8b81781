"""Profiles: intro parsing, detection at ingest, linking identities (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qunyun.events import EventType
from qunyun.features.members.plugin import MembersPlugin
from qunyun.features.members.profiles import link, parse_intro, profile, set_tags, unlink
from qunyun.features.members.tables import ProfileRow
from qunyun.testing import BotTester
from tests.features.members.community import ev


@pytest.mark.parametrize(
    ("text", "region", "industry", "needs", "motivation"),
    [
        ("大家好，我是来自杭州的产品经理，想学习社群运营", "杭州", "产品/互联网", "学习社群运营", "learning"),
        ("坐标上海，做电商的，希望认识更多朋友", "上海", "电商", "认识更多朋友", "networking"),
        ("我叫小王，在北京从事金融工作，需要对接资源", "北京", "金融/财务", "对接资源", "business"),
    ],
)
def test_parse_intro(text: str, region: str, industry: str, needs: str, motivation: str) -> None:
    got = parse_intro(text)
    assert (got["region"], got["industry"], got["needs"]) == (region, industry, needs)
    assert motivation in got["motivations"]


def test_intro_at_ingest_link_and_profile(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        bot.feed_many(
            [
                ev("n1", 3, type=EventType.JOIN),
                ev("n1", 2.9, text="大家好，我是来自杭州的产品经理，想学习社群运营"),
                ev("old", 100, text="hi"),
                ev("old", 1, text="我是来自深圳的老师"),  # a member for 99 days: not a newcomer's intro
                ev("n1", 1, text="hello from telegram", platform="telegram", group="tg1"),
            ]
        )
        with bot.db.engine.begin() as conn:
            rows = {r.user_id: r for r in conn.execute(select(ProfileRow.__table__))}
            assert set(rows) == {"n1"} and rows["n1"].region == "杭州"
            pid = link(conn, [("qq", "n1"), ("telegram", "n1")], "Ning")
            set_tags(conn, "qq", "n1", ["vip"], [])
            got = profile(conn, "telegram", "n1")
            assert got["person_id"] == pid and got["display_name"] == "Ning"
            assert got["accounts"] == ["qq:n1", "telegram:n1"]
            assert {g["group_id"] for g in got["groups"]} == {"g1", "tg1"}
            assert got["region"] == "杭州" and got["tags"] == ["vip"] and got["timeline"]
            assert set(got["community_scores"]) == {"qq:n1", "telegram:n1"}
            assert unlink(conn, "telegram", "n1")
            assert profile(conn, "telegram", "n1")["accounts"] == ["telegram:n1"]
            with pytest.raises(LookupError):
                link(conn, [("qq", "n1"), ("qq", "nobody")])
    finally:
        bot.close()
