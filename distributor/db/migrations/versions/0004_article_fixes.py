"""editors' corrections kept across CMS revisions

``article_fixes`` records each correction made at the desk (image caption, credit or alt text;
the story's notes) with the CMS's value it replaced, so that a later revision from the CMS
that still carries that value gets the correction again instead of silently losing it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import distributor.db.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_fixes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column(
            "created_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_fixes_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_fixes")),
        sa.UniqueConstraint(
            "article_id", "field", "target", name=op.f("uq_article_fixes_article_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("article_fixes")
