"""The FastAPI application: editor desk, JSON API, public pages, feeds and webhooks.

Routers live in ``distributor.web.routes.<area>`` and call services only.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from distributor.config import Settings, get_settings
from distributor.metrics import HTTP_LATENCY
from distributor.services.suppression import use_address_key
from distributor.web.edge import install_edge
from distributor.web.routes.public import public_error_page, public_server_error_page

log = logging.getLogger("distributor.web")


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"


class HeadAsGetMiddleware:
    """Answer ``HEAD`` as the same ``GET`` would, headers included, without the body.

    FastAPI registers GET routes for GET only; browsers, link checkers and uptime probes send
    HEAD. The app below sees a GET; the server still knows it answers a HEAD.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class RequestMetricsMiddleware:
    """Time every HTTP request into ``distributor_http_request_duration_seconds``, labelled
    with the route's template (``/feeds/{name}``), never the path a client sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            HTTP_LATENCY.labels(
                scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)


def _favicon() -> Response:
    """The desk's icon at the address browsers ask for unprompted."""
    return Response(
        FAVICON.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# Route modules, in the order their routes are matched. Each exposes ``router``.
ROUTE_MODULES = (
    "health",
    "articles_api",
    "api_v1",
    "schedules_api",
    "email_preview",
    "feeds",
    "public",
    "newsletters",
    "webhooks",
    "metrics",
    "desk",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Distributor",
        version="0.1.0",
        # The schema maps every route: published only when API_DOCS is on.
        docs_url="/api/docs" if settings.API_DOCS else None,
        openapi_url="/openapi.json" if settings.API_DOCS else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(RequestMetricsMiddleware)  # innermost: it sees the matched route
    app.add_middleware(HeadAsGetMiddleware)
    install_edge(app, settings)
    # Errors on the reader pages' paths are reader pages in the reader's language.
    app.add_exception_handler(StarletteHTTPException, public_error_page)
    app.add_exception_handler(500, public_server_error_page)
    use_address_key(settings)
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"distributor.web.routes.{name}")
        app.include_router(module.router)
    app.add_api_route("/favicon.ico", _favicon, methods=["GET"], include_in_schema=False)
    return app
