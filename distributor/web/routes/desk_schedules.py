"""Recurring schedules in the desk: the list with each schedule's next and last occurrence,
a form to add one, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from distributor.i18n import _
from distributor.services import desk_queries
from distributor.services.schedules import (
    ScheduleError,
    create_schedule,
    list_schedules,
    pause_schedule,
    resume_schedule,
    schedule_data,
)
from distributor.web.auth import CsrfChecked, DbSession, EditorUser, app_settings
from distributor.web.desk_words import in_desk_language
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


def _page(
    request: Request, db: DbSession, form: dict[str, Any], error: str | None = None
) -> Response:
    rows = [schedule_data(db, item, history=1) for item in list_schedules(db)]
    lists = [
        mailing_list
        for mailing_list, _ in desk_queries.list_mailing_lists(db)
        if mailing_list.archived_at is None
    ]
    return render(
        request,
        "desk/schedules.html.j2",
        {"nav": "schedules", "schedules": rows, "lists": lists, "form": form, "error": error},
        status_code=400 if error else 200,
    )


@router.get("/schedules")
@in_desk_language
def schedules_page(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """Every schedule and the form to add one."""
    zone = app_settings(request).NEWSROOM_TIMEZONE
    return _page(request, db, {"timezone": zone, "min_stories": 1, "max_stories": 10})


@router.post("/schedules", dependencies=[CsrfChecked])
@in_desk_language
def add_schedule(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    name: Annotated[str, Form()] = "",
    list_name: Annotated[str, Form(alias="list")] = "",
    cron: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "draft",
    layout: Annotated[str, Form()] = "excerpt",
    min_stories: Annotated[str, Form()] = "1",
    max_stories: Annotated[str, Form()] = "10",
    subject: Annotated[str, Form()] = "",
    section: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
) -> Response:
    """Create a schedule; the form comes back with the reason when it is refused."""
    form = {
        "name": name,
        "list": list_name,
        "cron": cron,
        "timezone": timezone,
        "mode": mode,
        "layout": layout,
        "min_stories": min_stories,
        "max_stories": max_stories,
        "subject": subject,
        "section": section,
        "tag": tag,
        "language": language,
        "source": source,
    }
    try:
        limits = (
            _whole_number("--min-stories", min_stories),
            _whole_number("--max-stories", max_stories),
        )
        create_schedule(
            db,
            name,
            list_name=list_name,
            cron=cron,
            timezone=timezone,
            mode=mode,
            layout=layout,
            min_stories=limits[0],
            max_stories=limits[1],
            subject=subject or None,
            section=section,
            tag=tag,
            language=language,
            source=source or None,
        )
    except ScheduleError as error:
        db.rollback()
        return _page(
            request,
            db,
            form,
            _("Schedule not created: %(reason)s") % {"reason": _desk_words(str(error))},
        )
    flash(request, _("Schedule %(name)s created.") % {"name": name.strip()})
    return redirect(request, "/schedules")


def _whole_number(option: str, text: str) -> int:
    if not text.strip().isdigit():
        raise ScheduleError(
            _("%(option)s %(value)s: give a whole number") % {"option": option, "value": repr(text)}
        )
    return int(text.strip())


def _desk_words(message: str) -> str:
    """The service names command-line options; the desk form labels say the same thing."""
    for option, label in (
        ("--min-stories", _("At least")),
        ("--max-stories", _("At most")),
        ("--timezone", _("Time zone")),
        ("--cron", _("Cron")),
        ("--subject", _("Subject")),
        ("--list", _("List")),
        ("--mode", _("Mode")),
        ("--layout", _("Layout")),
        ("--source", _("Source")),
    ):
        message = message.replace(option, label)
    return message


@router.post("/schedules/{name}/pause", dependencies=[CsrfChecked])
@in_desk_language
def pause(request: Request, *, db: DbSession, user: EditorUser, name: str) -> Response:
    """Pause a schedule."""
    try:
        pause_schedule(db, name)
    except ScheduleError as error:
        flash(request, str(error), "error")
    else:
        flash(
            request,
            _("Schedule %(name)s paused: it makes no issue until resumed.") % {"name": name},
        )
    return redirect(request, "/schedules")


@router.post("/schedules/{name}/resume", dependencies=[CsrfChecked])
@in_desk_language
def resume(request: Request, *, db: DbSession, user: EditorUser, name: str) -> Response:
    """Resume a schedule from its next occurrence."""
    try:
        resume_schedule(db, name)
    except ScheduleError as error:
        flash(request, str(error), "error")
    else:
        flash(request, _("Schedule %(name)s resumed from its next occurrence.") % {"name": name})
    return redirect(request, "/schedules")
