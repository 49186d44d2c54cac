"""The versioned JSON API, ``/api/v1``: everything the desk does, for scripts and other tools.

Every request carries a personal API token (``Authorization: Bearer dtok_…``), created and
revoked by its user in the desk or with ``distributor tokens create EMAIL``; a token acts as its
user, with that user's role (administrators alone reach partners, erasure and the audit log).
Changes are recorded in the audit log as the user, through the token. Errors answer
``{"detail": {"error": "…"}}``. The OpenAPI document is at ``/api/v1/openapi.json`` for any
valid token; the interactive documentation at ``/api/docs`` only with ``API_DOCS`` on.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from distributor.web.routes.api_v1 import account, audience, catalogue, issues, partners
from distributor.web.routes.api_v1.common import ApiCaller, api_caller
from distributor.web.routes.schedules_api import schedule_routes

VERSION = "1"
OPENAPI_PATH = "/api/v1/openapi.json"
router = APIRouter(prefix="/api/v1")
for module in (account, issues, audience, catalogue, partners):
    router.include_router(module.router)
router.include_router(schedule_routes("/schedules", api_caller))


@cache
def _openapi() -> dict[str, Any]:
    document = get_openapi(
        title="Distributor API",
        version=VERSION,
        description=__doc__ or "",
        routes=[
            route for route in router.routes if getattr(route, "path", "") != "/api/v1/openapi.json"
        ],
    )
    document["components"] = {
        **document.get("components", {}),
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
    }
    document["security"] = [{"token": []}]
    return document


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(caller: ApiCaller) -> JSONResponse:
    """The OpenAPI 3 document of this API (any valid token)."""
    return JSONResponse(_openapi())
