"""Issues: compose, preview, test send, schedule, watch the send, read the report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import Article, Issue, MailingList
from distributor.domain.addresses import email_problem
from distributor.domain.issues import EDITABLE_STATUSES, FINAL_STATUSES, IssueStatus
from distributor.domain.preflight import Preflight, moment_text, zone_or_utc
from distributor.i18n import gettext, ngettext, use_language
from distributor.rendering.email import EmailRenderError
from distributor.services import desk_queries
from distributor.services.issue_drafts import (
    duplicate_issue,
    move_issue_article,
    remove_issue_article,
    set_issue_articles,
    update_issue_content,
)
from distributor.services.issue_layouts import set_issue_layout
from distributor.services.issues import (
    EmbargoError,
    IssueError,
    cancel_issue,
    create_issue,
    is_held,
    issue_progress,
    pause_issue,
    preflight_issue,
    resume_issue,
    schedule_issue,
)
from distributor.services.rendering import (
    PUBLIC_ARCHIVE_STATUSES,
    IssueNotFoundError,
    preview_issue,
)
from distributor.services.reports import issue_report
from distributor.services.sending import start_issue_now
from distributor.web.auth import CsrfChecked, DbSession, EditorUser, app_settings
from distributor.web.templating import (
    N_,
    DeskHTTPException,
    DeskRoute,
    desk_language,
    flash,
    redirect,
    render,
    translate,
)

router = APIRouter(route_class=DeskRoute)

# A schedule this far in the past is read as "now" (the form was filled a minute ago).
PAST_GRACE = timedelta(minutes=10)
MAX_TEST_RECIPIENTS = 10
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Australia/Sydney",
)


def _issue_or_404(db: DbSession, issue_id: int) -> Issue:
    issue = db.get(Issue, issue_id)
    if issue is None:
        raise DeskHTTPException(
            404, N_("There is no issue %(id)s. Open the issue list and pick one."), {"id": issue_id}
        )
    return issue


def _int_list(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.strip().isdigit()]


# ------------------------------------------------------------------------------- listing
@router.get("/issues")
def issues_page(request: Request, *, db: DbSession, user: EditorUser, status: str = "") -> Response:
    """Every issue, newest first."""
    return render(
        request,
        "desk/issues.html.j2",
        {
            "nav": "issues",
            "issues": desk_queries.list_issues(db, status),
            "status": status,
            "statuses": [str(value) for value in IssueStatus],
        },
    )


@router.get("/issues/new")
def new_issue_page(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    article_id: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    """The first step of composing: the chosen stories, a subject and the lists."""
    ids = _int_list(article_id)
    if not ids:
        flash(
            request,
            N_("Tick at least one story in the list, then press “Create issue from selected”."),
            "warn",
        )
        return redirect(request, "/articles")
    return _new_issue_form(request, db, ids, {})


def _new_issue_form(
    request: Request,
    db: DbSession,
    ids: list[int],
    form: dict[str, Any],
    error: str | None = None,
) -> Response:
    rows = db.scalars(select(Article).where(Article.id.in_(ids)))
    found = {article.id: article for article in rows}
    articles = [found[article_id] for article_id in ids if article_id in found]
    lists = desk_queries.list_mailing_lists(db)
    open_lists = [mailing_list for mailing_list, _ in lists if mailing_list.archived_at is None]
    defaults = {
        "subject": articles[0].title if articles else "",
        "preheader": "",
        "editor_note": "",
        "greeting": False,
        "list_ids": [open_lists[0].id] if len(open_lists) == 1 else [],
    }
    defaults.update(form)
    return render(
        request,
        "desk/issue_new.html.j2",
        {
            "nav": "issues",
            "articles": articles,
            "lists": lists,
            "form": defaults,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post("/issues", dependencies=[CsrfChecked])
def create_issue_submit(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    article_id: Annotated[list[str], Form()] = [],  # noqa: B006
    list_id: Annotated[list[str], Form()] = [],  # noqa: B006
    subject: Annotated[str, Form()] = "",
    preheader: Annotated[str, Form()] = "",
    editor_note: Annotated[str, Form()] = "",
    greeting: Annotated[str, Form()] = "",
) -> Response:
    """Create the draft issue; the article list's button lands on the form first."""
    ids = _int_list(article_id)
    list_ids = _int_list(list_id)
    if not subject.strip() and not list_ids:
        # Came straight from the article list: show the composing form.
        if not ids:
            flash(
                request,
                N_("Tick at least one story, then press “Create issue from selected”."),
                "warn",
            )
            return redirect(request, "/articles")
        return _new_issue_form(request, db, ids, {})
    form = {
        "subject": subject,
        "preheader": preheader,
        "editor_note": editor_note,
        "greeting": bool(greeting),
        "list_ids": list_ids,
    }
    if not list_ids:
        return _new_issue_form(
            request,
            db,
            ids,
            form,
            translate(request, N_("Choose at least one list to send the issue to.")),
        )
    names = list(db.scalars(select(MailingList.name).where(MailingList.id.in_(list_ids))))
    try:
        issue = create_issue(db, names, subject, ids, preheader=preheader, editor_note=editor_note)
    except IssueError as exc:
        return _new_issue_form(
            request,
            db,
            ids,
            form,
            translate(request, N_("The issue was not created: %(reason)s."), {"reason": exc}),
        )
    issue.created_by = user.id
    issue.greeting = bool(greeting)
    flash(
        request,
        N_("Draft issue #%(id)s created. Check the preview, send a test, then schedule it."),
        params={"id": issue.id},
    )
    return redirect(request, f"/issues/{issue.id}")


@router.post("/issues/{issue_id}/duplicate", dependencies=[CsrfChecked])
def duplicate(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """A new draft with this issue's content, stories and open lists."""
    _issue_or_404(db, issue_id)
    try:
        copy = duplicate_issue(db, issue_id)
    except IssueError as exc:
        flash(request, N_("Not duplicated: %(reason)s."), "error", params={"reason": exc})
        return redirect(request, f"/issues/{issue_id}")
    copy.created_by = user.id
    flash(
        request,
        N_(
            "Draft issue #%(id)s is a copy of #%(original)s: change what you need, "
            "check the preview, then schedule it."
        ),
        params={"id": copy.id, "original": issue_id},
    )
    return redirect(request, f"/issues/{copy.id}")


# ---------------------------------------------------------------------------- the issue
@router.get("/issues/{issue_id}")
def issue_page(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """Compose, preview, test, schedule; while sending the progress; afterwards the report."""
    return _issue_view(request, db, issue_id)


def _issue_view(
    request: Request,
    db: DbSession,
    issue_id: int,
    *,
    preflight: dict[str, Any] | None = None,
    schedule_form: dict[str, str] | None = None,
    content_form: dict[str, Any] | None = None,
    test_addresses: str | None = None,
    status_code: int = 200,
) -> Response:
    """The issue page; after a schedule or send-now request also the pre-flight dialog, with
    the schedule fields as the editor typed them."""
    issue = _issue_or_404(db, issue_id)
    settings = app_settings(request)
    article_ids = [entry.article_id for entry in issue.articles]
    found = {a.id: a for a in db.scalars(select(Article).where(Article.id.in_(article_ids)))}
    articles = [found[article_id] for article_id in article_ids if article_id in found]
    chosen_lists = {entry.list_id for entry in issue.lists}
    progress = issue_progress(db, issue_id)
    report = None
    if issue.status in FINAL_STATUSES | {IssueStatus.SENDING, IssueStatus.PAUSED}:
        report = issue_report(db, issue_id, settings)
    with use_language(desk_language(request)):
        preview = _preview_facts(db, issue, settings)
    return render(
        request,
        "desk/issue.html.j2",
        {
            "nav": "issues",
            "issue": issue,
            "articles": articles,
            "warnings": {a.id: desk_queries.article_warnings(a) for a in articles},
            "lists": desk_queries.list_mailing_lists(db),
            "chosen_lists": chosen_lists,
            "editable": issue.status in EDITABLE_STATUSES,
            "progress": progress,
            "report": report,
            "preview": preview,
            "zones": sorted(available_timezones()),
            "common_zones": COMMON_ZONES,
            "schedule_defaults": schedule_form
            or _schedule_defaults(issue, settings.NEWSROOM_TIMEZONE),
            "can_test_send": True,
            "sender_kind": settings.sender_kind,
            "archive_url": (
                f"/archive/{issue.web_token}"
                if issue.web_token
                and issue.status in PUBLIC_ARCHIVE_STATUSES
                and not is_held(issue)
                else None
            ),
            "held": is_held(issue),
            "excerpt_ids": {entry.article_id for entry in issue.articles if entry.excerpt},
            "due": issue.status == IssueStatus.SCHEDULED
            and issue.send_at is not None
            and issue.send_at <= datetime.now(UTC),
            "preflight": preflight,
            "content_form": content_form
            or {
                "subject": issue.subject,
                "preheader": issue.preheader,
                "editor_note": issue.editor_note,
                "greeting": issue.greeting,
                "list_ids": chosen_lists,
            },
            "test_addresses": test_addresses,
            "greeting_example": _greeting_example(issue.language or "en"),
        },
        status_code=status_code,
    )


def _greeting_example(language: str) -> dict[str, str]:
    """The greeting's words in the issue's language, for the option's label."""
    from distributor.rendering.labels import labels_for

    labels = labels_for(language)
    return {
        "before": labels.greeting_before,
        "after": labels.greeting_after,
        "fallback": labels.fallback_first_name,
    }


def _preview_facts(db: DbSession, issue: Issue, settings: Settings) -> dict[str, Any]:
    """The plain text and the HTML size from the email renderer, or why there are none."""
    try:
        preview = preview_issue(db, settings, issue.id)
    except (EmailRenderError, IssueNotFoundError) as exc:
        return {
            "error": gettext(
                "The issue cannot be rendered: %(reason)s. Fix the story or the issue "
                "field named here, then reload this page."
            )
            % {"reason": exc}
        }
    return {
        "error": None,
        "text": preview.text,
        "size": preview.rendered.html_bytes,
        "budget": preview.budget_bytes,
        "over_budget": preview.rendered.over_budget,
        "warning": preview.warning,
    }


def _schedule_defaults(issue: Issue, newsroom_zone: str) -> dict[str, str]:
    zone = issue.schedule_timezone or newsroom_zone
    if issue.schedule_local and "T" in issue.schedule_local:
        day, clock = issue.schedule_local.split("T", 1)
        return {"date": day, "time": clock[:5], "zone": zone}
    soon = datetime.now(zone_or_utc(zone)) + timedelta(hours=1)
    return {"date": soon.strftime("%Y-%m-%d"), "time": soon.strftime("%H:00"), "zone": zone}


@router.post("/issues/{issue_id}/content", dependencies=[CsrfChecked])
def save_content(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    subject: Annotated[str, Form()] = "",
    preheader: Annotated[str, Form()] = "",
    editor_note: Annotated[str, Form()] = "",
    greeting: Annotated[str, Form()] = "",
    list_id: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save subject, preheader, editor's note, the greeting option and lists."""
    _issue_or_404(db, issue_id)
    try:
        update_issue_content(
            db,
            issue_id,
            subject=subject,
            preheader=preheader,
            editor_note=editor_note,
            list_ids=_int_list(list_id),
            greeting=bool(greeting),
        )
    except IssueError as exc:
        flash(
            request, N_("Not saved: %(reason)s."), "error", near="content", params={"reason": exc}
        )
        typed = {
            "subject": subject,
            "preheader": preheader,
            "editor_note": editor_note,
            "greeting": bool(greeting),
            "list_ids": set(_int_list(list_id)),
        }
        return _issue_view(request, db, issue_id, content_form=typed, status_code=400)
    flash(request, N_("Saved. The preview below shows the new version."), near="content")
    return redirect(request, f"/issues/{issue_id}#content")


@router.post("/issues/{issue_id}/layout", dependencies=[CsrfChecked])
def save_layout(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    layout: Annotated[str, Form()] = "excerpt",
    excerpt: Annotated[list[str], Form()] = [],  # noqa: B006
    fit: Annotated[str, Form()] = "",
) -> Response:
    """Choose excerpts or whole stories, the stories shown as excerpts, or fit to the budget."""
    _issue_or_404(db, issue_id)
    try:
        result = set_issue_layout(
            db,
            app_settings(request),
            issue_id,
            layout,
            # The per-story boxes belong to a full issue; switching to excerpts clears them.
            excerpt_article_ids=_int_list(excerpt) if layout == "full" else [],
            fit=bool(fit),
        )
    except (IssueError, EmailRenderError) as exc:
        flash(request, N_("Layout not changed: %(reason)s."), "error", params={"reason": exc})
        return redirect(request, f"/issues/{issue_id}#layout")
    if result.over_budget:
        flash(
            request,
            N_(
                "Layout saved, but the email is still over the size budget: Gmail would clip it. "
                "Show more stories as excerpts or remove one."
            ),
            "error",
        )
    elif result.fitted_article_ids:
        count = len(result.fitted_article_ids)
        with use_language(desk_language(request)):
            message = ngettext(
                "Layout saved: %(num)d of the longest stories now shows as an excerpt.",
                "Layout saved: %(num)d of the longest stories now show as excerpts.",
                count,
            ) % {"num": count}
        flash(request, message)
    else:
        flash(request, N_("Layout saved. The preview below shows the new version."))
    return redirect(request, f"/issues/{issue_id}#layout")


@router.post("/issues/{issue_id}/articles/{article_id}/move", dependencies=[CsrfChecked])
def move_article(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    article_id: int,
    direction: Annotated[str, Form()] = "down",
) -> Response:
    """Move a story up or down."""
    try:
        move_issue_article(db, issue_id, article_id, -1 if direction == "up" else 1)
    except IssueError as exc:
        flash(
            request, N_("Not moved: %(reason)s."), "error", near="stories", params={"reason": exc}
        )
    return redirect(request, f"/issues/{issue_id}#stories")


@router.post("/issues/{issue_id}/articles/{article_id}/remove", dependencies=[CsrfChecked])
def remove_article(
    request: Request, *, db: DbSession, user: EditorUser, issue_id: int, article_id: int
) -> Response:
    """Take a story out of the issue."""
    try:
        remove_issue_article(db, issue_id, article_id)
    except IssueError as exc:
        flash(
            request, N_("Not removed: %(reason)s."), "error", near="stories", params={"reason": exc}
        )
    else:
        flash(request, N_("Story removed from the issue."), near="stories")
    return redirect(request, f"/issues/{issue_id}#stories")


@router.post("/issues/{issue_id}/articles", dependencies=[CsrfChecked])
def set_order(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    order: Annotated[str, Form()] = "",
) -> Response:
    """Set the stories and their order from a list of article numbers (``3, 1, 2``)."""
    parts = [part for part in re.split(r"[\s,;]+", order) if part]
    not_numbers = [part for part in parts if not part.lstrip("#").isdigit()]
    try:
        if not_numbers:
            raise IssueError(
                translate(
                    request,
                    N_(
                        "“%(value)s” is not an article number; use the numbers shown beside "
                        "the stories, separated by commas"
                    ),
                    {"value": not_numbers[0]},
                )
            )
        set_issue_articles(db, issue_id, [int(part.lstrip("#")) for part in parts])
    except IssueError as exc:
        flash(
            request,
            N_("Order not changed: %(reason)s."),
            "error",
            near="stories",
            params={"reason": exc},
        )
    else:
        flash(request, N_("Stories updated."), near="stories")
    return redirect(request, f"/issues/{issue_id}#stories")


@router.post("/issues/{issue_id}/test-send", dependencies=[CsrfChecked])
def send_test(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    addresses: Annotated[str, Form()] = "",
) -> Response:
    """Send the issue as it is now to a few addresses (marked as a test).

    A refused test shows the page again with the addresses as the editor typed them.
    """
    _issue_or_404(db, issue_id)

    def refused(message: str, params: dict[str, Any] | None = None) -> Response:
        flash(request, message, "error", near="test", params=params)
        return _issue_view(request, db, issue_id, test_addresses=addresses, status_code=400)

    wanted = [part for part in re.split(r"[\s,;]+", addresses) if part]
    bad = [address for address in wanted if email_problem(address) is not None]
    if bad:
        return refused(
            N_(
                "These are not email addresses: %(addresses)s. "
                "Separate addresses with commas or new lines."
            ),
            {"addresses": ", ".join(bad)},
        )
    if not wanted:
        return refused(
            N_("Enter at least one address. Separate addresses with commas or new lines.")
        )
    if len(wanted) > MAX_TEST_RECIPIENTS:
        return refused(
            N_("A test goes to at most %(max)s addresses; use a list for more."),
            {"max": MAX_TEST_RECIPIENTS},
        )
    from distributor.adapters.email_base import DeliveryError, email_sender_for
    from distributor.services.sending import send_test_copies

    settings = app_settings(request)
    sender = email_sender_for(settings)
    try:
        send_test_copies(db, settings, sender, issue_id, wanted)
    except (IssueError, ValueError) as exc:
        return refused(N_("Test not sent: %(reason)s."), {"reason": exc})
    except DeliveryError as exc:
        return refused(
            N_(
                "The email provider refused the test: %(reason)s. Check the sender "
                "settings (SENDGRID_API_KEY or SMTP_URL) and try again."
            ),
            {"reason": exc},
        )
    finally:
        sender.close()
    flash(
        request,
        N_(
            "Test sent to %(addresses)s. It arrives within a minute; "
            "the subject starts with [TEST]."
        ),
        near="test",
        params={"addresses": ", ".join(wanted)},
    )
    return redirect(request, f"/issues/{issue_id}#test")


@router.post("/issues/{issue_id}/schedule", dependencies=[CsrfChecked])
def schedule(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    issue_id: int,
    send_date: Annotated[str, Form()] = "",
    send_time: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    now: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Schedule or reschedule at a wall-clock time in a zone (or send now), in two steps.

    The first press shows the pre-flight dialog (recipients, embargoes, warnings); only its
    confirm button (``confirm=1``) schedules or sends. Embargoes refuse the send whatever is
    confirmed. On any error the page keeps the date, time and zone the editor typed.
    """
    issue = _issue_or_404(db, issue_id)
    was = issue.status
    settings = app_settings(request)
    zone = timezone.strip() or settings.NEWSROOM_TIMEZONE
    typed = {"date": send_date.strip(), "time": send_time.strip()[:5], "zone": zone}
    moment = datetime.now(UTC).replace(microsecond=0)
    try:
        send_at: datetime | None = None
        if not now:
            if not send_date or not send_time:
                raise IssueError(translate(request, N_("give both a date and a time")))
            send_at = schedule_preview(f"{typed['date']}T{typed['time']}", zone)
            if send_at < moment - PAST_GRACE:
                raise IssueError(
                    translate(
                        request,
                        N_(
                            "%(date)s %(time)s %(zone)s has already passed; "
                            "pick a later time or press “Send now”"
                        ),
                        {"date": send_date, "time": send_time, "zone": timezone},
                    )
                )
        verdict = preflight_issue(
            db, settings, issue_id, send_at=send_at, timezone=zone, now=moment
        )
        if verdict.may_send and confirm:
            if now:
                start_issue_now(db, issue_id, now=moment)
            else:
                schedule_issue(db, issue_id, f"{typed['date']}T{typed['time']}", zone)
    except EmbargoError as exc:
        verdict = exc.verdict
    except IssueError as exc:
        flash(
            request,
            N_("Not sent: %(reason)s.") if now else N_("Not scheduled: %(reason)s."),
            "error",
            near="schedule",
            params={"reason": exc},
        )
        return _issue_view(request, db, issue_id, schedule_form=typed, status_code=400)
    if not verdict.may_send or not confirm:
        return _issue_view(
            request,
            db,
            issue_id,
            preflight=_preflight_view(verdict, typed, send_now=bool(now)),
            schedule_form=typed,
            status_code=200 if verdict.may_send else 409,
        )
    count = verdict.recipients
    if now:
        with use_language(desk_language(request)):
            message = ngettext(
                "Sending… issue #%(id)s is going out to %(num)d recipient now.",
                "Sending… issue #%(id)s is going out to %(num)d recipients now.",
                count,
            ) % {"id": issue_id, "num": count}
        flash(request, message)
        return redirect(request, f"/issues/{issue_id}")
    refreshed = _issue_or_404(db, issue_id)
    rescheduled = was == IssueStatus.SCHEDULED
    with use_language(desk_language(request)):
        if refreshed.send_at:
            when = {
                "num": count,
                "utc": f"{refreshed.send_at:%Y-%m-%d %H:%M}",
                "local": refreshed.schedule_local,
                "zone": refreshed.schedule_timezone,
            }
            if rescheduled:
                message = ngettext(
                    "Rescheduled: it goes out to %(num)d recipient at %(utc)s UTC"
                    " (%(local)s %(zone)s).",
                    "Rescheduled: it goes out to %(num)d recipients at %(utc)s UTC"
                    " (%(local)s %(zone)s).",
                    count,
                )
            else:
                message = ngettext(
                    "Scheduled: it goes out to %(num)d recipient at %(utc)s UTC"
                    " (%(local)s %(zone)s).",
                    "Scheduled: it goes out to %(num)d recipients at %(utc)s UTC"
                    " (%(local)s %(zone)s).",
                    count,
                )
            message %= when
        else:
            message = gettext("Rescheduled.") if rescheduled else gettext("Scheduled.")
    flash(request, message)
    return redirect(request, f"/issues/{issue_id}")


def _preflight_view(verdict: Preflight, typed: dict[str, str], *, send_now: bool) -> dict[str, Any]:
    """What the pre-flight dialog shows, and the fields its buttons post again."""
    earliest = None
    if verdict.earliest_allowed is not None:
        local = verdict.earliest_allowed.astimezone(zone_or_utc(verdict.timezone))
        earliest = {
            "text": moment_text(verdict.earliest_allowed, verdict.timezone),
            "date": f"{local:%Y-%m-%d}",
            "time": f"{local:%H:%M}",
            "zone": zone_or_utc(verdict.timezone).key,
        }
    return {
        "verdict": verdict,
        "send_now": send_now,
        "when": verdict.when_text(),
        "moment": "" if send_now else moment_text(verdict.send_at, verdict.timezone),
        "earliest": earliest,
        "form": typed,
    }


def schedule_preview(local: str, zone: str) -> datetime:
    """The UTC instant of ``local`` in ``zone``, with the scheduler's error messages."""
    from distributor.domain.issues import ScheduleError, parse_schedule

    try:
        moment, _ = parse_schedule(local, zone)
    except ScheduleError as exc:
        raise IssueError(str(exc)) from None
    return moment


@router.post("/issues/{issue_id}/cancel", dependencies=[CsrfChecked])
def cancel(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """Cancel a draft or scheduled issue."""
    try:
        cancel_issue(db, issue_id)
    except IssueError as exc:
        flash(request, N_("Not cancelled: %(reason)s."), "error", params={"reason": exc})
    else:
        flash(request, N_("The issue is cancelled; nothing will be sent."))
    return redirect(request, f"/issues/{issue_id}")


@router.post("/issues/{issue_id}/pause", dependencies=[CsrfChecked])
def pause(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """Pause a send in progress."""
    try:
        pause_issue(db, issue_id, f"paused by {user.email}")
    except IssueError as exc:
        flash(request, N_("Not paused: %(reason)s."), "error", params={"reason": exc})
    else:
        flash(
            request,
            N_("Paused. Batches already with the provider finish; press Resume to continue."),
        )
    return redirect(request, f"/issues/{issue_id}")


@router.post("/issues/{issue_id}/resume", dependencies=[CsrfChecked])
def resume(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """Resume a paused send where it stopped."""
    try:
        resume_issue(db, issue_id)
    except IssueError as exc:
        flash(request, N_("Not resumed: %(reason)s."), "error", params={"reason": exc})
    else:
        flash(request, N_("Resumed."))
    return redirect(request, f"/issues/{issue_id}")


@router.get("/issues/{issue_id}/progress")
def progress(request: Request, *, db: DbSession, user: EditorUser, issue_id: int) -> Response:
    """Live counts for the progress view (JSON, polled by desk.js)."""
    _issue_or_404(db, issue_id)
    data = issue_progress(db, issue_id)
    data["remaining"] = data.get("pending", 0)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})
