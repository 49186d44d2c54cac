"""issue layouts; the welcome email of a list and who got it

* ``issues.layout``: ``excerpt`` (the layout every issue had so far: opening paragraphs and a
  "Continue reading" link) or ``full`` (whole stories). Existing issues are ``excerpt``.
* ``issue_articles.excerpt``: one story's own layout in its issue (True: excerpt, False: the
  whole story, NULL: the issue's layout).
* ``lists.welcome_markdown``: the welcome email a reader gets once their subscription is
  active (Markdown); NULL: the list sends none.
* ``welcome_deliveries``: one row per (list, reader) the welcome email went to; the unique
  constraint is what makes it once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import distributor.db.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("layout", sa.String(length=10), nullable=False, server_default="excerpt")
        )
    # The server default only fills the existing rows; new rows get the model's default.
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.alter_column("layout", server_default=None)
        batch_op.create_check_constraint("layout", "layout IN ('full', 'excerpt')")
    with op.batch_alter_table("issue_articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.Boolean(), nullable=True))
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcome_markdown", sa.Text(), nullable=True))
    op.create_table(
        "welcome_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("list_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subscriber_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", distributor.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["lists.id"],
            name=op.f("fk_welcome_deliveries_list_id_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_welcome_deliveries_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welcome_deliveries")),
        sa.UniqueConstraint("list_id", "subscriber_id", name=op.f("uq_welcome_deliveries_list_id")),
    )
    with op.batch_alter_table("welcome_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_welcome_deliveries_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("welcome_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welcome_deliveries_subscriber_id"))
    op.drop_table("welcome_deliveries")
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.drop_column("welcome_markdown")
    with op.batch_alter_table("issue_articles", schema=None) as batch_op:
        batch_op.drop_column("excerpt")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_issues_layout"), type_="check")
        batch_op.drop_column("layout")
