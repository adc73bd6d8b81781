"""Scheduled leaderboard posts and valuable-post flags (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qunyun.features.members.config import LeaderboardPost, MembersConfig
from qunyun.features.members.plugin import MembersPlugin
from qunyun.features.members.rollup import flag_valuable
from qunyun.features.members.schedule import post_due_boards
from qunyun.features.members.tables import MemberDailyRow, table
from qunyun.store.tables import OutboxRow
from qunyun.testing import BotTester
from tests.features.members.community import NOW, ev, role_community


def test_board_posted_when_due_and_once(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    cfg = MembersConfig(
        reference="now",
        leaderboard_posts=[
            LeaderboardPost(group="qq:g1", board="active", period="month", cron="0 * * * *", top=3)
        ],
    )
    try:
        bot.feed_many(role_community())
        assert post_due_boards(bot.db, cfg, dry_run=False, now=NOW) == 0  # first sight: starts the clock
        assert post_due_boards(bot.db, cfg, dry_run=False, now=NOW + timedelta(minutes=30)) == 0
        assert post_due_boards(bot.db, cfg, dry_run=False, now=NOW + timedelta(hours=1, minutes=1)) == 1
        assert post_due_boards(bot.db, cfg, dry_run=False, now=NOW + timedelta(hours=1, minutes=2)) == 0
        with bot.db.engine.connect() as conn:
            rows = list(conn.execute(select(table(OutboxRow))))
        assert len(rows) == 1 and rows[0].kind == "send_message" and rows[0].group_id == "g1"
        text = rows[0].action["text"]
        assert "话痨榜" in text and "1." in text and "4." not in text
    finally:
        bot.close()


def test_flag_valuable_counts_once(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        post = ev("writer", 1, text="一篇很有价值的总结")
        bot.feed_many([post])
        with bot.db.engine.begin() as conn:
            assert flag_valuable(conn, "qq", "g1", post.message_id, "staff", NOW) is True
            assert flag_valuable(conn, "qq", "g1", post.message_id, "staff", NOW) is False
            with pytest.raises(LookupError):
                flag_valuable(conn, "qq", "g1", "nope", "staff", NOW)
            d = table(MemberDailyRow)
            assert conn.execute(select(d.c.valuable_posts).where(d.c.user_id == "writer")).scalar() == 1
    finally:
        bot.close()


def test_refresh_job_clears_dirty_scores() -> None:
    plugin = MembersPlugin()
    bot = BotTester(plugins=[plugin])
    try:
        bot.feed_many([ev("a", 1), ev("b", 2)])
        assert plugin.refresh_job(bot.app) == 4  # a and b, per group and community-wide
        assert plugin.refresh_job(bot.app) == 0
    finally:
        bot.close()
