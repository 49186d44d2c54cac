"""Issue use cases: create, pre-flight, schedule, cancel, pause, resume, and progress.

Every state change is a move of :data:`~distributor.domain.issues.ISSUE_TRANSITIONS`, applied
as a compare-and-set UPDATE by :mod:`distributor.services.transitions`: two editors, or an
editor and the dispatcher, racing on the same issue cannot both win.

No issue is scheduled or started earlier than the latest embargo among its stories; the
dispatcher checks again when the issue is due and *holds* it (paused, never started, with the
reason) when an embargo moved in the meantime. A held issue can be rescheduled, resumed once
the embargo has passed, or cancelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import (
    Article,
    Delivery,
    Issue,
    IssueArticle,
    IssueList,
    MailingList,
    SendBatch,
    Subscriber,
    Subscription,
    Suppression,
)
from distributor.domain.header_text import line_break_problem
from distributor.domain.issues import (
    FINAL_STATUSES,
    ISSUE_TRANSITIONS,
    BatchEvent,
    DeliveryStatus,
    IssueEvent,
    IssueLayout,
    IssueState,
    IssueStatus,
    parse_layout,
    parse_schedule,
)
from distributor.domain.preflight import (
    ImageFacts,
    ListFacts,
    Preflight,
    SendPlan,
    StoryFacts,
    earliest_send_time,
    embargo_problems,
    preflight,
)
from distributor.services import audit
from distributor.services.transitions import move, move_all


class IssueError(ValueError):
    """An issue action that cannot be done (unknown id, wrong state, bad input)."""


class EmbargoError(IssueError):
    """The issue would go out before an embargo of one of its stories has passed.

    ``verdict`` names each story, its embargo and the earliest allowed time.
    """

    def __init__(self, verdict: Preflight) -> None:
        super().__init__(verdict.refusal())
        self.verdict = verdict


def _now() -> datetime:
    return SYSTEM_CLOCK.now()


def is_held(issue: Issue) -> bool:
    """True for an issue paused by the dispatcher before it started (an embargo): it has no
    ledger and nothing was sent; it may be rescheduled, resumed or cancelled."""
    return issue.status == IssueStatus.PAUSED and issue.started_at is None


# ------------------------------------------------------------------------------ pre-flight
def issue_stories(session: Session, issue_id: int) -> tuple[StoryFacts, ...]:
    """The issue's stories in issue order, as pre-flight reads them (always current rows)."""
    rows = session.execute(
        select(IssueArticle.position, Article)
        .join(Article, Article.id == IssueArticle.article_id)
        .where(IssueArticle.issue_id == issue_id)
        .order_by(IssueArticle.position)
        .options(selectinload(Article.images))
        .execution_options(populate_existing=True)
    ).all()
    return tuple(
        StoryFacts(
            article_id=article.id,
            title=article.title,
            language=article.language or "en",
            embargo_until=article.embargo_until,
            images=tuple(
                ImageFacts(credit=image.credit, alt=image.alt)
                for image in sorted(article.images, key=lambda item: item.position)
            ),
        )
        for _, article in rows
    )


def embargoed_article_condition(issue_id: Any, now: datetime) -> ColumnElement[bool]:
    """SQL: the issue ``issue_id`` (a value or a column) has a story embargoed at ``now``."""
    return (
        select(IssueArticle.article_id)
        .join(Article, Article.id == IssueArticle.article_id)
        .where(
            IssueArticle.issue_id == issue_id,
            Article.embargo_until.is_not(None),
            Article.embargo_until > now,
        )
        .exists()
    )


def embargo_verdict(
    session: Session,
    issue_id: int,
    send_at: datetime,
    timezone: str | None = None,
    *,
    send_now: bool = False,
) -> Preflight:
    """The embargo part of pre-flight only (no rendering): what blocks ``send_at``."""
    stories = issue_stories(session, issue_id)
    return Preflight(
        issue_id=issue_id,
        recipients=0,
        send_at=send_at,
        timezone=timezone or "UTC",
        send_now=send_now,
        problems=embargo_problems(stories, send_at, timezone),
        earliest_allowed=earliest_send_time(stories, send_at),
    )


def refuse_early_send(
    session: Session,
    issue_id: int,
    send_at: datetime,
    timezone: str | None = None,
    *,
    send_now: bool = False,
) -> None:
    """Raise :class:`EmbargoError` when a story of the issue is still embargoed at ``send_at``."""
    verdict = embargo_verdict(session, issue_id, send_at, timezone, send_now=send_now)
    if not verdict.may_send:
        raise EmbargoError(verdict)


def count_recipients(session: Session, issue_id: int) -> int:
    """How many people the issue would be mailed to now: confirmed members of its lists, active,
    with an address and not suppressed (the ledger's rule), each once."""
    count = session.execute(
        select(func.count(func.distinct(Subscriber.id)))
        .select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .outerjoin(Suppression, Suppression.email_hash == Subscriber.email_hash)
        .where(
            Subscription.list_id.in_(
                select(IssueList.list_id).where(IssueList.issue_id == issue_id)
            ),
            Subscription.status == "confirmed",
            Subscriber.status == "active",
            Subscriber.email.is_not(None),
            Suppression.id.is_(None),
        )
    ).scalar_one()
    return int(count)


def preflight_issue(
    session: Session,
    settings: Settings,
    issue_id: int,
    *,
    send_at: datetime | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> Preflight:
    """Everything to check before ``issue_id`` is sent at ``send_at`` (default: now).

    Counts the recipients, renders the issue for its size and applies
    :func:`distributor.domain.preflight.preflight`.
    """
    from distributor.rendering.email import BrandingError, EmailRenderError
    from distributor.services.rendering import fit_advice, render_issue_by_id

    issue = get_issue(session, issue_id)
    moment = now or _now()
    html_bytes: int | None = None
    render_error: str | None = None
    size_advice: str | None = None
    try:
        rendered = render_issue_by_id(session, settings, issue_id)
        html_bytes = rendered.html_bytes
        if rendered.over_budget:
            size_advice = fit_advice(session, settings, issue)
    except (EmailRenderError, BrandingError) as error:
        render_error = str(error)
    lists = session.scalars(
        select(MailingList)
        .join(IssueList, IssueList.list_id == MailingList.id)
        .where(IssueList.issue_id == issue_id)
        .order_by(MailingList.id)
    ).all()
    plan = SendPlan(
        issue_id=issue.id,
        recipients=count_recipients(session, issue_id),
        stories=issue_stories(session, issue_id),
        lists=tuple(ListFacts(item.name, item.language or "en") for item in lists),
        send_at=(send_at or moment).astimezone(UTC),
        timezone=timezone or issue.schedule_timezone or "UTC",
        html_bytes=html_bytes,
        html_budget_bytes=settings.EMAIL_HTML_BUDGET_BYTES,
        render_error=render_error,
        send_now=send_at is None,
        size_advice=size_advice,
    )
    return preflight(plan)


def hold_message(verdict: Preflight, *, started: bool = False) -> str:
    """Why an issue was held (or a started send paused), and what the editor can do."""
    from distributor.domain.preflight import moment_text

    reasons = "; ".join(item.message for item in verdict.blocking)
    if started:
        text = f"paused before the next batch was mailed: {reasons}"
        action = "resume it after that time"
    else:
        text = f"held before sending: {reasons}"
        action = "reschedule it then or later, resume it after that time, or cancel it"
    if verdict.earliest_allowed is not None:
        when = moment_text(verdict.earliest_allowed, verdict.timezone)
        text += f". The earliest allowed time is {when}: {action}"
    return text


def get_issue(session: Session, issue_id: int) -> Issue:
    """The issue with ``issue_id`` or :class:`IssueError`."""
    # Sessions keep objects across commits; always read the current row.
    issue = session.get(Issue, issue_id, populate_existing=True)
    if issue is None:
        raise IssueError(f"issue {issue_id} does not exist")
    return issue


def create_issue(
    session: Session,
    list_names: list[str],
    subject: str,
    article_ids: list[int],
    *,
    preheader: str = "",
    editor_note: str = "",
    layout: str = IssueLayout.EXCERPT,
) -> Issue:
    """A draft issue for ``list_names`` with the articles in the given order.

    Its language is the articles' common language, else the first list's. ``layout`` is
    ``excerpt`` or ``full`` (whole stories).
    """
    try:
        chosen_layout = parse_layout(layout)
    except ValueError as error:
        raise IssueError(str(error)) from None
    subject = subject.strip()
    if not subject:
        raise IssueError("an issue needs a subject")
    problem = line_break_problem("subject", subject)
    if problem:
        raise IssueError(problem)
    if not list_names:
        raise IssueError("an issue needs at least one list (--list NAME)")
    lists = session.scalars(select(MailingList).where(MailingList.name.in_(list_names))).all()
    missing = sorted(set(list_names) - {mailing_list.name for mailing_list in lists})
    if missing:
        raise IssueError(f"unknown list(s): {', '.join(missing)}")
    refuse_archived(lists)
    ordered_ids = list(dict.fromkeys(article_ids))
    articles = {
        article.id: article
        for article in session.scalars(select(Article).where(Article.id.in_(ordered_ids))).all()
    }
    absent = [str(article_id) for article_id in ordered_ids if article_id not in articles]
    if absent:
        raise IssueError(f"unknown article id(s): {', '.join(absent)}")
    languages = {articles[article_id].language for article_id in ordered_ids}
    by_name = {mailing_list.name: mailing_list for mailing_list in lists}
    language = languages.pop() if len(languages) == 1 else by_name[list_names[0]].language
    issue = Issue(
        subject=subject,
        preheader=preheader.strip(),
        editor_note=editor_note,
        language=language,
        status=IssueStatus.DRAFT,
        layout=chosen_layout,
    )
    issue.articles = [
        IssueArticle(article_id=article_id, position=position)
        for position, article_id in enumerate(ordered_ids)
    ]
    issue.lists = [IssueList(list_id=by_name[name].id) for name in dict.fromkeys(list_names)]
    session.add(issue)
    session.flush()
    audit.record(
        session,
        "issue.create",
        "issue",
        issue.id,
        summary=subject,
        changes={
            "subject": [None, subject],
            "lists": [None, list_names],
            "articles": [None, ordered_ids],
        },
    )
    return issue


def refuse_archived(lists: Iterable[MailingList]) -> None:
    """Refuse ``lists`` as an issue's audience when one of them is archived."""
    archived = sorted(item.name for item in lists if item.archived_at is not None)
    if archived:
        raise IssueError(
            f"archived list(s) cannot be sent to: {', '.join(archived)}"
            " (unarchive them first, or choose other lists)"
        )


def require_open_audience(session: Session, issue_id: int) -> None:
    """Refuse to schedule or start ``issue_id`` while one of its lists is archived."""
    refuse_archived(
        session.scalars(
            select(MailingList)
            .join(IssueList, IssueList.list_id == MailingList.id)
            .where(IssueList.issue_id == issue_id)
        )
    )


def _transition(
    session: Session, issue_id: int, event: IssueEvent, values: dict[str, Any], verb: str
) -> None:
    """Apply ``event`` to the issue (compare-and-set) or say why it cannot be done."""
    before = _audited_state(session, issue_id)
    if not move(session, event, issue_id, values={**values, "updated_at": _now()}):
        issue = get_issue(session, issue_id)
        sources = ISSUE_TRANSITIONS[event].sources
        named = sorted(state.value for state in sources - {IssueState.HELD})
        allowed_text = " or ".join([*named, *(["held"] if IssueState.HELD in sources else [])])
        raise IssueError(
            f"cannot {verb} issue {issue_id}: it is {issue.status} (must be {allowed_text})"
        )
    session.expire_all()
    after = _audited_state(session, issue_id)
    audit.record(session, f"issue.{verb}", "issue", issue_id, changes=audit.diff(before, after))


AUDITED_ISSUE_FIELDS = ("status", "send_at", "schedule_timezone", "paused_reason")


def _audited_state(session: Session, issue_id: int) -> dict[str, Any]:
    row = session.execute(
        select(Issue.status, Issue.send_at, Issue.schedule_timezone, Issue.paused_reason).where(
            Issue.id == issue_id
        )
    ).first()
    return dict(zip(AUDITED_ISSUE_FIELDS, row or (), strict=False))


def schedule_issue(
    session: Session, issue_id: int, at: str | datetime, timezone_name: str | None = None
) -> Issue:
    """Schedule (or reschedule) a draft, scheduled or held issue at ``at`` in ``timezone_name``.

    ``at`` is ISO-8601 text (``2026-12-01T08:00``) or an aware datetime. The UTC instant and the
    editor's wall time and zone are both kept. Refused (:class:`EmbargoError`) when a story is
    still embargoed at that time.
    """
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise IssueError("a schedule time needs a time zone")
        send_at = at.astimezone(UTC)
        zone = timezone_name or "UTC"
        local = at.isoformat(timespec="minutes")
    else:
        try:
            send_at, zone = parse_schedule(at, timezone_name)
        except ValueError as error:
            raise IssueError(str(error)) from None
        local = at.strip()
    require_open_audience(session, issue_id)
    get_issue(session, issue_id)
    refuse_early_send(session, issue_id, send_at, zone)
    _transition(
        session,
        issue_id,
        IssueEvent.SCHEDULE,
        {
            "send_at": send_at,
            "schedule_timezone": zone,
            "schedule_local": local,
            "paused_reason": None,
        },
        "schedule",
    )
    return get_issue(session, issue_id)


def cancel_issue(session: Session, issue_id: int) -> Issue:
    """Cancel an issue that has not started sending (draft, scheduled or held)."""
    _transition(session, issue_id, IssueEvent.CANCEL, {"finished_at": _now()}, "cancel")
    return get_issue(session, issue_id)


def pause_issue(session: Session, issue_id: int, reason: str = "paused by an editor") -> Issue:
    """Stop claiming new batches of a sending issue (batches in flight finish)."""
    _transition(session, issue_id, IssueEvent.PAUSE, {"paused_reason": reason}, "pause")
    return get_issue(session, issue_id)


def resume_issue(session: Session, issue_id: int, now: datetime | None = None) -> Issue:
    """Resume a paused issue where it stopped: its waiting batches are published again.

    A held issue (never started) becomes due again instead. Either is refused
    (:class:`EmbargoError`) while a story of the issue is still embargoed.
    """
    moment = now or _now()
    issue = get_issue(session, issue_id)
    refuse_early_send(session, issue_id, moment, issue.schedule_timezone, send_now=True)
    if is_held(issue):
        require_open_audience(session, issue_id)
        _transition(session, issue_id, IssueEvent.RELEASE, {"paused_reason": None}, "resume")
        return get_issue(session, issue_id)
    _transition(
        session,
        issue_id,
        IssueEvent.RESUME,
        {"paused_reason": None, "consecutive_failures": 0},
        "resume",
    )
    # Their old doorbells were rung while paused and ignored; "pending" makes the sweeper
    # publish them again at once.
    move_all(
        session,
        BatchEvent.REOPEN,
        SendBatch.issue_id == issue_id,
        values={"next_attempt_at": None},
    )
    return get_issue(session, issue_id)


def issue_progress(session: Session, issue_id: int) -> dict[str, Any]:
    """Counts for the status command, the progress bar and the UI.

    ``queued`` is every recipient still waiting (pending in the ledger); ``suppressed`` are
    recipients skipped because their address is suppressed; ``ledger_complete`` is false while
    the ledger of a started issue is still being written.
    """
    issue = get_issue(session, issue_id)
    by_status: Counter[str] = Counter()
    suppressed = 0
    for status, detail, count in session.execute(
        select(Delivery.status, Delivery.detail, func.count())
        .where(Delivery.issue_id == issue_id)
        .group_by(Delivery.status, Delivery.detail)
    ):
        by_status[status] += count
        if status == DeliveryStatus.SKIPPED and (detail or "").startswith("suppressed"):
            suppressed += count
    batches: Counter[str] = Counter()
    for status, count in session.execute(
        select(SendBatch.status, func.count())
        .where(SendBatch.issue_id == issue_id)
        .group_by(SendBatch.status)
    ):
        batches[status] = count
    total = sum(by_status.values())
    delivered_like = {
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DEFERRED,
        DeliveryStatus.BOUNCED,
        DeliveryStatus.DROPPED,
        DeliveryStatus.COMPLAINED,
        DeliveryStatus.UNSUBSCRIBED,
    }
    sent = sum(by_status[str(status)] for status in delivered_like)
    return {
        "id": issue.id,
        "subject": issue.subject,
        "status": issue.status,
        "send_at": issue.send_at.isoformat() if issue.send_at else None,
        "schedule_timezone": issue.schedule_timezone,
        "schedule_local": issue.schedule_local,
        "started_at": issue.started_at.isoformat() if issue.started_at else None,
        "finished_at": issue.finished_at.isoformat() if issue.finished_at else None,
        "paused_reason": issue.paused_reason,
        # Paused by the dispatcher before it started (a story under embargo): nothing was sent.
        "held": is_held(issue),
        "total": total,
        # False while the ledger is still being written: ``total`` grows until then.
        "ledger_complete": bool(issue.ledger_done),
        "queued": by_status[DeliveryStatus.PENDING],
        "pending": by_status[DeliveryStatus.PENDING],
        "sent": sent,
        "failed": by_status[DeliveryStatus.FAILED],
        "suppressed": suppressed,
        "skipped": by_status[DeliveryStatus.SKIPPED] - suppressed,
        "deliveries": dict(sorted(by_status.items())),
        "batches": dict(sorted(batches.items())),
        "done": issue.status in FINAL_STATUSES,
    }


def list_issues(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent issues with their state, newest first."""
    rows = session.scalars(select(Issue).order_by(Issue.id.desc()).limit(limit)).all()
    return [
        {
            "id": issue.id,
            "subject": issue.subject,
            "status": issue.status,
            "send_at": issue.send_at.isoformat() if issue.send_at else None,
            "schedule_timezone": issue.schedule_timezone,
            "lists": [entry.list_id for entry in issue.lists],
        }
        for issue in rows
    ]
