"""Tier chains defined at runtime, review plans and their moves (the history of every review)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.store.tables import TZ, Base


class TierChainRow(Base):
    """A chain defined with the CLI or the dashboard (chains in qunyun.toml take precedence)."""

    __tablename__ = "tier_chains"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(TZ)


class TierPlanRow(Base):
    """One review (升级/留级评审): draft → applied (or cancelled)."""

    __tablename__ = "tier_plans"
    __table_args__ = (Index("ix_tier_plans_chain", "chain"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(TZ)
    created_by: Mapped[str | None] = mapped_column(String(128))
    reference: Mapped[datetime] = mapped_column(TZ)
    period_start: Mapped[datetime] = mapped_column(TZ)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    skipped: Mapped[list[Any] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None] = mapped_column(TZ)
    applied_by: Mapped[str | None] = mapped_column(String(128))


class TierMoveRow(Base):
    """One member moving from one tier group to another, with the reason and numbers."""

    __tablename__ = "tier_moves"
    __table_args__ = (
        Index("ix_tier_moves_plan", "plan_id"),
        Index("ix_tier_moves_remove", "status", "remove_after"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("tier_plans.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    from_group: Mapped[str] = mapped_column(String(128))
    to_group: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(8))  # up / down
    activity: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    reason_zh: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dropped: Mapped[bool] = mapped_column(Boolean, default=False)
    #: planned / dropped / applied (invited + notified, removal pending) / done (removed from old group)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    keep_old: Mapped[bool] = mapped_column(Boolean, default=False)
    remove_after: Mapped[datetime | None] = mapped_column(TZ)
    removed_at: Mapped[datetime | None] = mapped_column(TZ)
