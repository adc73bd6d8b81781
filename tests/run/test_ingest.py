"""The ingestor: batching, acknowledgement after storing, one bad event never loses the others."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from qunyun.app import QunyunApp
from qunyun.config import Settings
from qunyun.engine.plugins import Registry, build_registry
from qunyun.events import Event, EventType
from qunyun.run.ingest import Ingestor
from qunyun.store.db import Database
from qunyun.store.tables import DeadLetterRow, EventRow
from qunyun.testing import make_event, message


class PoisonPlugin:
    """A projection that refuses one particular event (as a constraint or a bug would)."""

    name = "poison"

    def setup(self, registry: Registry) -> None:
        def refuse(conn: Connection, events: Sequence[Event]) -> None:
            if any(e.text == "poison" for e in events):
                raise ValueError("cannot project poison")

        registry.add_projection(refuse)


def make_app(db_url: str, plugins: list[Any]) -> QunyunApp:
    settings = Settings()
    settings.database.url = db_url
    db = Database(db_url)
    db.migrate()
    return QunyunApp(settings=settings, db=db, registry=build_registry(plugins))


def count(app: QunyunApp, table: Any) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table.__table__)).scalar_one())


async def test_batches_and_acknowledges_after_storing(db_url: str) -> None:
    app = make_app(db_url, [])
    ingestor = Ingestor(app.engine, batch_max=50, batch_wait=0.001)
    await ingestor.start()
    calls = [ingestor([message(f"m{i}-{j}", group_id=f"g{i % 3}") for j in range(10)]) for i in range(20)]
    calls.append(ingestor([make_event(EventType.META, group_id="meta:1")]))
    await asyncio.gather(*calls)
    # every awaited call returned: its events are committed
    assert count(app, EventRow) == 200
    assert ingestor.stats.stored == 200 and ingestor.stats.meta == 1
    assert 4 <= ingestor.stats.batches <= 20  # gathered into batches of at most 50
    await ingestor([message("again", message_id="dup"), message("again", message_id="dup")])
    assert ingestor.stats.duplicates == 1
    await ingestor.stop()
    app.close()


async def test_one_refused_event_is_dead_lettered_the_rest_stored(db_url: str) -> None:
    app = make_app(db_url, [PoisonPlugin()])
    ingestor = Ingestor(app.engine, batch_max=100)
    await ingestor.start()
    batch = [message("ok1"), message("poison"), message("ok2")]
    await ingestor(batch)
    assert count(app, EventRow) == 2 and ingestor.stats.dead == 1
    await ingestor.stop()
    with app.db.engine.connect() as conn:
        row = conn.execute(select(DeadLetterRow.__table__)).one()
    assert "cannot project poison" in row.reason and '"poison"' in row.raw
    app.close()


async def test_stopped_ingestor_refuses(sqlite_url: str) -> None:
    app = make_app(sqlite_url, [])
    ingestor = Ingestor(app.engine)
    await ingestor.start()
    await ingestor.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        await ingestor([message("late")])
    app.close()
