"""A fresh database migrated only up to an older revision, for migration tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for
from tests.conftest import POSTGRES_ADMIN_URL, _port_open, require_service


@contextmanager
def database_at(kind: str, revision: str, folder: Path) -> Iterator[str]:
    """A new SQLite file in ``folder`` or a new PostgreSQL database (dropped after), migrated to
    ``revision`` only; yields its URL."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'old.db'}"
        upgrade(url, revision)
        yield url
        return
    require_service(_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    name = f"distributor_m{revision}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url, revision)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
