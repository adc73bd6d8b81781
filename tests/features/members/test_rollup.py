"""The daily rollup projection, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from qunyun.events import EventType
from qunyun.features.members.plugin import MembersPlugin
from qunyun.features.members.rebuild import rebuild_rollup
from qunyun.features.members.tables import MemberDailyRow, MemberEdgeRow
from qunyun.testing import BotTester
from tests.features.members.community import NOW, ev


def _daily(bot: BotTester) -> dict[str, dict]:
    d = MemberDailyRow.__table__
    with bot.db.engine.connect() as conn:
        return {r.user_id: dict(r._mapping) for r in conn.execute(select(d))}


def test_counts_replies_mentions_and_minutes(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        q = ev("alice", 0.5, text="how do I install this?")
        bot.feed_many([q, ev("alice", 0.5 - 10 / 86400, text="anyone?")])  # same minute
        # a later batch: bob answers (parent looked up in the database), mentions alice and carol
        bot.feed_many(
            [ev("bob", 0.4, text="like this", reply_to=q.message_id, mentions=["alice", "carol", "bob"])]
        )
        bot.feed_many([ev("carol", 0.3, type=EventType.JOIN, raw={"invited_by": "bob"})])
        rows = _daily(bot)
        assert rows["alice"]["messages"] == 2
        assert rows["alice"]["active_minutes"] == 1
        assert rows["alice"]["questions"] == 2
        assert rows["alice"]["replies_received"] == 1
        assert rows["alice"]["mentions_received"] == 1
        assert rows["bob"]["replies_given"] == 1
        assert rows["bob"]["helpful_replies"] == 1
        assert rows["bob"]["mentions_given"] == 2  # self-mention ignored
        assert rows["bob"]["invites"] == 1
        assert rows["carol"]["joins"] == 1 and rows["carol"]["mentions_received"] == 1
        e = MemberEdgeRow.__table__
        with bot.db.engine.connect() as conn:
            edges = {(r.src, r.dst): (r.replies, r.mentions) for r in conn.execute(select(e))}
        assert edges == {("bob", "alice"): (1, 1), ("bob", "carol"): (0, 1)}
    finally:
        bot.close()


def test_minute_seam_across_batches_and_rebuild(db_url: str) -> None:
    bot = BotTester(plugins=[MembersPlugin()], db_url=db_url)
    try:
        first = ev("dave", 1)
        bot.feed_many([first])
        same_minute = first.model_copy(
            update={"message_id": "seam-2", "time": first.time + timedelta(seconds=5)}
        )
        bot.feed_many([same_minute])
        next_minute = first.model_copy(
            update={"message_id": "seam-3", "time": first.time + timedelta(minutes=2)}
        )
        bot.feed_many([next_minute])
        before = _daily(bot)["dave"]
        assert (before["messages"], before["active_minutes"]) == (3, 2)
        bot.feed_many([first])  # a duplicate changes nothing
        assert _daily(bot)["dave"]["messages"] == 3
        assert rebuild_rollup(bot.db) == 3
        after = _daily(bot)["dave"]
        assert (after["messages"], after["active_minutes"]) == (3, 2)
        assert after["last_spoke"] == next_minute.time
    finally:
        bot.close()


def test_rollup_day_is_utc() -> None:
    bot = BotTester(plugins=[MembersPlugin()])
    try:
        late = ev("erin", 0).model_copy(update={"time": NOW.replace(hour=23, minute=59)})
        bot.feed_many([late])
        assert _daily(bot)["erin"]["day"] == NOW.date()
    finally:
        bot.close()


def test_rollup_built_on_first_read_when_missing(db_url: str) -> None:
    """Events stored before the plugin was installed get their rollup the first time roles are asked for."""
    from qunyun.features.members.config import MembersConfig
    from qunyun.features.members.plugin import enrich_rows
    from qunyun.store import queries
    from qunyun.store.queries import GroupRef

    bare = BotTester(plugins=[], db_url=db_url)  # no members plugin: no projection
    try:
        bare.feed_many([ev("old", 3), ev("old", 2), ev("new", 1)])
        assert _daily(bare) == {}
        with bare.db.engine.connect() as conn:
            _, rows = queries.list_members(conn, GroupRef("qq", "g1"))
            rows = enrich_rows(conn, GroupRef("qq", "g1"), rows, MembersConfig(reference="now"), now=NOW)
        assert {r["user_id"]: r["score"] > 0 for r in rows} == {"old": True, "new": True}
        d = MemberDailyRow.__table__
        with bare.db.engine.connect() as conn:
            rows_old = conn.execute(select(d.c.day, d.c.messages).where(d.c.user_id == "old")).all()
        assert sorted(n for _, n in rows_old) == [1, 1] and len({day for day, _ in rows_old}) == 2
    finally:
        bare.close()
