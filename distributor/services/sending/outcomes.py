"""Recording a batch's outcome, only while the claim is still ours."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    PermanentDeliveryError,
    SendReceipt,
    TransientDeliveryError,
)
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import (
    BatchEvent,
    DeliveryStatus,
    IssueEvent,
)
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.sending._shared import log, mark_deliveries
from distributor.services.sending.finish import finish_issue_if_done
from distributor.services.transitions import move


@dataclass
class BatchOutcome:
    """What one ``send_batch`` call did."""

    batch_id: int
    result: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    detail: str | None = None


def guarded_batch_update(
    session: Session, batch_id: int, token: str, event: BatchEvent, values: dict[str, Any]
) -> bool:
    """Apply ``event`` to the batch only while its claim token is still ``token``."""
    return move(session, event, batch_id, SendBatch.claim_token == token, values=values)


def _mark_skipped(session: Session, batch_id: int, skipped: dict[int, str], now: datetime) -> None:
    by_reason: dict[str, list[int]] = {}
    for delivery_id, reason in skipped.items():
        by_reason.setdefault(reason, []).append(delivery_id)
    for reason, ids in by_reason.items():
        mark_deliveries(session, batch_id, ids, DeliveryStatus.SKIPPED, now, detail=reason)


def lost_claim(session: Session, batch_id: int, what: str) -> BatchOutcome:
    session.rollback()
    log.warning(
        "batch %s: claim was taken over before the outcome (%s) was recorded", batch_id, what
    )
    return BatchOutcome(batch_id, "claim lost", detail=what)


def record_success(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    receipt: SendReceipt,
    skipped: dict[int, str],
    now: datetime,
    requested: frozenset[int] = frozenset(),
) -> BatchOutcome:
    batch_id = batch.id
    if not guarded_batch_update(
        session,
        batch_id,
        token,
        BatchEvent.RECORD_SENT,
        {
            "sent_at": now,
            "lease_until": None,
            "provider_message_id": receipt.provider_message_id,
            "last_error": None,
            "next_attempt_at": None,
        },
    ):
        return lost_claim(session, batch_id, "sent")
    _mark_skipped(session, batch_id, skipped, now)
    failed = 0
    for delivery_id, reason in receipt.rejected.items():
        failed += mark_deliveries(
            session, batch_id, [delivery_id], DeliveryStatus.FAILED, now, detail=reason
        )
    # When every requested recipient was accepted, the pending rows left in the batch are
    # exactly those recipients (skipped ones were marked above and the claim is ours): one
    # set-based UPDATE by batch instead of an IN list of a thousand ids.
    everyone = bool(requested) and not receipt.rejected and set(receipt.accepted_ids) == requested
    sent = mark_deliveries(
        session,
        batch_id,
        None if everyone else receipt.accepted_ids,
        DeliveryStatus.SENT,
        now,
        message_id=receipt.provider_message_id,
    )
    session.execute(
        update(Issue)
        .where(Issue.id == batch.issue_id, Issue.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch_id, "sent", sent=sent, skipped=len(skipped), failed=failed)


def _count_failure(session: Session, settings: Settings, issue_id: int, reason: str) -> None:
    """Count a failed request; too many in a row pause the issue and say why."""
    session.execute(
        update(Issue)
        .where(Issue.id == issue_id)
        .values(consecutive_failures=Issue.consecutive_failures + 1)
        .execution_options(synchronize_session=False)
    )
    failures = session.execute(
        select(Issue.consecutive_failures).where(Issue.id == issue_id)
    ).scalar_one()
    if failures >= settings.SEND_MAX_CONSECUTIVE_FAILURES:
        reason_text = (
            f"paused after {failures} failed requests in a row; last error: {reason}. "
            "Fix the cause, then resume the issue."
        )
        if move(session, IssueEvent.PAUSE, issue_id, values={"paused_reason": reason_text}):
            record_notification(
                session,
                NotificationKind.PAUSED,
                issue_id,
                event_key=SYSTEM_CLOCK.now().isoformat(),
                detail=reason_text,
            )
        log.error("issue %s paused after %s consecutive failures: %s", issue_id, failures, reason)


def _backoff_seconds(settings: Settings, attempt: int) -> float:
    """Exponential back-off with full jitter in the upper half (spreads retries apart)."""
    ceiling = min(
        settings.SEND_RETRY_CAP_SECONDS,
        settings.SEND_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1)),
    )
    return float(ceiling / 2 + random.random() * ceiling / 2)  # noqa: S311


def record_transient(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    issue: Issue,
    token: str,
    *,
    error: TransientDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    batch_id = batch.id
    started = issue.started_at or now
    deadline = started + timedelta(seconds=settings.SEND_DEADLINE_SECONDS)
    if error.rate_limited:
        # SendGrid did not take the request: wait for its reset; it costs no attempt.
        delay = error.retry_after if error.retry_after is not None else 1.0
        delay += random.random() * min(2.0, max(0.2, delay))  # noqa: S311
        attempt = max(0, batch.attempt - 1)
    else:
        delay = _backoff_seconds(settings, batch.attempt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        attempt = batch.attempt
    retry_at = now + timedelta(seconds=delay)
    event: BatchEvent
    if retry_at > deadline:
        event = BatchEvent.RECORD_FAILED
        values: dict[str, Any] = {
            "lease_until": None,
            "last_error": f"gave up at the send deadline: {error.message}",
        }
        final = "failed"
    elif attempt >= settings.SEND_MAX_BATCH_ATTEMPTS:
        event = BatchEvent.RECORD_PARKED
        values = {
            "lease_until": None,
            "last_error": f"parked after {attempt} attempts: {error.message}",
        }
        final = "parked"
    else:
        event = BatchEvent.RECORD_RETRY
        values = {
            "lease_until": None,
            "claim_token": None,
            "attempt": attempt,
            "next_attempt_at": retry_at,
            "last_error": error.message,
        }
        final = "retry"
    if not guarded_batch_update(session, batch_id, token, event, values):
        return lost_claim(session, batch_id, "transient failure")
    _mark_skipped(session, batch_id, skipped, now)
    sent = mark_deliveries(session, batch_id, error.accepted_ids, DeliveryStatus.SENT, now)
    if final == "failed":
        mark_deliveries(
            session, batch_id, None, DeliveryStatus.FAILED, now, detail=values["last_error"]
        )
    if not error.rate_limited:
        _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    if final != "retry":
        finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch_id, final, sent=sent, detail=error.message)


def _record_failed_request(
    session: Session,
    batch: SendBatch,
    token: str,
    *,
    event: BatchEvent,
    lease_until: datetime | None,
    error: PermanentDeliveryError | AmbiguousDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> int | None:
    """What a permanent failure and an unknown outcome record alike: the batch's move
    (only while the claim is ours), its skipped rows and the recipients the provider said it
    accepted. Returns how many were marked sent, or None when the claim was lost."""
    if not guarded_batch_update(
        session,
        batch.id,
        token,
        event,
        {"lease_until": lease_until, "last_error": error.message},
    ):
        return None
    _mark_skipped(session, batch.id, skipped, now)
    return mark_deliveries(session, batch.id, error.accepted_ids, DeliveryStatus.SENT, now)


def record_permanent(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    error: PermanentDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    sent = _record_failed_request(
        session,
        batch,
        token,
        event=BatchEvent.RECORD_FAILED,
        lease_until=None,
        error=error,
        skipped=skipped,
        now=now,
    )
    if sent is None:
        return lost_claim(session, batch.id, "permanent failure")
    failed = mark_deliveries(
        session, batch.id, None, DeliveryStatus.FAILED, now, detail=error.message
    )
    _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch.id, "failed", sent=sent, failed=failed, detail=error.message)


def record_ambiguous(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    error: AmbiguousDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    # lease_until records when the outcome became unknown; the reconciler's grace counts from it.
    sent = _record_failed_request(
        session,
        batch,
        token,
        event=BatchEvent.RECORD_UNKNOWN,
        lease_until=now,
        error=error,
        skipped=skipped,
        now=now,
    )
    if sent is None:
        return lost_claim(session, batch.id, "ambiguous")
    _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    return BatchOutcome(batch.id, "ambiguous", sent=sent, detail=error.message)
