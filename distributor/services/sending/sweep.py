"""The sweeper: expired leases become ambiguous, lost or due batches are published again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import BatchStatus, IssueStatus
from distributor.services.sending._shared import Publisher, log, utcnow
from distributor.services.sending.finish import finish_issue_if_done
from distributor.services.sending.publish import publish_pending_batches


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
    moment = now or utcnow()
    report = SweepReport()
    result = session.execute(
        update(SendBatch)
        .where(SendBatch.status == BatchStatus.SENDING, SendBatch.lease_until < moment)
        # For an ambiguous batch lease_until records when its outcome became unknown.
        .values(
            status=BatchStatus.AMBIGUOUS,
            lease_until=moment,
            last_error="worker lease expired mid-send",
        )
        .execution_options(synchronize_session=False)
    )
    report.expired_leases = int(result.rowcount)  # type: ignore[attr-defined]
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
