"""lists can be archived

``lists.archived_at``: an archived list takes no new readers (signup, preferences, import,
``subscribers add``) and cannot be the audience of a new or scheduled issue. Members, their
history and past issues stay; unarchiving restores the list as it was.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import distributor.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "archived_at", distributor.db.models.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
