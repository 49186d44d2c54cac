"""Ringing the doorbell: one task per pending, retry-due or lost batch, after the commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import BatchEvent, BatchStatus, IssueStatus
from distributor.services.sending._shared import Publisher
from distributor.services.transitions import move_all

PUBLISH_CHUNK = 200


def _lost_after(settings: Settings) -> timedelta:
    """How long a queued batch may wait before its doorbell is presumed lost."""
    return timedelta(
        seconds=max(2 * settings.SEND_LEASE_SECONDS, 10 * settings.SCHEDULER_TICK_SECONDS)
    )


def publish_pending_batches(
    session: Session, settings: Settings, publish: Publisher, now: datetime | None = None
) -> int:
    """Ring the doorbell for pending, retry-due and lost batches of sending issues. Commits.

    A publish failure (broker down) leaves the rest as they were: the next sweep tries again.
    """
    moment = now or SYSTEM_CLOCK.now()
    lost_before = moment - _lost_after(settings)
    due = SendBatch.next_attempt_at.is_not(None) & (SendBatch.next_attempt_at <= moment)
    lost = SendBatch.next_attempt_at.is_(None) & (
        SendBatch.queued_at.is_(None) | (SendBatch.queued_at < lost_before)
    )
    batch_ids = list(
        session.scalars(
            select(SendBatch.id)
            .join(Issue, Issue.id == SendBatch.issue_id)
            .where(
                Issue.status == IssueStatus.SENDING,
                (SendBatch.status == BatchStatus.PENDING)
                | ((SendBatch.status == BatchStatus.QUEUED) & (due | lost)),
            )
            .order_by(SendBatch.issue_id, SendBatch.seq)
        )
    )
    session.commit()
    published = 0
    for start in range(0, len(batch_ids), PUBLISH_CHUNK):
        chunk = batch_ids[start : start + PUBLISH_CHUNK]
        done: list[int] = []
        try:
            for batch_id in chunk:
                publish(batch_id)
                done.append(batch_id)
        finally:
            if done:
                move_all(
                    session,
                    BatchEvent.PUBLISH,
                    SendBatch.id.in_(done),
                    SendBatch.next_attempt_at.is_(None) | (SendBatch.next_attempt_at <= moment),
                    values={"queued_at": moment, "next_attempt_at": None},
                )
                session.commit()
                published += len(done)
    return published
