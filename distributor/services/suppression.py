"""Suppression and unsubscription: who is never mailed again, and why.

A suppression is kept by address hash only, so it survives the erasure of the person and
applies to every list. Unsubscribing, by contrast, ends one membership (or all of them) and
leaves the address mailable by the lists the reader still belongs to.

Provider events reach this module through :func:`apply_suppression_event`, called by the
event recorder (:mod:`distributor.services.provider_events`) once per new event.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings, get_settings
from distributor.db.models import (
    Delivery,
    Issue,
    Subscriber,
    Subscription,
    Suppression,
)
from distributor.domain.issues import DeliveryStatus
from distributor.domain.provider_events import EventKind, ProviderEvent
from distributor.domain.subscribers import (
    AddressHasher,
    SubscriptionStatus,
    SuppressionReason,
    without_addresses,
)

# Soft bounces in a row (reset by a delivery) before an address is suppressed, unless the
# SOFT_BOUNCE_LIMIT setting says otherwise. Mailman and listmonk both use small numbers; three
# survives a full mailbox over a weekend.
SOFT_BOUNCE_LIMIT = 3

# Delivery statuses that an unsubscription or complaint may overwrite: the message reached
# (or was on its way to) the reader. Bounces and failures are more informative and stay.
_REACHED_STATUSES = (
    DeliveryStatus.SENT.value,
    DeliveryStatus.DELIVERED.value,
    DeliveryStatus.DEFERRED.value,
)


# ------------------------------------------------------------------------ address hashes
_configured: AddressHasher | None = None
_fallback: tuple[Settings, AddressHasher] | None = None
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _hasher_for(key: bytes) -> AddressHasher:
    return AddressHasher(key)


def use_address_key(settings: Settings) -> None:
    """Key every address hash of this process with ``settings`` (the web app, a worker)."""
    global _configured  # noqa: PLW0603 - one key per process, set where settings are chosen
    _configured = _hasher_for(settings.address_hash_key())


def address_hasher() -> AddressHasher:
    """The process's address hasher: the key set by :func:`use_address_key`, or else the
    one of the process settings (commands, tasks)."""
    if _configured is not None:
        return _configured
    global _fallback  # noqa: PLW0603 - cached per settings object
    current = get_settings()
    with _lock:
        if _fallback is None or _fallback[0] is not current:
            _fallback = (current, _hasher_for(current.address_hash_key()))
        return _fallback[1]


def address_hash(address: str) -> str:
    """The stored (keyed) hash of ``address``."""
    return address_hasher()(address)


def is_suppressed(session: Session, email: str) -> bool:
    """True when ``email`` must never be mailed again."""
    return suppression_of(session, email) is not None


def suppression_of(session: Session, email: str) -> Suppression | None:
    """The suppression row for ``email``, if any."""
    return session.scalar(select(Suppression).where(Suppression.email_hash == address_hash(email)))


def suppress_hash(
    session: Session, address_hash: str, reason: SuppressionReason, detail: str | None = None
) -> bool:
    """Suppress the address with hash ``address_hash``; True if it was not suppressed before.

    Safe under concurrency: a second writer's insert fails on the unique hash inside a
    savepoint and is treated as "already suppressed".
    """
    existing = session.scalar(select(Suppression.id).where(Suppression.email_hash == address_hash))
    if existing is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Suppression(
                    email_hash=address_hash,
                    reason=reason.value,
                    detail=without_addresses(detail) if detail else detail,
                )
            )
    except IntegrityError:
        return False
    return True


def suppress(
    session: Session, email: str, reason: SuppressionReason, detail: str | None = None
) -> bool:
    """Suppress ``email`` from every list; True if it was not suppressed before."""
    return suppress_hash(session, address_hash(email), reason, detail)


def unsuppress(session: Session, email: str) -> bool:
    """Lift the suppression of ``email`` (an operator's decision); True if there was one."""
    row = suppression_of(session, email)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def unsubscribe(
    session: Session,
    subscriber_id: int,
    list_id: int | None,
    *,
    mark_delivery: bool = True,
    now: datetime | None = None,
) -> int:
    """End ``subscriber_id``'s membership of ``list_id`` (all lists when None), at once.

    Returns how many memberships changed; repeating it changes nothing. With
    ``mark_delivery`` the most recent delivery on that list is marked unsubscribed, so the
    report of the issue the reader left from counts it.
    """
    now = now or SYSTEM_CLOCK.now()
    conditions = [
        Subscription.subscriber_id == subscriber_id,
        Subscription.status != SubscriptionStatus.UNSUBSCRIBED.value,
    ]
    if list_id is not None:
        conditions.append(Subscription.list_id == list_id)
    result = session.execute(
        update(Subscription)
        .where(*conditions)
        .values(status=SubscriptionStatus.UNSUBSCRIBED.value, unsubscribed_at=now)
        .execution_options(synchronize_session="fetch")
    )
    changed = cast("CursorResult[Any]", result).rowcount
    if changed and mark_delivery:
        _mark_latest_delivery(session, subscriber_id, list_id, DeliveryStatus.UNSUBSCRIBED)
    return int(changed or 0)


# The ledger is indexed by (issue_id, subscriber_id), not by subscriber: the latest delivery
# is looked for among the most recent issues first (one index probe each), and only then in
# the whole ledger.
_RECENT_ISSUES = 25


def _mark_latest_delivery(
    session: Session, subscriber_id: int, list_id: int | None, status: DeliveryStatus
) -> None:
    query = select(Delivery).where(
        Delivery.subscriber_id == subscriber_id, Delivery.status.in_(_REACHED_STATUSES)
    )
    if list_id is not None:
        query = query.where(Delivery.list_id == list_id)
    query = query.order_by(Delivery.id.desc()).limit(1)
    recent = select(Issue.id).order_by(Issue.id.desc()).limit(_RECENT_ISSUES).scalar_subquery()
    delivery = session.scalar(query.where(Delivery.issue_id.in_(recent)))
    if delivery is None:
        delivery = session.scalar(query)
    _set_delivery_status(delivery, status)


def _set_delivery_status(delivery: Delivery | None, status: DeliveryStatus) -> None:
    # A complaint outranks an unsubscription; both outrank "it reached the reader".
    allowed: tuple[str, ...] = _REACHED_STATUSES
    if status is DeliveryStatus.COMPLAINED:
        allowed = (*_REACHED_STATUSES, DeliveryStatus.UNSUBSCRIBED.value)
    if delivery is not None and delivery.status in allowed:
        delivery.status = status.value
        delivery.updated_at = SYSTEM_CLOCK.now()


def _subscriber_by_hash(session: Session, address_hash: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email_hash == address_hash).limit(1))


# ------------------------------------------------------------------------ provider events
@dataclass(frozen=True, slots=True)
class SuppressionAction:
    """What one provider event asks of us (pure decision, see :func:`classify_event`)."""

    kind: str  # "suppress", "unsubscribe_list", "soft_bounce", "delivered"
    reason: SuppressionReason | None = None
    detail: str | None = None


def classify_event(event: ProviderEvent) -> SuppressionAction | None:
    """Decide what a provider event means for the address, or None when nothing.

    * a bounce: a hard bounce is suppressed at once; a soft bounce (SendGrid's type
      ``blocked``) is counted toward :data:`SOFT_BOUNCE_LIMIT`;
    * dropped because the address bounced before or is invalid: suppressed; dropped as a
      spam reporter: suppressed as a complaint;
    * a spam report: suppressed (a complaint must never be mailed again);
    * unsubscribe at the provider (SendGrid's global unsubscribe): suppressed, since the
      provider itself will drop every later message to the address;
    * group unsubscribe: the list the message came from is left;
    * delivered: resets the soft-bounce count.
    """
    kind = event.kind
    # Bounce texts quote the address ("550 <reader@example.org>: no such user"); the desk shows
    # them and they outlive erasure, so addresses never get stored.
    reason_text = without_addresses((event.reason or "")[:500]) or None
    if kind is EventKind.BOUNCE:
        if event.soft_bounce:
            return SuppressionAction("soft_bounce", detail=reason_text)
        return SuppressionAction("suppress", SuppressionReason.HARD_BOUNCE, reason_text)
    if kind is EventKind.DROPPED:
        lowered = (reason_text or "").lower()
        if "spam" in lowered:
            return SuppressionAction("suppress", SuppressionReason.SPAM_REPORT, reason_text)
        if "bounce" in lowered or "invalid" in lowered:
            return SuppressionAction("suppress", SuppressionReason.DROPPED, reason_text)
        return None
    if kind is EventKind.SPAM_REPORT:
        return SuppressionAction("suppress", SuppressionReason.SPAM_REPORT, "spam report")
    if kind is EventKind.UNSUBSCRIBE:
        return SuppressionAction(
            "suppress", SuppressionReason.UNSUBSCRIBE, "unsubscribed at the provider"
        )
    if kind is EventKind.GROUP_UNSUBSCRIBE:
        return SuppressionAction("unsubscribe_list", detail="group unsubscribe")
    if kind is EventKind.DELIVERED:
        return SuppressionAction("delivered")
    return None


def _delivery_of(session: Session, event: ProviderEvent) -> Delivery | None:
    delivery_id = event.delivery_id
    return session.get(Delivery, delivery_id) if delivery_id is not None else None


def apply_suppression_event(
    session: Session, event: ProviderEvent, *, soft_bounce_limit: int = SOFT_BOUNCE_LIMIT
) -> str | None:
    """Act on one new (already de-duplicated) provider event; return what was done.

    ``soft_bounce_limit`` soft bounces in a row (a delivery resets the count) suppress the
    address.

    Never raises on odd input: an event without an address or of an unknown kind does
    nothing. Suppressions also end every membership of the address, so lists and the desk
    show the reader as gone.
    """
    action = classify_event(event)
    address = event.email
    if action is None or address is None or "@" not in address:
        return None
    hashed = address_hash(address)
    subscriber = _subscriber_by_hash(session, hashed)
    if action.kind == "delivered":
        if subscriber is not None and subscriber.soft_bounces:
            subscriber.soft_bounces = 0
        return None
    if action.kind == "soft_bounce":
        if subscriber is None:
            return None
        subscriber.soft_bounces = (subscriber.soft_bounces or 0) + 1
        if subscriber.soft_bounces < soft_bounce_limit:
            return "soft_bounce_counted"
        suppress_hash(
            session,
            hashed,
            SuppressionReason.SOFT_BOUNCES,
            f"{subscriber.soft_bounces} soft bounces in a row; last: {action.detail or '-'}",
        )
        unsubscribe(session, subscriber.id, None, mark_delivery=False)
        return "suppressed"
    delivery = _delivery_of(session, event)
    if action.kind == "unsubscribe_list":
        if subscriber is None:
            return None
        list_id = delivery.list_id if delivery is not None else None
        unsubscribe(session, subscriber.id, list_id, mark_delivery=False)
        _set_delivery_status(delivery, DeliveryStatus.UNSUBSCRIBED)
        return "unsubscribed"
    assert action.reason is not None
    suppress_hash(session, hashed, action.reason, action.detail)
    if subscriber is not None:
        unsubscribe(session, subscriber.id, None, mark_delivery=False)
    if action.reason is SuppressionReason.SPAM_REPORT:
        _set_delivery_status(delivery, DeliveryStatus.COMPLAINED)
    elif action.reason is SuppressionReason.UNSUBSCRIBE:
        _set_delivery_status(delivery, DeliveryStatus.UNSUBSCRIBED)
    return "suppressed"
