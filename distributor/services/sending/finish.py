"""Finishing an issue once its ledger is complete and no batch is still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import BatchStatus, IssueEvent
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.transitions import move

NON_TERMINAL_BATCH = (
    BatchStatus.PENDING,
    BatchStatus.QUEUED,
    BatchStatus.SENDING,
    BatchStatus.AMBIGUOUS,
)


def finish_issue_if_done(session: Session, issue_id: int, now: datetime | None = None) -> bool:
    """Mark a sending issue sent (or partially_failed) once its ledger is complete and no batch
    is still open. Commits.

    ``ledger_done`` is read first: it is committed with the last chunk's batches, so the batch
    query after it (a later snapshot) sees every batch of the issue.
    """
    moment = now or SYSTEM_CLOCK.now()
    ledger_done = session.execute(
        select(Issue.ledger_done).where(Issue.id == issue_id)
    ).scalar_one_or_none()
    if not ledger_done:
        return False
    open_batch = session.execute(
        select(
            exists().where(SendBatch.issue_id == issue_id, SendBatch.status.in_(NON_TERMINAL_BATCH))
        )
    ).scalar_one()
    if open_batch:
        return False
    broken = session.execute(
        select(
            exists().where(
                SendBatch.issue_id == issue_id,
                SendBatch.status.in_([BatchStatus.FAILED, BatchStatus.PARKED]),
            )
        )
    ).scalar_one()
    event = IssueEvent.FINISH_WITH_FAILURES if broken else IssueEvent.FINISH
    finished = move(session, event, issue_id, values={"finished_at": moment, "updated_at": moment})
    if finished:
        # Recorded with the move, mailed after the commit (distributor.notify_desk).
        record_notification(
            session,
            NotificationKind.FINISHED,
            issue_id,
            detail=(
                "Some batches failed for good: the report says how many readers were missed."
                if broken
                else None
            ),
        )
    session.commit()
    return finished
