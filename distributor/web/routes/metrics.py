"""``GET /metrics``: Prometheus text format, behind a bearer token (``METRICS_TOKEN``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.metrics import (
    CONTENT_TYPE,
    DatabaseCollector,
    exposition,
    redis_queue_depths,
)

router = APIRouter(tags=["operations"])


def _collector(request: Request) -> DatabaseCollector:
    collector: DatabaseCollector | None = getattr(request.app.state, "metrics_collector", None)
    if collector is None:
        settings: Settings = request.app.state.settings
        depths = None
        if not settings.embedded:
            from workers.celery_app import QUEUES

            depths = redis_queue_depths(settings.broker_url, QUEUES)
        collector = DatabaseCollector(lambda: unit_of_work(settings.database_url), depths)
        request.app.state.metrics_collector = collector
    return collector


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every figure of :mod:`distributor.metrics`; 404 when no ``METRICS_TOKEN`` is set."""
    settings: Settings = request.app.state.settings
    if not settings.METRICS_TOKEN:
        return JSONResponse({"error": "not found"}, status_code=404)
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), settings.METRICS_TOKEN.encode()
    ):
        return JSONResponse(
            {"error": "send the metrics token as Authorization: Bearer <METRICS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    body = await run_in_threadpool(exposition, _collector(request))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
