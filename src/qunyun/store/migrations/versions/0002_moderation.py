"""moderation: incidents (cross-group waves), wave signatures, strikes, review queue, rule lists, trust

Revision ID: 0002_moderation
Revises: 0001_foundation
Create Date: 2026-11-26

Hand-written for the moderation plugin (tables declared in qunyun.features.moderation.tables).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_moderation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_feedback")),
    )
    op.create_table(
        "moderation_incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sample_text", sa.Text(), nullable=True),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actioned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_incidents")),
    )
    op.create_index(
        "ix_moderation_incidents_status", "moderation_incidents", ["status", "last_seen"], unique=False
    )
    op.create_table(
        "moderation_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_lists")),
        sa.UniqueConstraint("scope", "kind", "value", name="uq_moderation_lists_entry"),
    )
    op.create_table(
        "moderation_reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("user_name", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.String(length=191), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model_score", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("step", sa.String(length=32), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=True),
        sa.Column("incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_reviews")),
    )
    op.create_index(
        "ix_moderation_reviews_member", "moderation_reviews", ["platform", "user_id"], unique=False
    )
    op.create_index("ix_moderation_reviews_status", "moderation_reviews", ["status", "id"], unique=False)
    op.create_table(
        "moderation_strikes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_strikes")),
    )
    op.create_index(
        "ix_moderation_strikes_member",
        "moderation_strikes",
        ["platform", "community", "user_id", "time"],
        unique=False,
    )
    op.create_table(
        "moderation_trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("bonus", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_trust")),
        sa.UniqueConstraint("platform", "user_id", name="uq_moderation_trust_member"),
    )
    op.create_table(
        "moderation_wave_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=191), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_wave_entries")),
    )
    op.create_index(
        "ix_moderation_wave_entries_time",
        "moderation_wave_entries",
        ["platform", "community", "time"],
        unique=False,
    )
    op.create_table(
        "moderation_incident_members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["moderation_incidents.id"],
            name=op.f("fk_moderation_incident_members_incident_id_moderation_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_incident_members")),
        sa.UniqueConstraint("incident_id", "platform", "user_id", name="uq_moderation_incident_members_key"),
    )
    op.create_table(
        "moderation_incident_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=191), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["moderation_incidents.id"],
            name=op.f("fk_moderation_incident_messages_incident_id_moderation_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_incident_messages")),
        sa.UniqueConstraint("platform", "group_id", "message_id", name="uq_moderation_incident_messages_key"),
    )
    op.create_index(
        "ix_moderation_incident_messages_incident",
        "moderation_incident_messages",
        ["incident_id"],
        unique=False,
    )
    op.create_table(
        "moderation_wave_bands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("band", sa.String(length=40), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["moderation_wave_entries.id"],
            name=op.f("fk_moderation_wave_bands_entry_id_moderation_wave_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_wave_bands")),
    )
    op.create_index("ix_moderation_wave_bands_band", "moderation_wave_bands", ["band", "time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_moderation_wave_bands_band", table_name="moderation_wave_bands")
    op.drop_table("moderation_wave_bands")
    op.drop_index("ix_moderation_incident_messages_incident", table_name="moderation_incident_messages")
    op.drop_table("moderation_incident_messages")
    op.drop_table("moderation_incident_members")
    op.drop_index("ix_moderation_wave_entries_time", table_name="moderation_wave_entries")
    op.drop_table("moderation_wave_entries")
    op.drop_table("moderation_trust")
    op.drop_index("ix_moderation_strikes_member", table_name="moderation_strikes")
    op.drop_table("moderation_strikes")
    op.drop_index("ix_moderation_reviews_status", table_name="moderation_reviews")
    op.drop_index("ix_moderation_reviews_member", table_name="moderation_reviews")
    op.drop_table("moderation_reviews")
    op.drop_table("moderation_lists")
    op.drop_index("ix_moderation_incidents_status", table_name="moderation_incidents")
    op.drop_table("moderation_incidents")
    op.drop_table("moderation_feedback")
