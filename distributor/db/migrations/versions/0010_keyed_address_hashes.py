"""keyed address hashes; provider event payloads can be scrubbed

* ``subscribers.email_hash``, ``suppressions.email_hash`` and ``provider_events.email_hash``
  held an unkeyed SHA-256 of the address, which anyone with the database could check a
  guessed address against. Each becomes HMAC-SHA256(key, old value) — the same value
  :class:`distributor.domain.subscribers.AddressHasher` computes from the address — keyed with
  the service's address hash key (``ADDRESS_HASH_KEY``, else derived from ``SECRET_KEY``), so
  every suppression, erased reader and event keeps matching. Run it with the same settings
  as the service.
* Bounce texts in ``suppressions.detail`` lose the addresses they quote.
* ``provider_events.scrubbed_at``: when a payload lost its personal data (retention period
  over, or the reader erased). Events of readers erased before this revision are scrubbed now.

The downgrade drops the column and the indexes; the keyed hashes cannot be turned back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:10:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

import distributor.db.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_CHUNK = 10_000


def upgrade() -> None:
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scrubbed_at", distributor.db.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_provider_events_email_hash", ["email_hash"], unique=False)
        batch_op.create_index(
            "ix_provider_events_unscrubbed", ["received_at", "scrubbed_at"], unique=False
        )
    connection = op.get_bind()
    for table in ("subscribers", "suppressions", "provider_events"):
        _rekey(connection, table)
    _strip_addresses_from_details(connection)
    _scrub_events_of_erased(connection)


def _rekey(connection: sa.Connection, table: str) -> None:
    """Replace each unkeyed hash by its keyed form, in chunks (keyset over the id)."""
    from distributor.services.suppression import address_hasher

    hasher = None
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                f"SELECT id, email_hash FROM {table}"  # noqa: S608 - fixed table names
                " WHERE id > :last AND email_hash IS NOT NULL ORDER BY id LIMIT :size"
            ),
            {"last": last, "size": _CHUNK},
        ).all()
        if not rows:
            return
        hasher = hasher or address_hasher()
        connection.execute(
            sa.text(f"UPDATE {table} SET email_hash = :new WHERE id = :id"),  # noqa: S608
            [{"id": row_id, "new": hasher.of_digest(old)} for row_id, old in rows],
        )
        last = rows[-1][0]


def _strip_addresses_from_details(connection: sa.Connection) -> None:
    from distributor.domain.subscribers import without_addresses

    rows = connection.execute(
        sa.text("SELECT id, detail FROM suppressions WHERE detail LIKE '%@%'")
    ).all()
    if rows:
        connection.execute(
            sa.text("UPDATE suppressions SET detail = :detail WHERE id = :id"),
            [{"id": row_id, "detail": without_addresses(detail)} for row_id, detail in rows],
        )


def _scrub_events_of_erased(connection: sa.Connection) -> None:
    from distributor.services.provider_events import scrubbed_payload

    rows = connection.execute(
        sa.text(
            "SELECT id, payload FROM provider_events WHERE email_hash IN"
            " (SELECT email_hash FROM subscribers WHERE status = 'erased'"
            "  UNION SELECT email_hash FROM suppressions WHERE reason = 'erased')"
        )
    ).all()
    if not rows:
        return
    now = distributor.db.models.utcnow()
    updates: list[dict[str, Any]] = []
    for row_id, payload in rows:
        value = json.loads(payload) if isinstance(payload, str) else (payload or {})
        updates.append({"id": row_id, "payload": scrubbed_payload(value), "now": now})
    statement = sa.text(
        "UPDATE provider_events SET payload = :payload, email_hash = NULL, scrubbed_at = :now"
        " WHERE id = :id"
    ).bindparams(
        sa.bindparam("payload", type_=sa.JSON()),
        sa.bindparam("now", type_=distributor.db.models.UTCDateTime(timezone=True)),
    )
    connection.execute(statement, updates)


def downgrade() -> None:
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_events_unscrubbed")
        batch_op.drop_index("ix_provider_events_email_hash")
        batch_op.drop_column("scrubbed_at")
