"""Connection status of the bot process, kept in the ``kv`` table for the dashboard and API.

One row per account (``connection:<platform>:<account>``) plus ``bot:process``; the runner
rewrites them every few seconds, so a row whose ``updated_at`` is old means the process stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from qunyun.events import utcnow
from qunyun.store.tables import KeyValueRow
from qunyun.store.writer import _dialect_insert

KV = cast(Table, KeyValueRow.__table__)
PREFIX = "connection:"
PROCESS_KEY = "bot:process"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def write_status(conn: Connection, rows: dict[str, dict[str, Any]], now: datetime | None = None) -> None:
    """Upsert ``{key: value}`` kv rows (values made JSON-safe)."""
    if not rows:
        return
    now = now or utcnow()
    ins = _dialect_insert(conn, KV)
    stmt = ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at}
    )
    conn.execute(stmt, [{"key": k, "value": _jsonable(v), "updated_at": now} for k, v in rows.items()])


def read_connections(conn: Connection, *, stale_after: float = 30.0, now: datetime | None = None) -> dict[str, Any]:
    """Every account's last reported status and the bot process row; ``stale`` when not refreshed."""
    now = now or utcnow()
    accounts: list[dict[str, Any]] = []
    process: dict[str, Any] | None = None
    for row in conn.execute(select(KV).where(KV.c.key.like(PREFIX + "%") | (KV.c.key == PROCESS_KEY))):
        value = dict(row.value or {})
        age = (now - row.updated_at).total_seconds() if row.updated_at else None
        value["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
        value["stale"] = age is None or age > stale_after
        if row.key == PROCESS_KEY:
            process = value
        else:
            accounts.append(value)
    accounts.sort(key=lambda a: (str(a.get("platform")), str(a.get("account"))))
    return {"process": process, "accounts": accounts}
