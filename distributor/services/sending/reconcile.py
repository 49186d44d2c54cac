"""Reconciling batches whose outcome is unknown, from the provider's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import ProviderEvent, SendBatch
from distributor.domain.issues import BatchStatus, DeliveryStatus
from distributor.services.sending._shared import MAX_BATCH_ATTEMPTS, log, mark_deliveries, utcnow
from distributor.services.sending.finish import finish_issue_if_done

# Provider events that prove a request was accepted.
ACCEPTANCE_EVENTS = ("processed", "delivered", "deferred", "bounce", "dropped", "open", "click")


@dataclass
class ReconcileReport:
    """What one reconciliation pass decided."""

    confirmed: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)


def reconcile_batches(
    session: Session, settings: Settings, now: datetime | None = None
) -> ReconcileReport:
    """Resolve ambiguous batches from the provider's events. Commits.

    One batch is one provider request, which SendGrid accepts or refuses as a whole: any
    acceptance event carrying our batch id proves the request went through, so every recipient
    still pending in it is marked sent. A batch with no trace after
    ``SEND_RECONCILE_GRACE_SECONDS`` is queued to be sent again (the documented duplicate
    window: events that arrive later than the grace period).
    """
    moment = now or utcnow()
    grace = timedelta(seconds=settings.SEND_RECONCILE_GRACE_SECONDS)
    report = ReconcileReport()
    batches = session.execute(
        select(
            SendBatch.id,
            SendBatch.issue_id,
            SendBatch.attempt,
            SendBatch.lease_until,
            SendBatch.claim_token,
        ).where(SendBatch.status == BatchStatus.AMBIGUOUS)
    ).all()
    session.commit()
    touched: set[int] = set()
    for batch_id, issue_id, attempt, since, token in batches:
        evidence = session.execute(
            select(ProviderEvent.id)
            .where(ProviderEvent.batch_id == batch_id, ProviderEvent.event.in_(ACCEPTANCE_EVENTS))
            .limit(1)
        ).first()
        guard = [
            SendBatch.id == batch_id,
            SendBatch.status == BatchStatus.AMBIGUOUS,
            SendBatch.claim_token.is_(None) if token is None else SendBatch.claim_token == token,
        ]
        if evidence is not None:
            result = session.execute(
                update(SendBatch)
                .where(*guard)
                .values(
                    status=BatchStatus.SENT,
                    sent_at=moment,
                    lease_until=None,
                    last_error="confirmed by provider events after an unknown outcome",
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                mark_deliveries(session, batch_id, None, DeliveryStatus.SENT, moment)
                report.confirmed.append(batch_id)
                touched.add(issue_id)
            session.commit()
            continue
        if since is not None and since > moment - grace:
            continue
        if attempt >= MAX_BATCH_ATTEMPTS:
            values: dict[str, Any] = {
                "status": BatchStatus.PARKED,
                "last_error": f"parked: {attempt} attempts ended without a known outcome",
            }
        else:
            values = {
                "status": BatchStatus.QUEUED,
                "claim_token": None,
                "lease_until": None,
                "next_attempt_at": moment,
                "queued_at": None,
            }
        result = session.execute(
            update(SendBatch)
            .where(*guard)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            (report.parked if values["status"] == BatchStatus.PARKED else report.requeued).append(
                batch_id
            )
            touched.add(issue_id)
            log.warning(
                "batch %s: no provider trace after %ss; %s",
                batch_id,
                settings.SEND_RECONCILE_GRACE_SECONDS,
                values["status"],
            )
        session.commit()
    for issue_id in touched:
        finish_issue_if_done(session, issue_id, moment)
    return report
