"""The desk's home page: what needs an editor now (see :mod:`distributor.services.dashboard`)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from distributor.services.dashboard import dashboard
from distributor.web.auth import DbSession, EditorUser
from distributor.web.templating import N_, DeskRoute, redirect, render

router = APIRouter(route_class=DeskRoute)

# Said by services/dashboard.py; the home page shows it in the desk's language.
N_("no reason recorded")


@router.get("/")
def home(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """Next scheduled issues, sends in progress, last reports, stories and feeds to fix."""
    if request.query_params:
        # The article list used to live here: its searches and bookmarks still work.
        return redirect(request, "/articles?" + urlencode(list(request.query_params.multi_items())))
    return render(
        request,
        "desk/home.html.j2",
        {"nav": "home", "board": dashboard(db, datetime.now(UTC))},
    )
