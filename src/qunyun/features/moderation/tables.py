"""The moderation plugin's tables (incidents, waves, strikes, reviews, rule lists, trust, feedback).

Declared on the core ``Base`` so they share its naming convention and type map; the schema itself
is created by the hand-written migration ``0002_moderation`` (the store knows no feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.store.tables import TZ, Base, BigId, CommunityRow, GroupRow


class IncidentRow(Base):
    """One cross-group wave (跨群刷屏事件): near-same text in several groups, handled once."""

    __tablename__ = "moderation_incidents"
    __table_args__ = (Index("ix_moderation_incidents_status", "status", "last_seen"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64))
    #: open (below k groups is never stored) / actioned / watch / dismissed / confirmed
    status: Mapped[str] = mapped_column(String(16))
    sample_text: Mapped[str | None] = mapped_column(Text)
    groups: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(TZ)
    last_seen: Mapped[datetime] = mapped_column(TZ)
    actioned_at: Mapped[datetime | None] = mapped_column(TZ)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentMessageRow(Base):
    """A copy of the wave's text in one group (each one is deleted)."""

    __tablename__ = "moderation_incident_messages"
    __table_args__ = (
        UniqueConstraint("platform", "group_id", "message_id", name="uq_moderation_incident_messages_key"),
        Index("ix_moderation_incident_messages_incident", "incident_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("moderation_incidents.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(191))
    user_id: Mapped[str] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(TZ)
    score: Mapped[float] = mapped_column(Float, default=0.0)


class IncidentMemberRow(Base):
    """An account that posted a copy of the wave (each one is banned community-wide)."""

    __tablename__ = "moderation_incident_members"
    __table_args__ = (
        UniqueConstraint("incident_id", "platform", "user_id", name="uq_moderation_incident_members_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("moderation_incidents.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))


class WaveEntryRow(Base):
    """A recent message's MinHash signature; kept only for the wave window (bounded, pruned)."""

    __tablename__ = "moderation_wave_entries"
    __table_args__ = (Index("ix_moderation_wave_entries_time", "platform", "community", "time"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(191))
    user_id: Mapped[str] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(TZ)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    text: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(BigId)


class WaveBandRow(Base):
    """One LSH band key of a wave entry: equal keys are the candidates for near-duplicates."""

    __tablename__ = "moderation_wave_bands"
    __table_args__ = (Index("ix_moderation_wave_bands_band", "band", "time"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("moderation_wave_entries.id", ondelete="CASCADE"))
    band: Mapped[str] = mapped_column(String(40))
    time: Mapped[datetime] = mapped_column(TZ)


class StrikeRow(Base):
    """One offence on a member's record in a community (违规记录); decays with time."""

    __tablename__ = "moderation_strikes"
    __table_args__ = (Index("ix_moderation_strikes_member", "platform", "community", "user_id", "time"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    group_id: Mapped[str | None] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(TZ)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(64))
    review_id: Mapped[int | None] = mapped_column(BigId)
    incident_id: Mapped[int | None] = mapped_column(BigId)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewRow(Base):
    """A moderation decision waiting for (or given) a human's verdict (复核队列)."""

    __tablename__ = "moderation_reviews"
    __table_args__ = (
        Index("ix_moderation_reviews_status", "status", "id"),
        Index("ix_moderation_reviews_member", "platform", "user_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TZ)
    #: message (one spam message and its ladder step) or incident (a cross-group wave)
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(191))
    text: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    model_score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the ladder step taken (warn, mute, kick, ban) or ``wave``
    step: Mapped[str | None] = mapped_column(String(32))
    #: the actions taken, as JSON dumps of :class:`~qunyun.actions.Action` (what "not spam" undoes)
    actions: Mapped[list[Any] | None] = mapped_column(JSON)
    incident_id: Mapped[int | None] = mapped_column(BigId)
    #: pending / spam / ham
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(TZ)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)


class ListEntryRow(Base):
    """Rules edited from the dashboard/CLI: keywords, allowed/denied domains, whitelisted members."""

    __tablename__ = "moderation_lists"
    __table_args__ = (UniqueConstraint("scope", "kind", "value", name="uq_moderation_lists_entry"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``*`` (everywhere), ``community:<key>`` or ``group:<platform>:<group_id>``
    scope: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TZ)


class TrustRow(Base):
    """Extra trust earned by a member whose removal was undone (raises their spam threshold)."""

    __tablename__ = "moderation_trust"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_moderation_trust_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    bonus: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(TZ)


class FeedbackRow(Base):
    """Operators' spam / not-spam labels: the retraining set grows from these (误判反馈)."""

    __tablename__ = "moderation_feedback"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(8))
    review_id: Mapped[int | None] = mapped_column(BigId)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TZ)


# --- communities ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Community:
    """The groups that share one moderation record on one platform (社群矩阵).

    Groups with the same ``community_id`` form a community; groups without one form the
    platform's default community (key ``-``), so a single-operator install bans everywhere.
    """

    platform: str
    key: str
    community_id: int | None
    name: str | None
    groups: tuple[str, ...]


def community_of(conn: Connection, platform: str, group_id: str) -> Community:
    """The community of ``platform:group_id`` and every group in it (this group included)."""
    g, c = GroupRow.__table__, CommunityRow.__table__
    row = conn.execute(select(g.c.community_id).where(g.c.platform == platform, g.c.group_id == group_id)).first()
    cid = row[0] if row is not None else None
    same = g.c.community_id == cid if cid is not None else g.c.community_id.is_(None)
    q = select(g.c.group_id).where(g.c.platform == platform, same).order_by(g.c.group_id)
    groups = [r[0] for r in conn.execute(q)]
    if group_id not in groups:
        groups.append(group_id)
    name = None
    if cid is not None:
        name = conn.execute(select(c.c.name).where(c.c.id == cid)).scalar_one_or_none()
    return Community(platform, f"c{cid}" if cid is not None else "-", cid, name, tuple(groups))


def tbl(model: type[Base]) -> Table:
    """A declarative class's ``Table`` (typed as such, so mypy knows ``insert``/``update``)."""
    return cast(Table, model.__table__)
