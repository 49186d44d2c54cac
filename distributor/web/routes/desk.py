"""The editor's desk: server-rendered pages for editors and administrators.

Each part lives in its own module (``desk_*.py``) and is included here; every page but
sign-in and the static files needs a signed-in user (see :mod:`distributor.web.auth`).
"""

from __future__ import annotations

from fastapi import APIRouter

from distributor.web.routes import (
    desk_account,
    desk_admin,
    desk_articles,
    desk_auth,
    desk_home,
    desk_issues,
    desk_partners,
    desk_schedules,
    desk_sources,
    desk_subscribers,
)

router = APIRouter(tags=["desk"], include_in_schema=False)
for module in (
    desk_auth,
    desk_home,
    desk_articles,
    desk_issues,
    desk_schedules,
    desk_subscribers,
    desk_sources,
    desk_partners,
    desk_admin,
    desk_account,
):
    router.include_router(module.router)
