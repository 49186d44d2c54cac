"""Alembic environment: the URL comes from the caller's config (see distributor.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from distributor.db.models import Base
from distributor.db.session import engine_for

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = engine_for(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    _ = pool


run_migrations_online()
