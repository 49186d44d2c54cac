"""Liveness and readiness probes."""

from __future__ import annotations

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


def _check_database(settings: Settings) -> str | None:
    try:
        with engine_for(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
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
    """The database answers and, unless embedded, the broker answers."""
    settings: Settings = request.app.state.settings
    checks: dict[str, Any] = {
        "database": _check_database(settings) or "ok",
        "broker": "embedded" if settings.embedded else (_check_broker(settings) or "ok"),
    }
    ready = all(value in ("ok", "embedded") for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
