"""Fixtures for importer tests: a real app (SQLite and PostgreSQL) with the importers plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qunyun.app import QunyunApp, open_app
from qunyun.config import Settings
from qunyun.engine.ingest import ImportSummary, import_file
from qunyun.importers.plugin import ImportersPlugin


@pytest.fixture
def qapp(db_url: str) -> Iterator[QunyunApp]:
    app = open_app(settings=Settings(), db_url=db_url, plugins=[ImportersPlugin()])
    try:
        yield app
    finally:
        app.close()


def run_import(app: QunyunApp, path: Path, fmt: str = "auto", **options: str) -> ImportSummary:
    return import_file(app.engine, path, fmt=fmt, options=options or None)
