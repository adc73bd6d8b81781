"""Benchmark: activity scores and roles at scale (10M messages / 100k members by default).

What is measured (one JSON object on stdout):

- ``load_seconds``: writing the synthetic daily rollup straight into ``member_daily`` (SQLite file):
  ``--members`` members of one group, each active on a random subset of ``--days`` days, messages per
  active day drawn so the total is ``--messages``; plus the ``members`` rows. This stands in for
  importing 10M events, which would take far too long through the full importer; the projection's own
  speed is measured separately on real-shaped events (``projection_events_per_s``).
- ``full_rescore_seconds``: ``refresh_scores(full=True)``: every group and community-wide score.
- ``incremental_rescore_seconds``: 1 % of the members get new activity (dirty), refresh only those.
- ``roles_seconds``: score + role + reason for every member of the 100k-member group (the enricher).
- ``leaderboard_seconds``: a week's 'active' board for the group and community-wide.
- ``projection_events_per_s``: the rollup projection (aggregate + upsert) on 200k synthetic events.

Usage: ``python bench/bench_members.py [--members 100000 --messages 10000000 --days 90]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from qunyun.events import Event
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.leaderboard import leaderboard
from qunyun.features.members.plugin import enrich_rows
from qunyun.features.members.rollup import project
from qunyun.features.members.scores import refresh_scores
from qunyun.store import queries
from qunyun.store.db import Database
from qunyun.store.queries import GroupRef
from qunyun.store.writer import write_events

END = date(2026, 11, 1)


def synthesize(path: Path, members: int, messages: int, days: int, seed: int) -> tuple[int, int]:
    """Rollup rows for one group; returns (rows, messages written)."""
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    # activity is skewed like real groups: a few talk a lot, most rarely
    weights = [rng.paretovariate(1.2) for _ in range(members)]
    total_w = sum(weights)
    rows, written = 0, 0
    daily = []
    member_rows = []
    for i, w in enumerate(weights):
        uid = f"u{i}"
        n = max(0, round(messages * w / total_w))
        active = min(days, max(1, round(n ** 0.5))) if n else 0
        chosen = rng.sample(range(days), active) if active else []
        per = [n // active + (1 if k < n % active else 0) for k in range(active)] if active else []
        last = None
        for off, m in zip(chosen, per, strict=True):
            d = END - timedelta(days=off)
            last = d if last is None or d > last else last
            minutes = max(1, int(m * 0.7))
            replies = rng.randint(0, max(0, m // 5))
            daily.append(("g", "G", uid, d.isoformat(), m, minutes, replies, rng.randint(0, m // 4 + 1)))
            written += m
        first = END - timedelta(days=days + rng.randint(0, 60))
        spoke = f"{last.isoformat()} 12:00:00.000000" if last else None
        member_rows.append(("g", "G", uid, uid, n, f"{first.isoformat()} 08:00:00.000000",
                            spoke or f"{first.isoformat()} 08:00:00.000000", spoke, 0, "active"))
        if len(daily) >= 200_000:
            rows += _flush(con, daily)
    rows += _flush(con, daily)
    con.executemany(
        "INSERT INTO members (platform, group_id, user_id, user_name, messages, first_seen, last_seen, last_spoke,"
        " is_admin, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
        member_rows,
    )
    con.execute("INSERT INTO groups (platform, group_id, name, type) VALUES ('g', 'G', 'bench', 'general')")
    con.commit()
    con.close()
    return rows, written


def _flush(con: sqlite3.Connection, daily: list[tuple]) -> int:
    con.executemany(
        "INSERT INTO member_daily (platform, group_id, user_id, day, messages, active_minutes, replies_received,"
        " mentions_received) VALUES (?,?,?,?,?,?,?,?)",
        daily,
    )
    n = len(daily)
    daily.clear()
    return n


def projection_speed(db: Database, n: int = 200_000) -> float:
    rng = random.Random(1)
    base = datetime(2026, 10, 1, tzinfo=UTC)
    events = []
    for i in range(n):
        uid = f"p{rng.randint(0, 5000)}"
        reply = f"pm{rng.randint(max(0, i - 300), i - 1)}" if i and rng.random() < 0.25 else None
        events.append(Event(platform="p", group_id="P", message_id=f"pm{i}", user_id=uid, user_name=uid,
                            time=base + timedelta(seconds=i * 7), text="how do I fix this?" if i % 9 == 0 else "ok",
                            reply_to=reply, mentions=[f"p{rng.randint(0, 5000)}"] if i % 11 == 0 else []))
    with db.engine.begin() as conn:  # events must exist for reply look-ups across batches
        for start in range(0, n, 20_000):
            write_events(conn, events[start : start + 20_000])
    t = time.perf_counter()
    with db.engine.begin() as conn:
        for start in range(0, n, 20_000):
            project(conn, events[start : start + 20_000])
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="qunyun-bench-members-"))
    path = workdir / "bench.db"
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    db.migrate()
    cfg = MembersConfig(reference="last_event")
    out: dict[str, object] = {"members": args.members, "target_messages": args.messages, "days": args.days}

    t = time.perf_counter()
    rows, written = synthesize(path, args.members, args.messages, args.days, args.seed)
    out.update(rollup_rows=rows, messages=written, load_seconds=round(time.perf_counter() - t, 2))

    t = time.perf_counter()
    with db.engine.begin() as conn:
        scored = refresh_scores(conn, cfg, full=True)
    out.update(full_rescore_seconds=round(time.perf_counter() - t, 2), scores_written=scored)

    con = sqlite3.connect(path)
    dirty = [(f"u{i}",) for i in range(0, args.members, 100)]
    con.executemany("UPDATE member_scores SET dirty = 1 WHERE platform = 'g' AND group_id = 'G' AND user_id = ?",
                    dirty)
    con.commit()
    con.close()
    t = time.perf_counter()
    with db.engine.begin() as conn:
        refreshed = refresh_scores(conn, cfg)
    out.update(incremental_rescore_seconds=round(time.perf_counter() - t, 3), incremental_rows=refreshed)

    ref = GroupRef("g", "G")
    with db.engine.connect() as conn:
        t = time.perf_counter()
        _, members = queries.list_members(conn, ref)
        list_s = time.perf_counter() - t
        t = time.perf_counter()
        enriched = enrich_rows(conn, ref, members, cfg)
        out.update(list_members_seconds=round(list_s, 2), roles_seconds=round(time.perf_counter() - t, 2))
        roles: dict[str, int] = {}
        for r in enriched:
            roles[r["role"]] = roles.get(r["role"], 0) + 1
        out["roles"] = roles
        t = time.perf_counter()
        leaderboard(conn, cfg, ref, board="active", period="week")
        leaderboard(conn, cfg, None, board="active", period="week")
        out["leaderboard_seconds"] = round(time.perf_counter() - t, 3)
    out["projection_events_per_s"] = round(projection_speed(db))
    db.dispose()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
