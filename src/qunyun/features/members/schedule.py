"""Posting leaderboards to groups on a schedule: due posts become send_message actions."""

from __future__ import annotations

from datetime import datetime

from croniter import croniter
from sqlalchemy import select

from qunyun.engine.executor import submit_actions
from qunyun.events import utcnow
from qunyun.features.members.config import LeaderboardPost, MembersConfig
from qunyun.features.members.leaderboard import board_action, leaderboard
from qunyun.features.members.tables import table
from qunyun.store.db import Database
from qunyun.store.queries import resolve_group
from qunyun.store.tables import KeyValueRow
from qunyun.store.writer import _dialect_insert

KV_PREFIX = "members.board_post:"


def _key(post: LeaderboardPost) -> str:
    return f"{KV_PREFIX}{post.group}:{post.board}:{post.period}:{post.cron}"[:191]


def post_due_boards(db: Database, cfg: MembersConfig, *, dry_run: bool, now: datetime | None = None) -> int:
    """Submit every configured post whose cron time passed since its last run; returns how many."""
    now = now or utcnow()
    posted = 0
    kv = table(KeyValueRow)
    for post in cfg.leaderboard_posts:
        key = _key(post)
        with db.engine.begin() as conn:
            last = conn.execute(select(kv.c.value).where(kv.c.key == key)).scalar()
            last_run = datetime.fromisoformat(last["at"]) if isinstance(last, dict) else None
            due = croniter(post.cron, last_run or now).get_next(datetime) if last_run else None
            ins = _dialect_insert(conn, kv)
            upsert = ins.on_conflict_do_update(
                index_elements=["key"],
                set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at},
            )
            if last_run is None:  # first sight: start counting from now, post at the next cron time
                conn.execute(upsert, {"key": key, "value": {"at": now.isoformat()}, "updated_at": now})
                continue
            if due is None or due > now:
                continue
            ref = resolve_group(conn, post.group)
            result = leaderboard(
                conn,
                cfg,
                None if post.community else ref,
                board=post.board,
                period=post.period,
                limit=post.top,
                now=now,
            )
            action = board_action(result, ref, post.lang, post.top)
            submit_actions(conn, [action], dry_run=dry_run, actor="members.schedule", now=now)
            conn.execute(upsert, {"key": key, "value": {"at": now.isoformat()}, "updated_at": now})
            posted += 1
    return posted
