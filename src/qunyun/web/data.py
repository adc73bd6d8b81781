"""Read helpers shared by the dashboard pages and the REST API (one shape for both faces).

They wrap :mod:`qunyun.store.queries` and add the few numbers only the dashboard needs
(active members on the last day of data, recent messages), plus the member enrichers.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qunyun.engine.plugins import Registry
from qunyun.i18n import t
from qunyun.store import queries
from qunyun.store.queries import GroupRef
from qunyun.store.tables import EventRow, MemberRow

log = logging.getLogger(__name__)

#: member columns every listing shows; anything an enricher adds comes after these
MEMBER_BASE = ("user_id", "user_name", "messages", "first_seen", "last_seen", "status")
MEMBER_HIDDEN = frozenset({"id", "platform", "group_id", "last_spoke", "joined_at", "left_at", "is_admin"})


def active_last_day(conn: Connection, ref: GroupRef | None = None) -> int:
    """Distinct accounts that spoke in the 24 hours before the last message (data may be old)."""
    m = MemberRow.__table__
    conds = [] if ref is None else [m.c.platform == ref.platform, m.c.group_id == ref.group_id]
    last = conn.execute(select(func.max(m.c.last_spoke)).where(*conds)).scalar_one()
    if last is None:
        return 0
    who = m.c.platform + ":" + m.c.user_id
    n = conn.execute(
        select(func.count(func.distinct(who))).where(*conds, m.c.last_spoke > last - timedelta(days=1))
    ).scalar_one()
    return int(n)


def overview(conn: Connection) -> dict[str, Any]:
    data = queries.overview(conn)
    data["active_last_day"] = active_last_day(conn)
    return data


def group_detail(conn: Connection, ref: GroupRef) -> dict[str, Any]:
    """The group's row from ``list_groups`` plus its active-on-the-last-day count."""
    data = queries.get_group(conn, ref)
    data["active_last_day"] = active_last_day(conn, ref)
    return data


#: per-day series by (database, group, days, newest event id): the query scans the window's events
#: (~0.5 s at 200k messages), while "has anything arrived since?" is one primary-key lookup
_PER_DAY_CACHE: OrderedDict[tuple[str, str | None, int, int], list[dict[str, Any]]] = OrderedDict()
_PER_DAY_LOCK = threading.Lock()
PER_DAY_CACHE_SIZE = 256


def per_day(conn: Connection, ref: GroupRef | None = None, days: int = 60) -> list[dict[str, Any]]:
    """Messages per UTC day (``queries.messages_per_day``), cached until a new event is stored."""
    newest = conn.execute(select(func.max(EventRow.__table__.c.id))).scalar()
    key = (str(conn.engine.url), None if ref is None else str(ref), days, int(newest or 0))
    with _PER_DAY_LOCK:
        hit = _PER_DAY_CACHE.get(key)
        if hit is not None:
            _PER_DAY_CACHE.move_to_end(key)
            return [dict(p) for p in hit]
    points = [{"date": d.isoformat(), "messages": n} for d, n in queries.messages_per_day(conn, ref, days=days)]
    with _PER_DAY_LOCK:
        _PER_DAY_CACHE[key] = points
        while len(_PER_DAY_CACHE) > PER_DAY_CACHE_SIZE:
            _PER_DAY_CACHE.popitem(last=False)
    return [dict(p) for p in points]


def chart_series(points: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The JSON a page embeds for its line chart (read by static/js/qunyun.js)."""
    return {"name": name, "dates": [p["date"] for p in points], "values": [p["messages"] for p in points]}


def recent_messages(conn: Connection, ref: GroupRef, limit: int = 30) -> list[dict[str, Any]]:
    e = EventRow.__table__
    rows = conn.execute(
        select(e.c.time, e.c.type, e.c.user_id, e.c.user_name, e.c.text, e.c.message_id)
        .where(e.c.platform == ref.platform, e.c.group_id == ref.group_id)
        .order_by(e.c.time.desc(), e.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def members_page(
    conn: Connection,
    registry: Registry,
    ref: GroupRef | None,
    *,
    search: str | None,
    offset: int,
    limit: int,
    order: str = "messages",
) -> tuple[int, list[dict[str, Any]]]:
    """A page of members with every registered enricher applied.

    ``ref`` is None for the all-groups listing; enrichers then get None and should use each row's
    ``platform``/``group_id``. A failing enricher is logged and skipped: one plugin's bug must not
    take the members page down.
    """
    total, rows = queries.list_members(
        conn, ref, search=search or None, order=order, offset=offset, limit=limit
    )
    for enrich in registry.member_enrichers:
        try:
            rows = list(enrich(conn, ref, rows))
        except Exception:
            log.exception("member enricher %s failed", getattr(enrich, "__name__", enrich))
    return total, rows


def extra_member_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Table columns added by enrichers (score, role, reason ...), in first-seen order.

    Structured values (dicts, lists such as ``evidence``) stay out of the table (they are in the
    API and shown as a tooltip); ``X_en``/``X_zh`` next to ``X`` are language variants of one column.
    """
    seen: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key in MEMBER_BASE or key in MEMBER_HIDDEN or isinstance(value, dict | list):
                continue
            if key.endswith(("_en", "_zh")) and key[:-3] in row:
                continue
            seen.setdefault(key, None)
    return list(seen)


def column_label(col: str, lang: str) -> str:
    """Header of an enricher column: ``col.<name>``, else ``members.col.<name>``, else the name."""
    for key in (f"col.{col}", f"members.col.{col}"):
        text = t(key, lang)
        if text != key:
            return text
    return col


def member_cell(row: dict[str, Any], col: str, lang: str) -> str:
    """One enricher cell in the page's language (``X_en`` on English pages, ``members.<col>.<value>``)."""
    value = row.get(f"{col}_en") if lang == "en" and row.get(f"{col}_en") is not None else row.get(col)
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = str(value)
    key = f"members.{col}.{text}"
    label = t(key, lang)
    return text if label == key else label


def evidence_text(row: dict[str, Any]) -> str:
    """The row's ``evidence`` dict as ``key: value`` lines (a tooltip), or ''."""
    evidence = row.get("evidence")
    if not isinstance(evidence, dict):
        return ""
    return "\n".join(f"{k}: {v}" for k, v in evidence.items())


def iso(value: Any) -> Any:
    """JSON-friendly value (dates as ISO 8601)."""
    if isinstance(value, date):
        return value.isoformat()
    return value
