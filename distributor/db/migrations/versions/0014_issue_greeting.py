"""an issue's greeting is an explicit option

``issues.greeting``: whether the editor's note opens with "Dear {first name}," (the reader's
name, or the language's word for a reader). Off for every issue, old and new, until an editor
turns it on: the greeting used to be added to every note without the editor seeing it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("greeting", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("greeting")
