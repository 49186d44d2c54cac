"""The sweeper: expired leases become ambiguous, lost or due batches are published again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import BatchEvent, IssueStatus
from distributor.services.sending._shared import Publisher, log
from distributor.services.sending.finish import finish_issue_if_done
from distributor.services.sending.publish import publish_pending_batches
from distributor.services.transitions import move_all


@dataclass
class SweepReport:
    """What one sweep did."""

    expired_leases: int = 0
    published: int = 0
    finished: list[int] = field(default_factory=list)


def sweep_batches(
    session: Session, settings: Settings, publish: Publisher, now: datetime | None = None
) -> SweepReport:
    """Expire leases (-> ambiguous), re-publish due or lost batches, finish issues. Commits."""
    moment = now or SYSTEM_CLOCK.now()
    report = SweepReport()
    report.expired_leases = move_all(
        session,
        BatchEvent.EXPIRE_LEASE,
        SendBatch.lease_until < moment,
        # For an ambiguous batch lease_until records when its outcome became unknown.
        values={"lease_until": moment, "last_error": "worker lease expired mid-send"},
    )
    session.commit()
    if report.expired_leases:
        log.warning(
            "%s batch(es) lost their worker mid-send; awaiting reconciliation",
            report.expired_leases,
        )
    try:
        report.published = publish_pending_batches(session, settings, publish, moment)
    except Exception:
        session.rollback()
        log.warning("could not publish batches (broker down?); next sweep retries", exc_info=True)
    sending = session.scalars(select(Issue.id).where(Issue.status == IssueStatus.SENDING)).all()
    session.commit()
    for issue_id in sending:
        if finish_issue_if_done(session, issue_id, moment):
            report.finished.append(issue_id)
    return report
