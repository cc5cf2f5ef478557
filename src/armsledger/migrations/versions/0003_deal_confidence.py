"""A deal's confidence and number of contradictions, kept with its summary row so that a
list of deals shows and sorts by them without merging every deal's facts again.

Rows written before this revision keep NULL in both until their deal is merged again
(``POST /api/rebuild`` or ``Register.rebuild_deals()`` merges every deal). Meanwhile a list
merges those deals from their facts as it reads them, so what it shows is right, only
slower; sorting by the two columns puts them last until then.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds the columns that are missing (as ``0001`` creates only missing tables)."""
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("deals")}
    wanted = [
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("n_contradictions", sa.Integer(), nullable=True),
    ]
    missing = [column for column in wanted if column.name not in present]
    if missing:
        with op.batch_alter_table("deals") as table:
            for column in missing:
                table.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("deals") as table:
        table.drop_column("n_contradictions")
        table.drop_column("confidence")
