"""Baseline: the register as it stood before migrations (schema version 1, with the
``feed_state`` and ``reviews`` tables that were created on opening).

Creates only the tables that are missing, with their indexes, so that a register made by
an older armsledger is brought here unchanged.

Revision ID: 0001
Revises:
Create Date: 2026-11-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(bind: sa.engine.Connection, table: str) -> bool:
    return not sa.inspect(bind).has_table(table)


def upgrade() -> None:
    bind = op.get_bind()
    if _missing(bind, "articles"):
        op.create_table(
            "articles",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("outlet", sa.Text(), nullable=True),
            sa.Column("date", sa.Date(), nullable=True),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("language", sa.Text(), nullable=True),
            sa.Column("source", sa.Text(), nullable=True),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("relevant", sa.Boolean(), nullable=False),
            sa.Column("extractor", sa.Text(), nullable=True),
            sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("content_hash"),
        )
        op.create_index(op.f("ix_articles_date"), "articles", ["date"], unique=False)
        op.create_index(op.f("ix_articles_name"), "articles", ["name"], unique=False)
    if _missing(bind, "deals"):
        op.create_table(
            "deals",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("supplier", sa.Text(), nullable=True),
            sa.Column("recipient", sa.Text(), nullable=True),
            sa.Column("system", sa.Text(), nullable=True),
            sa.Column("lot", sa.Integer(), nullable=False),
            sa.Column("stage", sa.Text(), nullable=True),
            sa.Column("first_seen", sa.Date(), nullable=True),
            sa.Column("last_seen", sa.Date(), nullable=True),
            sa.Column("quantity_count", sa.BigInteger(), nullable=True),
            sa.Column("quantity_unit", sa.Text(), nullable=True),
            sa.Column("value_amount", sa.Double(), nullable=True),
            sa.Column("value_currency", sa.Text(), nullable=True),
            sa.Column("value_approximate", sa.Boolean(), nullable=True),
            sa.Column("n_facts", sa.Integer(), nullable=False),
            sa.Column("n_articles", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_deals_key", "deals", ["supplier", "recipient", "system"], unique=False)
        op.create_index(op.f("ix_deals_last_seen"), "deals", ["last_seen"], unique=False)
    if _missing(bind, "feed_state"):
        op.create_table(
            "feed_state",
            sa.Column("url", sa.Text(), nullable=False),
            sa.Column("etag", sa.Text(), nullable=True),
            sa.Column("last_modified", sa.Text(), nullable=True),
            sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_status", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("url"),
        )
    if _missing(bind, "register_info"):
        op.create_table(
            "register_info",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
    if _missing(bind, "rejects"):
        op.create_table(
            "rejects",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("source", sa.Text(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if _missing(bind, "reviews"):
        op.create_table(
            "reviews",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("action", sa.Text(), nullable=False),
            sa.Column("by", sa.Text(), nullable=False),
            sa.Column("why", sa.Text(), nullable=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("article", sa.Text(), nullable=False),
            sa.Column("supplier", sa.Text(), nullable=True),
            sa.Column("recipient", sa.Text(), nullable=True),
            sa.Column("system", sa.Text(), nullable=True),
            sa.Column("stage", sa.Text(), nullable=False),
            sa.Column("lot", sa.Integer(), nullable=False),
            sa.Column("changes", sa.Text(), nullable=True),
            sa.Column("fact_id", sa.Integer(), nullable=True),
            sa.Column("deal_id", sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_reviews_article"), "reviews", ["article"], unique=False)
    if _missing(bind, "article_signatures"):
        op.create_table(
            "article_signatures",
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.Column("minhash", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("article_id"),
        )
    if _missing(bind, "article_sources"):
        op.create_table(
            "article_sources",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("locator", sa.Text(), nullable=False),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("outlet", sa.Text(), nullable=True),
            sa.Column("date", sa.Date(), nullable=True),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("source", sa.Text(), nullable=True),
            sa.Column("similarity", sa.Double(), nullable=False),
            sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("content_hash", "locator", name="uq_article_sources_copy"),
        )
        op.create_index(
            op.f("ix_article_sources_article_id"), "article_sources", ["article_id"], unique=False
        )
    if _missing(bind, "facts"):
        op.create_table(
            "facts",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.Column("deal_id", sa.String(length=64), nullable=False),
            sa.Column("supplier", sa.Text(), nullable=True),
            sa.Column("recipient", sa.Text(), nullable=True),
            sa.Column("system", sa.Text(), nullable=True),
            sa.Column("stage", sa.Text(), nullable=False),
            sa.Column("modality", sa.Text(), nullable=False),
            sa.Column("lot", sa.Integer(), nullable=True),
            sa.Column("quantity_count", sa.BigInteger(), nullable=True),
            sa.Column("quantity_unit", sa.Text(), nullable=True),
            sa.Column("value_amount", sa.Double(), nullable=True),
            sa.Column("value_currency", sa.Text(), nullable=True),
            sa.Column("value_approximate", sa.Boolean(), nullable=True),
            sa.Column("speaker", sa.Text(), nullable=True),
            sa.Column("evidence", sa.Text(), nullable=False),
            sa.Column("evidence_start", sa.Integer(), nullable=False),
            sa.Column("evidence_end", sa.Integer(), nullable=False),
            sa.Column("optional", sa.Boolean(), nullable=False),
            sa.Column("extractor", sa.Text(), nullable=False),
            sa.CheckConstraint(
                "modality IN ('asserted', 'planned', 'conditional', 'possible', 'denied')",
                name="ck_facts_modality",
            ),
            sa.CheckConstraint(
                (
                    "stage IN ('interest', 'offer', 'negotiation', 'approval', 'agreement', "
                    "'contract', 'delivery', 'delivered', 'training', 'servicing', "
                    "'production', 'cancelled')"
                ),
                name="ck_facts_stage",
            ),
            sa.CheckConstraint(
                "(quantity_count IS NULL) = (quantity_unit IS NULL)", name="ck_facts_quantity"
            ),
            sa.CheckConstraint(
                "(value_amount IS NULL) = (value_currency IS NULL)", name="ck_facts_value"
            ),
            sa.CheckConstraint("0 <= evidence_start AND evidence_start <= evidence_end"),
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_facts_article_id"), "facts", ["article_id"], unique=False)
        op.create_index(op.f("ix_facts_deal_id"), "facts", ["deal_id"], unique=False)
        op.create_index(
            "ix_facts_key", "facts", ["supplier", "recipient", "system", "stage"], unique=False
        )
    if _missing(bind, "fact_spans"):
        op.create_table(
            "fact_spans",
            sa.Column("fact_id", sa.Integer(), nullable=False),
            sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("evidence", sa.Text(), nullable=False),
            sa.Column("evidence_start", sa.Integer(), nullable=False),
            sa.Column("evidence_end", sa.Integer(), nullable=False),
            sa.CheckConstraint("0 <= evidence_start AND evidence_start <= evidence_end"),
            sa.ForeignKeyConstraint(["fact_id"], ["facts.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("fact_id", "position"),
        )


def downgrade() -> None:
    for table in (
        "fact_spans",
        "facts",
        "article_sources",
        "article_signatures",
        "reviews",
        "rejects",
        "register_info",
        "feed_state",
        "deals",
        "articles",
    ):
        op.drop_table(table)
