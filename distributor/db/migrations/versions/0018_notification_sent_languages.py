"""desk notifications remember which languages have gone out

* ``desk_notifications.sent_languages``: the languages whose message was sent; a retry after a
  temporary failure sends only the other languages, so no editor is told twice.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 04:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_notifications") as batch:
        batch.add_column(
            sa.Column("sent_languages", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("desk_notifications") as batch:
        batch.drop_column("sent_languages")
