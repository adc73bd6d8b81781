"""Leaderboards (用户行为榜单) from the daily rollup: any board, any period, per group or community-wide."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qunyun.actions import Action, ActionKind, Reason
from qunyun.features.members.config import MembersConfig
from qunyun.features.members.scores import reference_time
from qunyun.features.members.tables import MemberDailyRow, table
from qunyun.i18n import both, t
from qunyun.store.queries import GroupRef
from qunyun.store.tables import IdentityRow

BOARDS = {
    "active": "messages",  # 话痨榜
    "helpful": "helpful_replies",  # replies to questions
    "invites": "invites",
    "checkins": "checkins",
    "points": "points",
}
PERIODS = {"day": 1, "week": 7, "month": 30}


class BoardError(ValueError):
    """Unknown board or period; the message names the choices."""


def period_range(reference: datetime, period: str) -> tuple[date, date]:
    if period not in PERIODS:
        raise BoardError(f"unknown period {period!r} (one of: {', '.join(PERIODS)})")
    end = reference.date()
    return end - timedelta(days=PERIODS[period] - 1), end


def leaderboard(
    conn: Connection,
    cfg: MembersConfig,
    ref: GroupRef | None,
    *,
    board: str = "active",
    period: str = "week",
    limit: int = 20,
    now: datetime | None = None,
) -> dict[str, Any]:
    """{board, period, start, end, reference, rows: [{rank, platform, user_id, user_name, value}]}."""
    if board not in BOARDS:
        raise BoardError(f"unknown board {board!r} (one of: {', '.join(BOARDS)})")
    R, rule = reference_time(conn, cfg, ref.platform if ref else None, ref.group_id if ref else None, now)
    start, end = period_range(R, period)
    d = table(MemberDailyRow)
    col = d.c[BOARDS[board]]
    value = func.sum(col).label("value")
    conds = [d.c.day >= start, d.c.day <= end]
    if ref is not None:
        conds += [d.c.platform == ref.platform, d.c.group_id == ref.group_id]
    tie = func.sum(d.c.active_minutes).label("tie")
    q = (
        select(d.c.platform, d.c.user_id, value, func.sum(d.c.messages).label("messages"), tie)
        .where(*conds)
        .group_by(d.c.platform, d.c.user_id)
        .having(func.sum(col) > 0)
        .order_by(value.desc(), tie.desc(), d.c.user_id)
        .limit(limit)
    )
    rows = list(conn.execute(q))
    names: dict[tuple[str, str], str | None] = {}
    if rows:
        i = table(IdentityRow)
        for p, u, n in conn.execute(
            select(i.c.platform, i.c.user_id, i.c.user_name).where(i.c.user_id.in_([r.user_id for r in rows]))
        ):
            names[(p, u)] = n
    out = []
    for rank, r in enumerate(rows, 1):
        v = float(r.value)
        out.append(
            {
                "rank": rank,
                "platform": r.platform,
                "user_id": r.user_id,
                "user_name": names.get((r.platform, r.user_id)) or r.user_id,
                "value": int(v) if v.is_integer() else round(v, 2),
                "messages": int(r.messages or 0),
            }
        )
    return {
        "board": board,
        "period": period,
        "group": str(ref) if ref else None,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "reference": R.isoformat(),
        "reference_rule": rule,
        "rows": out,
    }


def board_message(result: dict[str, Any], lang: str, top: int) -> str:
    """The leaderboard as a chat message."""
    board = t(f"members.board.{result['board']}", lang)
    period = t(f"members.period.{result['period']}", lang)
    lines = [t("members.board.post_title", lang, board=board, period=period, n=top)]
    for row in result["rows"][:top]:
        lines.append(
            t("members.board.post_line", lang, rank=row["rank"], name=row["user_name"], value=row["value"])
        )
    if not result["rows"]:
        lines.append(t("members.board.post_empty", lang))
    return "\n".join(lines)


def board_action(result: dict[str, Any], ref: GroupRef, lang: str, top: int) -> Action:
    """A send_message action posting the board to ``ref``; one per board, period and end day."""
    zh, en = both("members.board.post_reason", board=result["board"], period=result["period"])
    return Action(
        kind=ActionKind.SEND_MESSAGE,
        platform=ref.platform,
        group_id=ref.group_id,
        text=board_message(result, lang, top),
        reason=Reason(
            zh=zh,
            en=en,
            evidence={
                "board": result["board"],
                "period": result["period"],
                "start": result["start"],
                "end": result["end"],
            },
        ),
        source="members.leaderboard",
        cause=f"leaderboard:{result['board']}:{result['period']}:{result['group']}:{result['end']}",
    )
