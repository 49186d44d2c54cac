"""desk users' interface language

* ``users.language``: the BCP 47 tag of the language a desk user reads the desk and the desk's
  emails in (``zh-Hant``, ``fa``...); NULL follows the browser's ``Accept-Language``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
