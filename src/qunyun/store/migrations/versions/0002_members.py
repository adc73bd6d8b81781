"""members: daily rollup, interaction edges, activity scores, valuable posts, profiles

Revision ID: 0002_members
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_members"
down_revision = "0001_foundation"
branch_labels = ("members",)
depends_on = None

def _key() -> list[sa.Column]:
    return [
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    counters = [
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
        "joins",
        "leaves",
    ]
    op.create_table(
        "member_daily",
        *_key(),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in counters],
        sa.Column("first_minute", sa.BigInteger(), nullable=True),
        sa.Column("last_minute", sa.BigInteger(), nullable=True),
        sa.Column("points", sa.Float(), nullable=False, server_default="0"),
        sa.Column("last_spoke", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "group_id", "user_id", "day", name="pk_member_daily"),
    )
    op.create_index("ix_member_daily_group_day", "member_daily", ["platform", "group_id", "day"])
    op.create_index("ix_member_daily_user", "member_daily", ["platform", "user_id", "day"])
    op.create_table(
        "member_edges",
        *_key(),
        sa.Column("src", sa.String(128), nullable=False),
        sa.Column("dst", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mentions", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("platform", "group_id", "src", "dst", "day", name="pk_member_edges"),
    )
    op.create_index("ix_member_edges_group_day", "member_edges", ["platform", "group_id", "day"])
    op.create_table(
        "member_scores",
        *_key(),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("score_active", sa.Float(), nullable=False, server_default="0"),
        sa.Column("anchor_day", sa.Date(), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "group_id", "user_id", name="pk_member_scores"),
    )
    op.create_index("ix_member_scores_dirty", "member_scores", ["dirty"])
    op.create_table(
        "valuable_posts",
        *_key(),
        sa.Column("message_id", sa.String(191), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("flagged_by", sa.String(128), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "group_id", "message_id", name="pk_valuable_posts"),
    )
    op.create_table(
        "member_profiles",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("industry", sa.String(64), nullable=True),
        sa.Column("needs", sa.String(255), nullable=True),
        sa.Column("motivations", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("intro_text", sa.Text(), nullable=True),
        sa.Column("intro_group_id", sa.String(128), nullable=True),
        sa.Column("intro_message_id", sa.String(191), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "user_id", name="pk_member_profiles"),
    )


def downgrade() -> None:
    for name in ("member_profiles", "valuable_posts", "member_scores", "member_edges", "member_daily"):
        op.drop_table(name)
