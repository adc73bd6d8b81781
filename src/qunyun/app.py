"""One handle on a running qunyun: settings, database, plugin registry, engine.

The CLI, the web app and the bot process all start from :func:`open_app`, so they see the same
configuration and the same plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qunyun.config import Settings, load_settings
from qunyun.engine.pipeline import Engine
from qunyun.engine.plugins import Plugin, Registry, build_registry
from qunyun.store.db import Database


@dataclass
class QunyunApp:
    settings: Settings
    db: Database
    registry: Registry
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.db, self.settings, self.registry)
        return self._engine

    def close(self) -> None:
        self.db.dispose()


def open_app(
    *,
    config: str | Path | None = None,
    db_url: str | None = None,
    settings: Settings | None = None,
    plugins: list[Plugin] | None = None,
    migrate: bool = True,
) -> QunyunApp:
    """Load settings and plugins, connect the database and bring its schema up to date."""
    settings = settings or load_settings(config, db_url=db_url)
    if db_url and settings.database.url != db_url:
        settings.database.url = db_url
    db = Database(settings.database.url, echo=settings.database.echo)
    if migrate:
        db.migrate()
    registry = build_registry(plugins, disabled=settings.plugins.disabled)
    registry.settings = settings
    return QunyunApp(settings=settings, db=db, registry=registry)
