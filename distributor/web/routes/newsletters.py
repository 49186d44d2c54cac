"""The public archive of each public list: ``/newsletters/{list}`` (its sent issues, newest first,
with a signup form) and ``/newsletters/{list}/feed.atom``. Private and unknown lists: 404.

The page speaks the list's language (see :mod:`distributor.web.routes.public`): its words, its
dates and numbers (Babel); the feed is in the list's language too (``xml:lang``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.rendering.feeds.newsletter_atom import CONTENT_TYPE, render_newsletter_atom
from distributor.services.newsletter_archive import (
    FEED_ISSUES,
    ArchiveNotFoundError,
    newsletter_archive,
)
from distributor.web.routes.public import list_page_language, no_such_newsletter, public_page

router = APIRouter(tags=["public"])

# Readers and feed readers may cache a few minutes; an embargo lifts within that time.
_CACHE = {"Cache-Control": "public, max-age=300"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/newsletters/{list_name}", response_class=HTMLResponse)
def newsletter_index(request: Request, list_name: str) -> Response:
    """A public list's sent issues (subject, date, story titles) and its signup form."""
    settings = _settings(request)
    with unit_of_work(settings.database_url) as session:
        try:
            archive = newsletter_archive(session, settings, list_name)
        except ArchiveNotFoundError:
            return no_such_newsletter(request)
    return public_page(
        request,
        "newsletter.html.j2",
        {
            "archive": archive,
            "list_name": archive.name,
            "email": "",
            "error": None,
        },
        headers=_CACHE,
        language=list_page_language(request, archive.language),
    )


@router.get("/newsletters/{list_name}/feed.atom")
def newsletter_feed(request: Request, list_name: str) -> Response:
    """The Atom feed (RFC 4287) of a public list's sent issues, newest first."""
    settings = _settings(request)
    with unit_of_work(settings.database_url) as session:
        try:
            archive = newsletter_archive(session, settings, list_name, limit=FEED_ISSUES)
        except ArchiveNotFoundError:
            return Response(
                f"There is no public newsletter named {list_name!r}.\n",
                status_code=404,
                media_type="text/plain; charset=utf-8",
            )
    body = render_newsletter_atom(
        archive, publisher_name=settings.PUBLISHER_NAME, publisher_url=settings.PUBLISHER_URL
    )
    return Response(body, media_type=CONTENT_TYPE, headers=_CACHE)
