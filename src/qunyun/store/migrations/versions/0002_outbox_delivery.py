"""Outbox delivery confirmation: look rows up by the platform's message id.

When the platform echoes our own message back (OneBot ``message_sent``), the outbox row whose
``external_id`` is that message id becomes ``confirmed``; this index keeps that look-up cheap.

Revision ID: 0002_outbox_delivery
Revises: 0001_foundation
"""

from __future__ import annotations

from alembic import op

revision = "0002_outbox_delivery"
down_revision = "0001_foundation"
branch_labels = ("outbox_delivery",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_platform_external", "outbox", ["platform", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_platform_external", table_name="outbox")
