"""Deals whose facts changed since their row was last merged: ``ingest`` and ``batch``
mark the deals they touch here and merge them every few seconds and at the end of a run,
rather than merging each deal's facts again at every write.

A register made before this revision has every deal merged already: the table starts
empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates the table if it is missing, as the revisions before do with theirs."""
    if sa.inspect(op.get_bind()).has_table("stale_deals"):
        return
    op.create_table(
        "stale_deals",
        sa.Column("deal_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("deal_id"),
    )


def downgrade() -> None:
    op.drop_table("stale_deals")
