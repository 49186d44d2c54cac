"""Sources: the CMS feeds the desk polls, their health, and adding, pausing and removing them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from distributor.adapters.safe_http import AddressPolicy, UnsafeURLError, check_url
from distributor.db.models import Source
from distributor.domain.sources import SourceKind
from distributor.i18n import _
from distributor.services.ingest import MIN_INTERVAL_SECONDS, SourceError, add_source, list_sources
from distributor.services.sources import (
    pause_source,
    remove_source,
    resume_source,
    source_health,
)
from distributor.web.auth import CsrfChecked, DbSession, EditorUser, app_settings
from distributor.web.desk_words import in_desk_language
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


def _duration(seconds: int) -> str:
    """``900`` → ``15 min``, ``7200`` → ``2 h``, for people."""
    if seconds % 3600 == 0:
        return _("%(count)s h") % {"count": seconds // 3600}
    if seconds % 60 == 0:
        return _("%(count)s min") % {"count": seconds // 60}
    return _("%(count)s s") % {"count": seconds}


def _page(
    request: Request, db: DbSession, *, form: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    rows = [(source, source_health(db, source)) for source in list_sources(db)]
    return render(
        request,
        "desk/sources.html.j2",
        {
            "nav": "sources",
            "sources": rows,
            "duration": _duration,
            "form": form or {"interval": "15"},
            "min_minutes": MIN_INTERVAL_SECONDS // 60,
        },
        status_code=status_code,
    )


@router.get("/sources")
@in_desk_language
def sources_page(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """Every polled feed with its last and next poll, errors and back-off; a form to add one."""
    return _page(request, db)


@router.post("/sources", dependencies=[CsrfChecked])
@in_desk_language
def add_source_submit(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    url: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    interval: Annotated[str, Form()] = "15",
) -> Response:
    """Register a feed to poll every ``interval`` minutes; it is polled at the next tick."""
    typed = {"url": url, "name": name, "interval": interval}
    try:
        minutes = int(interval.strip())
    except ValueError:
        minutes = 0
    try:
        if minutes * 60 < MIN_INTERVAL_SECONDS:
            raise SourceError(
                _("“%(interval)s” is not a polling interval: give whole minutes, at least %(min)s")
                % {"interval": interval, "min": MIN_INTERVAL_SECONDS // 60}
            )
        address = check_url(
            url.strip(), AddressPolicy.from_settings(app_settings(request)), what="feed URL"
        )
        source = add_source(
            db, address, interval_seconds=minutes * 60, name=name.strip(), now=datetime.now(UTC)
        )
    except (SourceError, UnsafeURLError) as exc:
        flash(request, _("Not added: %(reason)s.") % {"reason": exc}, "error", near="add-source")
        return _page(request, db, form=typed, status_code=400)
    flash(
        request,
        _("Added %(url)s: polled every %(interval)s, first within a minute.")
        % {"url": source.url, "interval": _duration(source.interval_seconds)},
        near=f"source-{source.id}",
    )
    return redirect(request, f"/sources#source-{source.id}")


def _feed_or_404(db: DbSession, source_id: int) -> Source:
    source = db.get(Source, source_id)
    if source is None or source.kind != SourceKind.FEED.value:
        raise HTTPException(
            404, _("There is no feed %(id)s; it may have been removed.") % {"id": source_id}
        )
    return source


@router.post("/sources/{source_id}/pause", dependencies=[CsrfChecked])
@in_desk_language
def pause(request: Request, *, db: DbSession, user: EditorUser, source_id: int) -> Response:
    """Stop polling a feed until it is resumed."""
    source = pause_source(db, str(_feed_or_404(db, source_id).id))
    flash(request, _("Paused: not polled until you resume it."), near=f"source-{source.id}")
    return redirect(request, f"/sources#source-{source.id}")


@router.post("/sources/{source_id}/resume", dependencies=[CsrfChecked])
@in_desk_language
def resume(request: Request, *, db: DbSession, user: EditorUser, source_id: int) -> Response:
    """Poll a paused or failing feed again now."""
    source = resume_source(db, str(_feed_or_404(db, source_id).id))
    flash(request, _("Resumed: polled within a minute."), near=f"source-{source.id}")
    return redirect(request, f"/sources#source-{source.id}")


@router.post("/sources/{source_id}/remove", dependencies=[CsrfChecked])
@in_desk_language
def remove(request: Request, *, db: DbSession, user: EditorUser, source_id: int) -> Response:
    """Forget a feed that brought no story."""
    source = _feed_or_404(db, source_id)
    try:
        address = remove_source(db, str(source.id))
    except SourceError as exc:
        flash(
            request,
            _("Not removed: %(reason)s.") % {"reason": exc},
            "error",
            near=f"source-{source.id}",
        )
        return redirect(request, f"/sources#source-{source.id}")
    flash(request, _("Removed %(url)s.") % {"url": address})
    return redirect(request, "/sources")
