"""ledger written in chunks: progress columns on issues

The ledger of an issue is written in chunks in subscriber order, each in its own transaction,
so the first batches are sent while the rest is written. ``ledger_after`` is the last
subscriber id written, ``ledger_done`` says the ledger is complete (an issue is never finished
before), ``ledger_touched_at`` when its writer last made progress. Issues that already exist
have complete ledgers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from distributor.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ledger_after", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("ledger_done", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("ledger_touched_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("ledger_touched_at")
        batch_op.drop_column("ledger_done")
        batch_op.drop_column("ledger_after")
