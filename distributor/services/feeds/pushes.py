"""Partner webhook pushes: claim due rows by compare-and-set, send outside a transaction,
record the outcome with back-off.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from distributor.adapters.webhook_push import PushRequest, PushSender
from distributor.config import Settings
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.articles import Article
from distributor.domain.partners import (
    PUSH_MAX_ATTEMPTS,
    FeedFormat,
    PushStatus,
    Visibility,
    push_failure_is_permanent,
    push_headers,
    push_retry_delay,
    territory_allows,
    visibility,
)
from distributor.rendering.feeds.ninjs import render_ninjs_item
from distributor.services.feeds.audiences import feed_policy, feed_spec, partner_audience

PUSH_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ClaimedPush:
    """A push claimed by this worker, with everything needed to send it outside a transaction."""

    push_id: int
    request: PushRequest | None
    skip_reason: str | None = None


def _push_payload(
    settings: Settings, partner: models.Partner, article: Article, now: datetime
) -> tuple[bytes | None, str | None]:
    audience = partner_audience(settings, partner)
    selection = audience.selection
    assert selection is not None
    if not territory_allows(article, selection.territory):
        return None, f"not allowed in territory {selection.territory}"
    seen = visibility(article, FeedFormat.NINJS, now, selection.allow_embargoed)
    if seen is Visibility.HIDDEN:
        return None, "embargoed; will be pushed on release"
    spec = feed_spec(settings, audience, FeedFormat.NINJS, None, 0)
    return render_ninjs_item(article, spec, feed_policy(audience, now), seen), None


def claim_due_pushes(
    session: Session, settings: Settings, now: datetime, limit: int = 20
) -> list[ClaimedPush]:
    """Claim due pushes by compare-and-set and prepare their signed requests.

    A claimed row gets a lease (``next_attempt_at`` = now + lease); a worker that dies leaves
    it due again after the lease, so nothing is lost and a second worker finds nothing to do
    meanwhile.
    """
    due = session.execute(
        select(models.PartnerPush.id, models.PartnerPush.status, models.PartnerPush.next_attempt_at)
        .where(
            models.PartnerPush.status.in_(
                [PushStatus.PENDING, PushStatus.RETRYING, PushStatus.SENDING]
            ),
            or_(
                models.PartnerPush.next_attempt_at.is_(None),
                models.PartnerPush.next_attempt_at <= now,
            ),
        )
        .order_by(models.PartnerPush.id)
        .limit(limit)
    ).all()
    claimed: list[ClaimedPush] = []
    for push_id, status, next_attempt in due:
        condition = [models.PartnerPush.id == push_id, models.PartnerPush.status == status]
        condition.append(
            models.PartnerPush.next_attempt_at.is_(None)
            if next_attempt is None
            else models.PartnerPush.next_attempt_at == next_attempt
        )
        result = session.execute(
            update(models.PartnerPush)
            .where(*condition)
            .values(
                status=PushStatus.SENDING.value,
                next_attempt_at=now + PUSH_LEASE,
                attempts=models.PartnerPush.attempts + 1,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another worker won the row
        push = session.get(models.PartnerPush, push_id)
        assert push is not None
        partner = session.get(models.Partner, push.partner_id)
        row = session.get(models.Article, push.article_id)
        if partner is None or row is None or not partner.push_url or not partner.push_secret:
            claimed.append(ClaimedPush(push_id, None, "partner has no push URL any more"))
            continue
        body, reason = _push_payload(settings, partner, article_from_row(row), now)
        if body is None:
            claimed.append(ClaimedPush(push_id, None, reason))
            continue
        headers = push_headers(
            partner.push_secret,
            int(now.timestamp()),
            body,
            push.event,
            f"{push.id}-{push.attempts}",
        )
        claimed.append(ClaimedPush(push_id, PushRequest(partner.push_url, body, headers)))
    session.flush()
    return claimed


def record_push_result(
    session: Session,
    push_id: int,
    status_code: int | None,
    error: str | None,
    *,
    now: datetime,
    jitter: float = 0.0,
) -> PushStatus:
    """Store the outcome of one attempt: delivered, retry later with back-off, or failed."""
    push = session.get(models.PartnerPush, push_id)
    if push is None:
        return PushStatus.FAILED
    push.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        push.status = PushStatus.DELIVERED.value
        push.delivered_at = now
        push.last_error = None
        push.next_attempt_at = None
    elif push_failure_is_permanent(status_code) or push.attempts >= PUSH_MAX_ATTEMPTS:
        push.status = PushStatus.FAILED.value
        push.last_error = error
        push.next_attempt_at = None
    else:
        push.status = PushStatus.RETRYING.value
        push.last_error = error
        push.next_attempt_at = now + push_retry_delay(push.attempts, jitter)
    session.flush()
    return PushStatus(push.status)


def skip_push(session: Session, push_id: int, reason: str) -> None:
    """Close a push that must not be sent (e.g. the partner's territory excludes the story)."""
    push = session.get(models.PartnerPush, push_id)
    if push is not None:
        push.status = PushStatus.SKIPPED.value
        push.last_error = reason
        push.next_attempt_at = None
        session.flush()


@dataclass
class PushRunReport:
    """Counts of one push run."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def push_due_partners(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    settings: Settings,
    sender: PushSender,
    clock: Callable[[], datetime],
    *,
    limit: int = 20,
    jitter: Callable[[], float] | None = None,
) -> PushRunReport:
    """Claim due pushes (one transaction), send them (no transaction open), record results."""
    draw = jitter or (lambda: secrets.randbelow(1000) / 1000)
    with unit_of_work() as session:
        claimed = claim_due_pushes(session, settings, clock(), limit)
    report = PushRunReport()
    for job in claimed:
        if job.request is None:
            with unit_of_work() as session:
                skip_push(session, job.push_id, job.skip_reason or "skipped")
            report.skipped += 1
            continue
        response = sender.send(job.request)
        with unit_of_work() as session:
            outcome = record_push_result(
                session,
                job.push_id,
                response.status_code,
                response.error,
                now=clock(),
                jitter=draw(),
            )
        if outcome is PushStatus.DELIVERED:
            report.delivered += 1
        elif outcome is PushStatus.RETRYING:
            report.retrying += 1
        else:
            report.failed += 1
    return report
