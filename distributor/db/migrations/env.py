"""Alembic environment: the URL comes from the caller's config (see distributor.db.migrate).

On SQLite, foreign keys are off while migrations run and checked before they commit. A batch
migration rebuilds a table (copy, drop, rename); with foreign keys on, dropping a parent table
would delete, through ``ON DELETE CASCADE``, every child row that points at it (bylines,
images, revisions) or fail on the ones that do not cascade. SQLite ignores the pragma inside
a transaction, so it is set before the migrations' transaction begins.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, pool

from distributor.db.models import Base
from distributor.db.session import engine_for

config = context.config
target_metadata = Base.metadata


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows that point at nothing (SQLite ``PRAGMA foreign_key_check``)."""


def _check_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        shown = ", ".join(
            f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in problems
        )
        raise ForeignKeyViolationError(f"migration broke foreign keys: {shown[:2000]}")


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = engine_for(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    _ = pool


run_migrations_online()
