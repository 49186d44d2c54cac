"""``/api/v1/issues``: create, edit, check, schedule, send, pause, resume, cancel, report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from distributor.domain.issues import ScheduleError, parse_schedule
from distributor.services.issue_drafts import set_issue_articles, update_issue_content
from distributor.services.issues import (
    IssueError,
    cancel_issue,
    create_issue,
    get_issue,
    issue_progress,
    list_issues,
    pause_issue,
    preflight_issue,
    resume_issue,
    schedule_issue,
)
from distributor.services.reports import issue_report
from distributor.services.sending import start_issue_now
from distributor.web.auth import DbSession, app_settings
from distributor.web.routes.api_v1.common import ApiCaller, answer, refuse

router = APIRouter(prefix="/issues", tags=["issues"])


class NewIssue(BaseModel):
    lists: list[str] = Field(min_length=1, description="List names.")
    subject: str
    article_ids: list[int] = Field(min_length=1, description="Stories, in order.")
    preheader: str = ""
    editor_note: str = ""


class IssueChanges(BaseModel):
    subject: str | None = None
    preheader: str | None = None
    editor_note: str | None = None
    list_ids: list[int] | None = None
    article_ids: list[int] | None = None


class Dispatch(BaseModel):
    at: str | None = Field(None, description="ISO 8601 wall time, e.g. 2026-12-01T08:00.")
    timezone: str | None = Field(None, description="IANA zone, e.g. Europe/London.")
    confirm: bool = Field(
        False,
        description="Confirm the pre-flight warnings. Without it, an issue with warnings is "
        "answered 409 with the pre-flight; embargoes block whatever this says.",
    )


def _issue_or_404(db: Any, issue_id: int) -> None:
    try:
        get_issue(db, issue_id)
    except IssueError:
        refuse(404, f"there is no issue {issue_id}")


def _checked(verdict: Any, confirm: bool) -> None:
    if not verdict.may_send:
        refuse(422, verdict.refusal(), preflight=verdict.as_dict())
    if verdict.warnings and not confirm:
        refuse(
            409,
            f"issue {verdict.issue_id} has {len(verdict.warnings)} warning(s): send again with "
            '"confirm": true to go ahead',
            preflight=verdict.as_dict(),
        )


@router.get("")
def issues_index(
    caller: ApiCaller, db: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> JSONResponse:
    """Issues, newest first."""
    return answer({"issues": list_issues(db, limit=limit)})


@router.post("", status_code=201)
def issue_create(body: NewIssue, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """A draft issue from stories, for lists."""
    try:
        issue = create_issue(
            db,
            body.lists,
            body.subject,
            body.article_ids,
            preheader=body.preheader,
            editor_note=body.editor_note,
        )
    except IssueError as exc:
        refuse(422, str(exc))
    return answer(issue_progress(db, issue.id), 201)


@router.get("/{issue_id}")
def issue_show(issue_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """One issue's state and progress."""
    _issue_or_404(db, issue_id)
    return answer(issue_progress(db, issue_id))


@router.patch("/{issue_id}")
def issue_edit(issue_id: int, body: IssueChanges, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Change the subject, preheader, note, lists or stories of a draft or scheduled issue."""
    _issue_or_404(db, issue_id)
    issue = get_issue(db, issue_id)
    try:
        if {"subject", "preheader", "editor_note", "list_ids"} & body.model_fields_set:
            update_issue_content(
                db,
                issue_id,
                subject=body.subject if body.subject is not None else issue.subject,
                preheader=body.preheader if body.preheader is not None else issue.preheader,
                editor_note=(
                    body.editor_note if body.editor_note is not None else issue.editor_note
                ),
                list_ids=(
                    body.list_ids
                    if body.list_ids is not None
                    else [entry.list_id for entry in issue.lists]
                ),
            )
        if body.article_ids is not None:
            set_issue_articles(db, issue_id, body.article_ids)
    except IssueError as exc:
        refuse(422, str(exc))
    return answer(issue_progress(db, issue_id))


@router.get("/{issue_id}/preflight")
def issue_preflight(
    *,
    request: Request,
    issue_id: int,
    caller: ApiCaller,
    db: DbSession,
    at: str | None = None,
    timezone: str | None = None,
) -> JSONResponse:
    """Recipients and open problems for a send now (or at ``at`` in ``timezone``)."""
    _issue_or_404(db, issue_id)
    try:
        send_at, zone = parse_schedule(at, timezone) if at else (None, timezone)
        verdict = preflight_issue(
            db, app_settings(request), issue_id, send_at=send_at, timezone=zone
        )
    except (IssueError, ScheduleError, ValueError) as exc:
        refuse(422, str(exc))
    return answer(verdict.as_dict())


@router.post("/{issue_id}/schedule")
def issue_schedule(
    request: Request, issue_id: int, body: Dispatch, caller: ApiCaller, db: DbSession
) -> JSONResponse:
    """Schedule at a wall time in a zone, after the pre-flight (see ``confirm``)."""
    _issue_or_404(db, issue_id)
    if not body.at:
        refuse(422, 'give "at": an ISO 8601 time such as 2026-12-01T08:00')
    try:
        send_at, zone = parse_schedule(body.at, body.timezone)
        verdict = preflight_issue(
            db, app_settings(request), issue_id, send_at=send_at, timezone=zone
        )
        _checked(verdict, body.confirm)
        schedule_issue(db, issue_id, body.at, body.timezone)
    except (IssueError, ScheduleError, ValueError) as exc:
        refuse(422, str(exc))
    return answer({**issue_progress(db, issue_id), "preflight": verdict.as_dict()})


@router.post("/{issue_id}/send")
def issue_send_now(
    request: Request, issue_id: int, body: Dispatch, caller: ApiCaller, db: DbSession
) -> JSONResponse:
    """Send now, after the pre-flight (see ``confirm``): the dispatcher starts it at once."""
    _issue_or_404(db, issue_id)
    try:
        verdict = preflight_issue(db, app_settings(request), issue_id, timezone=body.timezone)
        _checked(verdict, body.confirm)
        start_issue_now(db, issue_id)
    except IssueError as exc:
        refuse(422, str(exc))
    return answer({**issue_progress(db, issue_id), "preflight": verdict.as_dict()}, 202)


TRANSITIONS: dict[str, Callable[[Any, int], Any]] = {
    "pause": pause_issue,
    "resume": resume_issue,
    "cancel": cancel_issue,
}


def _simple(verb: str, issue_id: int, db: Any) -> JSONResponse:
    _issue_or_404(db, issue_id)
    try:
        TRANSITIONS[verb](db, issue_id)
    except IssueError as exc:
        refuse(409, str(exc))
    return answer(issue_progress(db, issue_id))


@router.post("/{issue_id}/pause")
def issue_pause(issue_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Stop a sending issue (batches in flight finish)."""
    return _simple("pause", issue_id, db)


@router.post("/{issue_id}/resume")
def issue_resume(issue_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Resume a paused or held issue."""
    return _simple("resume", issue_id, db)


@router.post("/{issue_id}/cancel")
def issue_cancel(issue_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Cancel an issue that has not started."""
    return _simple("cancel", issue_id, db)


@router.get("/{issue_id}/report")
def issue_report_view(
    request: Request, issue_id: int, caller: ApiCaller, db: DbSession
) -> JSONResponse:
    """Delivered, bounced, complained, unsubscribed, ... counts of a sent issue."""
    _issue_or_404(db, issue_id)
    return answer(issue_report(db, issue_id, app_settings(request)))
