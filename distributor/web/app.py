"""The FastAPI application: editor desk, JSON API, public pages, feeds and webhooks.

Routers live in ``distributor.web.routes.<area>`` and call services only.
"""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from distributor.config import Settings, get_settings
from distributor.services.suppression import use_address_key
from distributor.web.edge import install_edge

log = logging.getLogger("distributor.web")


# Route modules, in the order their routes are matched. Each exposes ``router``.
ROUTE_MODULES = (
    "health",
    "articles_api",
    "email_preview",
    "feeds",
    "public",
    "webhooks",
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
    install_edge(app, settings)
    use_address_key(settings)
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"distributor.web.routes.{name}")
        app.include_router(module.router)
    return app
