"""tiers: chains, review plans, moves

Revision ID: 0003_tiers
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tiers"
down_revision = "0001_foundation"
branch_labels = ("tiers",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tier_chains",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_tier_chains"),
    )
    op.create_table(
        "tier_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("reference", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tier_plans"),
    )
    op.create_index("ix_tier_plans_chain", "tier_plans", ["chain"])
    op.create_table(
        "tier_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(255), nullable=True),
        sa.Column("from_group", sa.String(128), nullable=False),
        sa.Column("to_group", sa.String(128), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("activity", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("dropped", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("keep_old", sa.Boolean(), nullable=False),
        sa.Column("remove_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["tier_plans.id"], name="fk_tier_moves_plan_id_tier_plans", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tier_moves"),
    )
    op.create_index("ix_tier_moves_plan", "tier_moves", ["plan_id"])
    op.create_index("ix_tier_moves_remove", "tier_moves", ["status", "remove_after"])


def downgrade() -> None:
    op.drop_table("tier_moves")
    op.drop_table("tier_plans")
    op.drop_table("tier_chains")
