"""Liveness and readiness probes."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from distributor.config import Settings
from distributor.db.session import engine_for

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


# How long the write probe waits for the write lock: a readiness probe must answer quickly.
WRITE_PROBE_SECONDS = 0.5


def _check_database(settings: Settings) -> str | None:
    """None when the database answers and can take a write now, else why not."""
    try:
        engine = engine_for(settings.database_url)
        if engine.dialect.name == "sqlite":
            return _probe_sqlite_write(engine.url.database)
        with engine.connect() as connection:
            connection.execute(
                text(f"SET LOCAL statement_timeout = {int(WRITE_PROBE_SECONDS * 1000)}")
            )
            if connection.scalar(text("SHOW transaction_read_only")) == "on":
                return "the database is read-only: it cannot take a write"
            connection.rollback()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _probe_sqlite_write(path: str | None) -> str | None:
    """Take SQLite's write lock and let it go at once (nothing is written).

    A reader-only check says "ready" while another connection holds the write lock and every
    signup, unsubscribe and sign-in fails; this probe notices that within a short wait.
    """
    if not path or path == ":memory:":
        return None
    connection = sqlite3.connect(path, timeout=WRITE_PROBE_SECONDS, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return f"the database cannot take a write within {WRITE_PROBE_SECONDS:g} s: {exc}"
    finally:
        connection.close()
    return None


def _check_broker(settings: Settings) -> str | None:
    if settings.embedded:
        return None
    import redis

    try:
        client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers and can take a write and, unless embedded, the broker answers."""
    settings: Settings = request.app.state.settings
    checks: dict[str, Any] = {
        "database": _check_database(settings) or "ok",
        "broker": "embedded" if settings.embedded else (_check_broker(settings) or "ok"),
    }
    ready = all(value in ("ok", "embedded") for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
