"""Core tables (SQLAlchemy 2 declarative). Features declare their own tables on the same ``Base``.

Groups, members and events are keyed by the platform's own ids as strings
(``platform``, ``group_id``, ``user_id``), so ingest needs no id look-ups and any importer can
write without knowing surrogate keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on the way in and out on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as UTC and
    come back tagged as UTC instead of naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


TZ = UTCDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def tbl(model: type[Base]) -> Table:
    """``Model.__table__`` typed as a Table (SQLAlchemy types it as a FromClause)."""
    return cast(Table, model.__table__)


class CommunityRow(Base):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ)


class GroupRow(Base):
    """群 — one chat group on one platform."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "group_id", name="uq_groups_platform_group"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), default="general")
    tier: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[int | None] = mapped_column(Integer)
    parent_group_id: Mapped[str | None] = mapped_column(String(128))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime | None] = mapped_column(TZ)


class PersonRow(Base):
    """One human being behind one or several platform accounts (用户画像 anchor)."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[Any] | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(TZ)


class IdentityRow(Base):
    """A platform account, optionally linked to a person."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_identities_platform_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))


class MemberRow(Base):
    """A platform account's presence in one group, with counters kept up to date at ingest."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("platform", "group_id", "user_id", name="uq_members_platform_group_user"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    messages: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime | None] = mapped_column(TZ)
    last_seen: Mapped[datetime | None] = mapped_column(TZ)
    last_spoke: Mapped[datetime | None] = mapped_column(TZ)
    joined_at: Mapped[datetime | None] = mapped_column(TZ)
    left_at: Mapped[datetime | None] = mapped_column(TZ)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: active / left / banned
    status: Mapped[str] = mapped_column(String(16), default="active")


class EventRow(Base):
    """Every accepted event, stored before anything acts on it."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("platform", "group_id", "message_id", name="uq_events_key"),
        Index("ix_events_group_time", "platform", "group_id", "time"),
        Index("ix_events_group_user", "platform", "group_id", "user_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(191))
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(191))
    #: JSON array text of mentioned user ids (kept as text: cheap to write, rarely queried)
    mentions: Mapped[str | None] = mapped_column(Text)
    time: Mapped[datetime] = mapped_column(TZ)
    #: JSON text: segments and whatever else of the original payload the columns do not hold
    extra: Mapped[str | None] = mapped_column(Text)


class DeadLetterRow(Base):
    """Malformed input, kept with the reason so nothing is silently dropped."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    line: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ)


class OutboxRow(Base):
    """Outbound actions: pending → sent → confirmed, or failed / unknown; dry_run when rehearsing."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    account: Mapped[str | None] = mapped_column(String(128))
    group_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the platform's id of what was sent (message id ...), for confirmation by echo
    external_id: Mapped[str | None] = mapped_column(String(191))
    created_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ)


class AuditRow(Base):
    """Every decision and every executed action, with its reason (审计日志)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_time", "time"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    time: Mapped[datetime] = mapped_column(TZ)
    actor: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str | None] = mapped_column(String(32))
    group_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    reason_zh: Mapped[str | None] = mapped_column(Text)
    reason_en: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str | None] = mapped_column(String(16))
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    cause: Mapped[str | None] = mapped_column(String(500))


class StaffUserRow(Base):
    """A dashboard login (运营人员). Passwords are argon2 hashes."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(TZ)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiTokenRow(Base):
    """REST API bearer tokens; only a SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ)
    last_used_at: Mapped[datetime | None] = mapped_column(TZ)


class KeyValueRow(Base):
    """Small persistent state for features (cursors, model versions, last run times)."""

    __tablename__ = "kv"
    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(TZ)


__all__ = [
    "Base",
    "tbl",
    "BigId",
    "TZ",
    "CommunityRow",
    "GroupRow",
    "PersonRow",
    "IdentityRow",
    "MemberRow",
    "EventRow",
    "DeadLetterRow",
    "OutboxRow",
    "AuditRow",
    "StaffUserRow",
    "ApiTokenRow",
    "KeyValueRow",
    "Float",
]
