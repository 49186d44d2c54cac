"""list visibility; when an address last got a confirmation email

``lists.visibility``: ``public`` (a signup page, offered on every reader's preferences page)
or ``private`` (shown only to its members, joined only through an operator). Lists that exist
when this migration runs become **private**: nothing says which of them were meant for the
public, and showing an internal list to every reader is the worse mistake. Make the public
ones public again with ``distributor lists update NAME --visibility public``. New lists are
public unless created with ``--visibility private``.

``subscribers.confirmation_sent_at``: when the last double opt-in confirmation went to the
address; the next one waits for ``CONFIRMATION_COOLDOWN_SECONDS``.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import distributor.db.models

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=10), nullable=False, server_default="private")
        )
    # The server default only fills the existing rows; new rows get the model's default.
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.alter_column("visibility", server_default=None)
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirmation_sent_at",
                distributor.db.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("confirmation_sent_at")
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.drop_column("visibility")
