"""recurring schedules, their occurrences, desk notifications

``schedules``: a recurring issue (cron in an IANA zone, list, mode, layout, filters).
``schedule_occurrences``: one row per time a schedule fired; UNIQUE(schedule_id, occurs_at)
makes each occurrence happen once, however many schedulers run.
``desk_notifications``: emails to the desk users about an issue, stored with the event and
mailed afterwards; UNIQUE(kind, issue_id, event_key) records each event once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 23:49:28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import distributor.db.models


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("list_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("layout", sa.String(length=10), nullable=False),
        sa.Column("min_stories", sa.Integer(), nullable=False),
        sa.Column("max_stories", sa.Integer(), nullable=False),
        sa.Column("subject_template", sa.String(length=500), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=True),
        sa.Column("tag", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column(
            "active_since", distributor.db.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["lists.id"], name=op.f("fk_schedules_list_id_lists")),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_schedules_source_id_sources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_table(
        "desk_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_key", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", distributor.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_desk_notifications_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_notifications")),
        sa.UniqueConstraint(
            "kind", "issue_id", "event_key", name=op.f("uq_desk_notifications_kind")
        ),
    )
    with op.batch_alter_table("desk_notifications", schema=None) as batch_op:
        batch_op.create_index("ix_desk_notifications_status", ["status"], unique=False)

    op.create_table(
        "schedule_occurrences",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "schedule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("occurs_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", distributor.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_schedule_occurrences_issue_id_issues"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_occurrences_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_occurrences")),
        sa.UniqueConstraint(
            "schedule_id", "occurs_at", name=op.f("uq_schedule_occurrences_schedule_id")
        ),
    )
    with op.batch_alter_table("schedule_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_occurrences_issue_id"), ["issue_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("schedule_occurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_occurrences_issue_id"))

    op.drop_table("schedule_occurrences")
    with op.batch_alter_table("desk_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_desk_notifications_status")

    op.drop_table("desk_notifications")
    op.drop_table("schedules")
