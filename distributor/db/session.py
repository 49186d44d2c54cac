"""Engines and units of work. One engine per process and URL; sessions are short-lived."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, configure_mappers, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a worker writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def warm_up_orm() -> None:
    """Configure every ORM mapper now (a one-off of about 40 ms per process that SQLAlchemy
    otherwise does on the first query): called once when a worker starts."""
    from distributor.db import models  # noqa: F401 - registers the mappers

    configure_mappers()


def json_text(value: Any) -> str:
    """The text SQLite stores for a JSON column: ``json.dumps(value)``, SQLAlchemy's default,
    with the empty list (most list columns of most ingested rows) answered without building
    an encoder for it."""
    if type(value) is list and not value:
        return "[]"
    return json.dumps(value)


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds readers' addresses);
    SQLite gives its -wal and -shm files the same mode."""
    if path.exists() or str(path).startswith("file:"):
        return
    with suppress(FileExistsError):  # another process created it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """The process-wide engine for ``url`` (SQLite files get their folder created)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(path))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=json_text,
            # Errors would otherwise quote every bound value: addresses, embargoed bodies.
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True
    )


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    """A sessionmaker bound to the engine for ``url``."""
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
