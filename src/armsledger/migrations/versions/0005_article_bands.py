"""The band keys of each article's MinHash signature, indexed: writers find a new text's
wire copies with one query instead of holding every signature in memory.

Articles stored before this revision get their keys from their stored signatures the
first time a writer searches for copies (``Register.iter_unbanded``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates the table if it is missing, as the revisions before do with theirs."""
    if sa.inspect(op.get_bind()).has_table("article_bands"):
        return
    op.create_table(
        "article_bands",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("band", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "band", "article_id"),
    )


def downgrade() -> None:
    op.drop_table("article_bands")
