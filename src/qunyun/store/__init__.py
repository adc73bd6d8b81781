"""Durable store: SQLAlchemy 2 + Alembic, SQLite by default, PostgreSQL at parity."""

from qunyun.store.db import Database, migrate
from qunyun.store.tables import Base

__all__ = ["Base", "Database", "migrate"]
