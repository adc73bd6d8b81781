"""Store contract: idempotent ingest and member counters, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from qunyun.events import Event, EventType
from qunyun.store.db import Database
from qunyun.store.queries import list_groups, list_members, messages_per_day, overview, resolve_group
from qunyun.store.tables import EventRow, IdentityRow, tbl
from qunyun.store.writer import write_events

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def ev(mid: str, user: str = "u1", typ: EventType = EventType.MESSAGE, minutes: int = 0, **kw: object) -> Event:
    return Event(
        platform="qq", group_id="g1", message_id=mid, user_id=user, type=typ, time=T0 + timedelta(minutes=minutes),
        **kw,  # type: ignore[arg-type]
    )


def test_ingest_is_idempotent_and_counts_members(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    batch = [
        ev("m1", "u1", text="hi", user_name="Alice", group_name="测试群"),
        ev("m2", "u2", text="hello", minutes=1, user_name="Bob", mentions=["u1"]),
        ev("m3", "u1", text="again", minutes=2, user_name="Alice2"),
        ev("j1", "u3", EventType.JOIN, minutes=3),
        ev("m1", "u1", text="duplicate inside the batch"),
    ]
    with db.engine.begin() as conn:
        first = write_events(conn, batch)
    assert len(first.inserted) == 4 and first.duplicates == 1
    with db.engine.begin() as conn:
        again = write_events(conn, batch)
    assert again.inserted == [] and again.duplicates == 5
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tbl(EventRow))).scalar_one() == 4
        ref = resolve_group(conn, "g1")
        total, members = list_members(conn, ref)
        by_id = {m["user_id"]: m for m in members}
        assert total == 3
        assert by_id["u1"]["messages"] == 2
        assert by_id["u1"]["user_name"] == "Alice2"  # the latest name wins
        assert by_id["u1"]["first_seen"] == T0
        assert by_id["u1"]["last_seen"] == T0 + timedelta(minutes=2)
        assert by_id["u1"]["last_seen"].tzinfo is not None
        assert by_id["u3"]["messages"] == 0 and by_id["u3"]["joined_at"] == T0 + timedelta(minutes=3)
        groups = list_groups(conn)
        assert groups[0]["name"] == "测试群" and groups[0]["members"] == 3 and groups[0]["messages"] == 3
        assert overview(conn)["messages"] == 3
        names = {r[0]: r[1] for r in conn.execute(select(IdentityRow.user_id, IdentityRow.user_name))}
        assert names["u1"] == "Alice2"
        stored = conn.execute(select(EventRow.mentions, EventRow.time).where(EventRow.message_id == "m2")).one()
        assert stored[0] == '["u1"]' and stored[1] == T0 + timedelta(minutes=1)
    db.dispose()


def test_counters_accumulate_across_batches_and_out_of_order(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    with db.engine.begin() as conn:
        write_events(conn, [ev("b", "u1", text="later", minutes=10)])
    with db.engine.begin() as conn:
        write_events(conn, [ev("a", "u1", text="earlier", minutes=0), ev("l", "u1", EventType.LEAVE, minutes=20)])
    with db.engine.connect() as conn:
        _, members = list_members(conn, resolve_group(conn, "qq:g1"))
    m = members[0]
    assert m["messages"] == 2
    assert m["first_seen"] == T0 and m["last_seen"] == T0 + timedelta(minutes=20)
    assert m["last_spoke"] == T0 + timedelta(minutes=10)
    assert m["status"] == "left"
    db.dispose()


def test_messages_per_day_fills_gaps(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    with db.engine.begin() as conn:
        write_events(conn, [ev("a", minutes=0, text="x"), ev("b", minutes=60 * 48, text="y")])
    with db.engine.connect() as conn:
        days = messages_per_day(conn, days=3)
    assert [n for _, n in days] == [1, 0, 1]
    db.dispose()


def test_mixed_batch_inserts_only_the_new_ones(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    with db.engine.begin() as conn:
        write_events(conn, [ev("a", text="1"), ev("b", text="2")])
    with db.engine.begin() as conn:
        res = write_events(conn, [ev("a", text="1"), ev("c", "u2", text="3"), ev("b", text="2"), ev("d", text="4")])
    assert [e.message_id for e in res.inserted] == ["c", "d"] and res.duplicates == 2
    with db.engine.connect() as conn:
        _, members = list_members(conn, resolve_group(conn, "g1"))
    assert {m["user_id"]: m["messages"] for m in members} == {"u1": 3, "u2": 1}
    db.dispose()
