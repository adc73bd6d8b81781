"""Tables of the members feature: daily rollup, interaction edges, scores, valued posts, profiles.

The rollup is written from the first event on (by a projection, inside the storing transaction), so
any date range and any later metric can be computed without re-reading raw messages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.store.tables import TZ, Base


class MemberDailyRow(Base):
    """One row per member per group per UTC day (成员日汇总)."""

    __tablename__ = "member_daily"
    __table_args__ = (
        Index("ix_member_daily_group_day", "platform", "group_id", "day"),
        Index("ix_member_daily_user", "platform", "user_id", "day"),
    )
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    #: distinct minutes with at least one message (anti-farming: the 2nd+ message of a minute counts less)
    active_minutes: Mapped[int] = mapped_column(Integer, default=0)
    #: epoch minutes of the first / last message of the day (to merge minutes across batches)
    first_minute: Mapped[int | None] = mapped_column(BigInteger)
    last_minute: Mapped[int | None] = mapped_column(BigInteger)
    chars: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    replies_given: Mapped[int] = mapped_column(Integer, default=0)
    replies_received: Mapped[int] = mapped_column(Integer, default=0)
    #: replies given to a message that asked a question (the 'helpful' board)
    helpful_replies: Mapped[int] = mapped_column(Integer, default=0)
    mentions_given: Mapped[int] = mapped_column(Integer, default=0)
    mentions_received: Mapped[int] = mapped_column(Integer, default=0)
    reactions_given: Mapped[int] = mapped_column(Integer, default=0)
    reactions_received: Mapped[int] = mapped_column(Integer, default=0)
    invites: Mapped[int] = mapped_column(Integer, default=0)
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    valuable_posts: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)
    last_spoke: Mapped[datetime | None] = mapped_column(TZ)


class MemberEdgeRow(Base):
    """Who replied to / mentioned whom, per day: the interaction graph behind the KOL role."""

    __tablename__ = "member_edges"
    __table_args__ = (Index("ix_member_edges_group_day", "platform", "group_id", "day"),)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    src: Mapped[str] = mapped_column(String(128), primary_key=True)
    dst: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    mentions: Mapped[int] = mapped_column(Integer, default=0)


class MemberScoreRow(Base):
    """Decayed activity score, anchored at the member's last active day; ``group_id='*'`` = community-wide.

    ``dirty`` is set by the projection when new activity arrives; scores are refreshed (only the dirty
    ones) before they are read, and fully on ``qunyun members rescore``.
    """

    __tablename__ = "member_scores"
    __table_args__ = (Index("ix_member_scores_dirty", "dirty"),)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    #: the same score with time counted in the group's active days (for gappy / historic logs)
    score_active: Mapped[float] = mapped_column(Float, default=0.0)
    anchor_day: Mapped[date | None] = mapped_column(Date)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    computed_at: Mapped[datetime | None] = mapped_column(TZ)


class ValuablePostRow(Base):
    """A post staff flagged as valuable (精华); counted once per message."""

    __tablename__ = "valuable_posts"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    flagged_by: Mapped[str | None] = mapped_column(String(128))
    flagged_at: Mapped[datetime] = mapped_column(TZ)


class ProfileRow(Base):
    """用户画像 of one platform account: onboarding fields, motivation tags, tags, notes."""

    __tablename__ = "member_profiles"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    region: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(64))
    needs: Mapped[str | None] = mapped_column(String(255))
    motivations: Mapped[list[Any] | None] = mapped_column(JSON)
    tags: Mapped[list[Any] | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    intro_text: Mapped[str | None] = mapped_column(Text)
    intro_group_id: Mapped[str | None] = mapped_column(String(128))
    intro_message_id: Mapped[str | None] = mapped_column(String(191))
    updated_at: Mapped[datetime | None] = mapped_column(TZ)


ROLLUP_COUNTERS = (
    "messages",
    "active_minutes",
    "chars",
    "questions",
    "replies_given",
    "replies_received",
    "helpful_replies",
    "mentions_given",
    "mentions_received",
    "reactions_given",
    "reactions_received",
    "invites",
    "checkins",
    "valuable_posts",
    "points",
    "joins",
    "leaves",
)


def table(model: type[Base]) -> Table:
    """A model's Table, typed as such (``Model.__table__`` is typed as a plain FromClause)."""
    return cast(Table, model.__table__)
