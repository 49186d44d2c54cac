"""Sending one batch: claim it, send it, hand the outcome to :mod:`.outcomes`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, defer, lazyload

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    EmailSender,
    PermanentDeliveryError,
    SendReceipt,
    TransientDeliveryError,
)
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import BatchEvent, IssueEvent, IssueStatus
from distributor.metrics import count_provider_answer
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.sending._shared import log
from distributor.services.sending.content import (
    batch_tags,
    build_outgoing_batch,
    content_personaliser,
    issue_content,
    ledger_recipients,
)
from distributor.services.sending.outcomes import (
    BatchOutcome,
    guarded_batch_update,
    lost_claim,
    record_ambiguous,
    record_permanent,
    record_success,
    record_transient,
)
from distributor.services.transitions import move


def _claim(session: Session, settings: Settings, batch_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    claimed = move(
        session,
        BatchEvent.CLAIM,
        batch_id,
        SendBatch.next_attempt_at.is_(None) | (SendBatch.next_attempt_at <= now),
        SendBatch.issue_id.in_(select(Issue.id).where(Issue.status == IssueStatus.SENDING)),
        values={
            "attempt": SendBatch.attempt + 1,
            "claim_token": token,
            "lease_until": now + timedelta(seconds=settings.SEND_LEASE_SECONDS),
        },
    )
    session.commit()
    return token if claimed else None


# The ledger rows of a batch still to send, with the reason to skip one now (suppressed or
# unsubscribed since the ledger was written), in the shape :func:`ledger_recipients` reads.
_RECIPIENTS_SQL = text(
    """
    SELECT d.id, d.subscriber_id, d.list_id, d.email, d.name,
           CASE WHEN x.id IS NOT NULL THEN 'suppressed before sending'
                WHEN s.status <> 'active' OR COALESCE(sub.status, '') <> 'confirmed'
                THEN 'unsubscribed before sending' END AS skip
    FROM deliveries d
    JOIN subscribers s ON s.id = d.subscriber_id
    LEFT JOIN suppressions x ON x.email_hash = s.email_hash
    LEFT JOIN subscriptions sub ON sub.subscriber_id = d.subscriber_id AND sub.list_id = d.list_id
    WHERE d.batch_id = :batch AND d.status = 'pending'
    ORDER BY d.id
    """
)


# What a batch reads of its issue: not the rendered body (the content cache has it) nor the
# article and list collections (two more queries per batch); all still load if touched.
_ISSUE_HEAD = (
    lazyload(Issue.articles),
    lazyload(Issue.lists),
    defer(Issue.rendered_html),
    defer(Issue.rendered_text),
)


def send_batch(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    batch_id: int,
    now: Callable[[], datetime] = SYSTEM_CLOCK.now,
) -> BatchOutcome:
    """Claim, send and record one batch. A second call for the same batch does nothing.

    The claim is committed before any I/O; the outcome is recorded only if the claim token is
    still ours. Commits.
    """
    token = _claim(session, settings, batch_id, now())
    if token is None:
        return BatchOutcome(batch_id, "not claimable (already taken, done, not due or paused)")
    batch = session.get(SendBatch, batch_id, populate_existing=True)
    assert batch is not None
    issue = session.get(Issue, batch.issue_id, populate_existing=True, options=_ISSUE_HEAD)
    assert issue is not None
    held = _hold_for_embargo(session, batch, issue, token, now())
    if held is not None:
        return held
    rows = session.execute(_RECIPIENTS_SQL, {"batch": batch_id}).all()
    content = issue_content(session, settings, issue)
    personaliser = content_personaliser(settings, content, int(SYSTEM_CLOCK.now().timestamp()))
    recipients, skipped = ledger_recipients(personaliser, rows, content.list_headers)
    session.commit()
    if not recipients:
        receipt = SendReceipt(provider_message_id=None, accepted_ids=[])
        return record_success(
            session, settings, batch, token, receipt=receipt, skipped=skipped, now=now()
        )
    outgoing = build_outgoing_batch(
        settings,
        content,
        issue.id,
        recipients,
        custom_args=batch_tags(issue.id, batch_id, batch.attempt),
    )
    try:
        receipt = sender.send_batch(outgoing)
    except TransientDeliveryError as error:
        count_provider_answer(
            "rate_limited" if error.rate_limited else "transient", len(recipients)
        )
        return record_transient(
            session, settings, batch, issue, token, error=error, skipped=skipped, now=now()
        )
    except PermanentDeliveryError as error:
        count_provider_answer("refused", len(recipients))
        return record_permanent(
            session, settings, batch, token, error=error, skipped=skipped, now=now()
        )
    except AmbiguousDeliveryError as error:
        count_provider_answer("no_answer", len(recipients))
        return record_ambiguous(
            session, settings, batch, token, error=error, skipped=skipped, now=now()
        )
    count_provider_answer("accepted", len(recipients))
    return record_success(
        session,
        settings,
        batch,
        token,
        receipt=receipt,
        skipped=skipped,
        now=now(),
        requested=frozenset(r.delivery_id for r in recipients),
    )


def _hold_for_embargo(
    session: Session, batch: SendBatch, issue: Issue, token: str, moment: datetime
) -> BatchOutcome | None:
    """Defence in depth: when a story of the issue is under embargo at ``moment`` (an embargo
    added after the issue started), give the claimed batch back untouched and pause the
    issue with the reason. None when nothing is embargoed."""
    from distributor.services.issues import (
        embargo_verdict,
        embargoed_article_condition,
        hold_message,
    )

    if not session.execute(select(embargoed_article_condition(issue.id, moment))).scalar_one():
        return None
    verdict = embargo_verdict(session, issue.id, moment, issue.schedule_timezone)
    reason = hold_message(verdict, started=True)
    released = guarded_batch_update(
        session,
        batch.id,
        token,
        BatchEvent.RELEASE,
        {
            "claim_token": None,
            "lease_until": None,
            "attempt": max(0, batch.attempt - 1),
        },
    )
    if not released:
        return lost_claim(session, batch.id, "held for an embargo")
    if move(
        session,
        IssueEvent.PAUSE,
        issue.id,
        values={"paused_reason": reason, "updated_at": moment},
    ):
        record_notification(
            session, NotificationKind.PAUSED, issue.id, event_key=moment.isoformat(), detail=reason
        )
    session.commit()
    log.error(
        "issue %s: batch %s not mailed, a story is under embargo; issue paused", issue.id, batch.id
    )
    return BatchOutcome(batch.id, "held", detail=reason)
