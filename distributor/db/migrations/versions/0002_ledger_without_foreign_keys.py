"""ledger without foreign keys; heap-only outcome updates

The deliveries ledger is written by one INSERT ... SELECT per issue and never loses the rows
it names (issues, batches, lists and subscribers are not deleted). Its four foreign keys cost
an index lookup and a row lock per recipient, and the (issue_id, status) index turned every
outcome update into four index insertions. On PostgreSQL the table also keeps 40% of each page
free, so that recording an outcome is a heap-only (HOT) update.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:48:04
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FOREIGN_KEYS = (
    ("fk_deliveries_issue_id_issues", "issues", "issue_id", "CASCADE"),
    ("fk_deliveries_batch_id_send_batches", "send_batches", "batch_id", "CASCADE"),
    ("fk_deliveries_subscriber_id_subscribers", "subscribers", "subscriber_id", "CASCADE"),
    ("fk_deliveries_list_id_lists", "lists", "list_id", "SET NULL"),
)


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_issue_status")
        for name, _, _, _ in _FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries SET (fillfactor = 60)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for name, table, column, on_delete in _FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete=on_delete)
        batch_op.create_index("ix_deliveries_issue_status", ["issue_id", "status"], unique=False)
