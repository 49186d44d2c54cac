"""Dispatching due issues: hold embargoed ones, start the rest, write their ledgers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue
from distributor.domain.issues import IssueEvent, IssueStatus
from distributor.services import audit
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.rendering import render_issue_by_id
from distributor.services.sending._shared import Publisher, log
from distributor.services.sending.finish import finish_issue_if_done
from distributor.services.sending.ledger import write_ledger_chunk
from distributor.services.sending.publish import publish_pending_batches
from distributor.services.transitions import move


@dataclass
class DispatchReport:
    """What one dispatcher tick started."""

    issues: list[int] = field(default_factory=list)
    # Due issues held (paused before starting) because a story is still under embargo.
    held: list[int] = field(default_factory=list)
    # Issues whose interrupted ledger this call continued.
    resumed: list[int] = field(default_factory=list)
    recipients: int = 0
    batches: int = 0
    seconds: float = 0.0


def _take_due_issue(session: Session, now: datetime) -> int | None:
    """Compare-and-set one due issue ``scheduled -> sending``; its id, or None."""
    from distributor.services.issues import embargoed_article_condition

    # An issue with a story still under embargo is never taken (the hold pass pauses it).
    clear = ~embargoed_article_condition(Issue.id, now)
    query = (
        select(Issue.id)
        .where(Issue.status == IssueStatus.SCHEDULED, Issue.send_at <= now, clear)
        .order_by(Issue.send_at, Issue.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    issue_id = session.execute(query).scalar_one_or_none()
    if issue_id is None:
        return None
    started = move(
        session,
        IssueEvent.START,
        issue_id,
        clear,
        values={
            "started_at": now,
            "updated_at": now,
            "consecutive_failures": 0,
            "ledger_after": 0,
            "ledger_done": False,
            "ledger_touched_at": now,
        },
    )
    return issue_id if started else None


def start_issue_now(session: Session, issue_id: int, now: datetime | None = None) -> None:
    """Make a draft, scheduled or held issue due right now (the dispatcher starts it).

    Refused (``EmbargoError``) while a story of the issue is still embargoed.
    """
    from distributor.services.issues import (
        IssueError,
        get_issue,
        refuse_early_send,
        require_open_audience,
    )

    require_open_audience(session, issue_id)
    moment = now or SYSTEM_CLOCK.now()
    issue = get_issue(session, issue_id)
    refuse_early_send(session, issue_id, moment, issue.schedule_timezone, send_now=True)
    status_before = issue.status
    due_now = move(
        session,
        IssueEvent.SEND_NOW,
        issue_id,
        values={
            "send_at": moment,
            "schedule_timezone": "UTC",
            "schedule_local": moment.isoformat(timespec="seconds"),
            "paused_reason": None,
            "updated_at": moment,
        },
    )
    if not due_now:
        issue = get_issue(session, issue_id)
        raise IssueError(
            f"cannot send issue {issue_id} now: it is {issue.status}"
            " (must be draft, scheduled or held)"
        )
    audit.record(
        session,
        "issue.send_now",
        "issue",
        issue_id,
        changes={"status": [str(status_before), "scheduled"], "send_at": [None, moment]},
    )


def hold_embargoed_due_issues(session: Session, now: datetime) -> list[int]:
    """Hold (pause before starting, with the reason) every due issue that has a story still
    under embargo: an embargo added or moved after the issue was scheduled. Commits."""
    from distributor.services.issues import (
        embargo_verdict,
        embargoed_article_condition,
        hold_message,
    )

    due = list(
        session.scalars(
            select(Issue.id)
            .where(
                Issue.status == IssueStatus.SCHEDULED,
                Issue.send_at <= now,
                embargoed_article_condition(Issue.id, now),
            )
            .order_by(Issue.id)
        )
    )
    held: list[int] = []
    for issue_id in due:
        zone = session.execute(
            select(Issue.schedule_timezone).where(Issue.id == issue_id)
        ).scalar_one()
        verdict = embargo_verdict(session, issue_id, now, zone)
        if verdict.may_send:
            continue
        if move(
            session,
            IssueEvent.HOLD,
            issue_id,
            values={"paused_reason": hold_message(verdict), "updated_at": now},
        ):
            held.append(issue_id)
            record_notification(
                session,
                NotificationKind.HELD,
                issue_id,
                event_key=now.isoformat(),
                detail=hold_message(verdict),
            )
            log.warning("issue %s held: a story is still under embargo", issue_id)
    session.commit()
    return held


def _ledger_stalled_after(settings: Settings) -> timedelta:
    """How long a ledger writer may make no progress before another one takes over."""
    return timedelta(seconds=max(60.0, 10 * settings.SCHEDULER_TICK_SECONDS))


def dispatch_due(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    max_issues: int = 20,
    publish: Publisher | None = None,
) -> DispatchReport:
    """Start every due issue and write its ledger; finish ledgers whose writer stopped.

    Starting an issue (compare-and-set ``scheduled -> sending``, and rendering its body once)
    is one transaction. The ledger is then written in chunks of ``SEND_LEDGER_CHUNK``
    subscribers, one transaction each; after each, ``publish`` (when given) rings the
    doorbells of the new batches, so the first batches are sent while the rest of the ledger
    is written. A ledger whose writer made no progress for a while (the process died) is
    continued where it stopped by the next call.

    Safe to run from several processes at once (the claim is a compare-and-set, on PostgreSQL
    rows are taken with ``FOR UPDATE SKIP LOCKED``, and a ledger chunk locks its issue).
    Commits.
    """
    report = DispatchReport()
    started = time.perf_counter()
    moment = now or SYSTEM_CLOCK.now()
    session.commit()
    report.held = hold_embargoed_due_issues(session, moment)
    for _ in range(max_issues):
        issue_id = _take_due_issue(session, moment)
        if issue_id is None:
            session.rollback()
            break
        try:
            # Render once, in the claiming transaction: every batch then sends this body.
            render_issue_by_id(session, settings, issue_id)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("could not start issue %s; it stays scheduled", issue_id)
            raise
        report.issues.append(issue_id)
        _write_ledger(session, settings, issue_id, moment, publish=publish, report=report)
    stalled = list(
        session.scalars(
            select(Issue.id)
            .where(
                Issue.ledger_done.is_(False),
                Issue.status.in_([IssueStatus.SENDING, IssueStatus.PAUSED]),
                Issue.ledger_touched_at.is_(None)
                | (Issue.ledger_touched_at < moment - _ledger_stalled_after(settings)),
            )
            .order_by(Issue.id)
            .limit(max_issues)
        )
    )
    session.commit()
    for issue_id in stalled:
        log.warning("issue %s: continuing a ledger whose writer stopped", issue_id)
        report.resumed.append(issue_id)
        _write_ledger(session, settings, issue_id, moment, publish=publish, report=report)
    report.seconds = time.perf_counter() - started
    return report


def _write_ledger(
    session: Session,
    settings: Settings,
    issue_id: int,
    moment: datetime,
    *,
    publish: Publisher | None,
    report: DispatchReport,
) -> None:
    """Write the rest of ``issue_id``'s ledger, chunk after chunk. Commits."""
    rows = batches = 0
    while True:
        try:
            chunk = write_ledger_chunk(session, settings, issue_id, moment)
            session.commit()
        except Exception:
            # The issue is sending and its ledger stays incomplete: the dispatcher continues
            # it once the writer counts as stopped. Nothing written is lost.
            session.rollback()
            log.exception("issue %s: could not write the next ledger chunk", issue_id)
            break
        if chunk is None:
            break
        rows += chunk.rows
        batches += chunk.batches
        if publish is not None and chunk.batches:
            # Stamped with the wall clock: these batches were queued now, not at dispatch.
            publish_pending_batches(session, settings, publish, max(moment, SYSTEM_CLOCK.now()))
        if chunk.done:
            # Nobody to send to, or every batch already sent: the issue is done now.
            finish_issue_if_done(session, issue_id, moment)
            break
    report.recipients += rows
    report.batches += batches
    log.info("issue %s: %s recipients in %s batches written", issue_id, rows, batches)
