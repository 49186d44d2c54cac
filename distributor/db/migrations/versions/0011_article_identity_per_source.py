"""one story, one identity: (source, GUID)

* ``sources.kind``: ``feed`` (every source registered so far), ``api`` or ``desk``. The
  built-in sources ``api`` (``POST /api/articles``) and ``desk`` (stories put in by hand)
  are rows like any other, named by a fixed ``distributor:`` address in ``url``; the service
  creates them when first needed.
* ``articles.source_id`` is required, and ``(source_id, guid)`` is unique instead of ``guid``:
  the same GUID from another source is another story, never a revision of this one.
  Articles stored without a source (the command line, the API and the demo did not record
  one) are given the built-in ``desk`` source: nothing recorded which of them came through
  the API, and the command line and the demo were the usual ways in.
* ``articles.guid_is_feed_id``: the GUID (an absolute http(s) URL) is the story's feed id.
  True for every stored article whose GUID is such a URL, as before this revision; other
  stories get a minted ``tag:`` id in the feeds from now on.

On SQLite the ``articles`` table is rebuilt (batch mode) with foreign keys off; ``env.py``
checks them (``PRAGMA foreign_key_check``) before the migration commits.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DESK_URL = "distributor:desk"
_CHUNK = 1000


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="feed")
        )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM articles WHERE source_id IS NULL")).first():
        desk = _desk_source(connection)
        connection.execute(
            sa.text("UPDATE articles SET source_id = :desk WHERE source_id IS NULL"),
            {"desk": desk},
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("guid_is_feed_id", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint("uq_articles_guid", type_="unique")
        batch_op.drop_constraint("fk_articles_source_id_sources", type_="foreignkey")
        batch_op.alter_column(
            "source_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
        batch_op.create_foreign_key(
            "fk_articles_source_id_sources", "sources", ["source_id"], ["id"]
        )
        batch_op.create_unique_constraint("uq_articles_source_id", ["source_id", "guid"])
        batch_op.create_index("ix_articles_guid", ["guid"], unique=False)
    # GUIDs were unique until now: each http(s) one keeps being its story's feed id.
    rows = connection.execute(
        sa.text("SELECT id, guid FROM articles WHERE lower(guid) LIKE 'http%'")
    ).all()
    ids = [{"id": row_id} for row_id, guid in rows if _is_http_url(guid)]
    for start in range(0, len(ids), _CHUNK):
        connection.execute(
            sa.text("UPDATE articles SET guid_is_feed_id = :yes WHERE id = :id"),
            [{**item, "yes": True} for item in ids[start : start + _CHUNK]],
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("guid_is_feed_id", server_default=None)


def _is_http_url(guid: str) -> bool:
    """The rule of ``domain.articles.is_http_guid`` as it was when this revision was written."""
    text = guid.strip()
    if not text.isascii() or any(character.isspace() for character in text):
        return False
    parts = urlsplit(text)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _desk_source(connection: sa.Connection) -> int:
    """The id of the built-in desk source, created if missing."""
    found = connection.execute(
        sa.text("SELECT id FROM sources WHERE url = :url"), {"url": DESK_URL}
    ).scalar()
    if found is not None:
        return int(found)
    connection.execute(
        sa.text(
            "INSERT INTO sources (url, kind, name, interval_seconds, active,"
            " consecutive_failures, created_at)"
            " VALUES (:url, 'desk', 'desk', 900, :no, 0, :now)"
        ),
        {"url": DESK_URL, "no": False, "now": datetime.now(UTC).replace(tzinfo=None)},
    )
    return int(
        connection.execute(
            sa.text("SELECT id FROM sources WHERE url = :url"), {"url": DESK_URL}
        ).scalar_one()
    )


def downgrade() -> None:
    # Refused rather than lossy: two stories may now share a GUID (from two sources).
    connection = op.get_bind()
    shared = connection.execute(
        sa.text("SELECT guid FROM articles GROUP BY guid HAVING COUNT(*) > 1")
    ).first()
    if shared is not None:
        raise RuntimeError(
            f"cannot downgrade below 0011: GUID {shared[0]!r} belongs to several stories"
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_guid")
        batch_op.drop_constraint("uq_articles_source_id", type_="unique")
        batch_op.drop_constraint("fk_articles_source_id_sources", type_="foreignkey")
        batch_op.alter_column(
            "source_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )
        batch_op.create_foreign_key(
            "fk_articles_source_id_sources",
            "sources",
            ["source_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint("uq_articles_guid", ["guid"])
        batch_op.drop_column("guid_is_feed_id")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("kind")
