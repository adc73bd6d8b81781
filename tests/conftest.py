"""Shared fixtures: database URLs for SQLite and the machine's real PostgreSQL, the shared data dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("QUNYUN_SHARED", ROOT.parent / "shared"))
PG_ADMIN_URL = os.environ.get("QUNYUN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "data").exists():
        pytest.fail(f"shared data not found at {SHARED} (set QUNYUN_SHARED)")
    return SHARED / "data"


def _pg_database() -> Iterator[str]:
    name = f"qunyun_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite must not silently skip PostgreSQL
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend (store contract tests run on both)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()
