"""Reconciling batches whose outcome is unknown, from the provider's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import ProviderEvent, SendBatch
from distributor.domain.issues import BATCH_TRANSITIONS, BatchEvent, BatchStatus, DeliveryStatus
from distributor.domain.provider_events import ACCEPTANCE_KINDS
from distributor.metrics import RECONCILIATIONS
from distributor.services.sending._shared import log, mark_deliveries
from distributor.services.sending.finish import finish_issue_if_done
from distributor.services.transitions import move

# Provider events that prove a request was accepted.
ACCEPTANCE_EVENTS = tuple(sorted(kind.value for kind in ACCEPTANCE_KINDS))


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
    moment = now or SYSTEM_CLOCK.now()
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
        same_claim = (
            SendBatch.claim_token.is_(None) if token is None else SendBatch.claim_token == token
        )
        if evidence is not None:
            confirmed = move(
                session,
                BatchEvent.CONFIRM,
                batch_id,
                same_claim,
                values={
                    "sent_at": moment,
                    "lease_until": None,
                    "last_error": "confirmed by provider events after an unknown outcome",
                },
            )
            if confirmed:
                mark_deliveries(session, batch_id, None, DeliveryStatus.SENT, moment)
                report.confirmed.append(batch_id)
                touched.add(issue_id)
            session.commit()
            continue
        if since is not None and since > moment - grace:
            continue
        event: BatchEvent
        if attempt >= settings.SEND_MAX_BATCH_ATTEMPTS:
            event = BatchEvent.GIVE_UP
            values: dict[str, Any] = {
                "last_error": f"parked: {attempt} attempts ended without a known outcome",
            }
        else:
            event = BatchEvent.REQUEUE
            values = {
                "claim_token": None,
                "lease_until": None,
                "next_attempt_at": moment,
                "queued_at": None,
            }
        if move(session, event, batch_id, same_claim, values=values):
            (report.parked if event is BatchEvent.GIVE_UP else report.requeued).append(batch_id)
            touched.add(issue_id)
            log.warning(
                "batch %s: no provider trace after %ss; %s",
                batch_id,
                settings.SEND_RECONCILE_GRACE_SECONDS,
                BATCH_TRANSITIONS[event].target,
            )
        session.commit()
    for issue_id in touched:
        finish_issue_if_done(session, issue_id, moment)
    for outcome, batch_ids in (
        ("confirmed", report.confirmed),
        ("requeued", report.requeued),
        ("parked", report.parked),
    ):
        if batch_ids:
            RECONCILIATIONS.labels(outcome).inc(len(batch_ids))
    return report
