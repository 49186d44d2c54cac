"""Record provider events: store once, update the ledger, then act on them.

Events arrive as :class:`~distributor.domain.provider_events.ProviderEvent` values (each
provider's webhook adapter makes them). They are de-duplicated by ``(provider, event id)``
(SendGrid retries a webhook POST for up to 24 hours); their issue, batch and delivery ids tie
each to a ledger row. Only events stored for the first time move deliveries and reach the
handlers in :data:`EVENT_HANDLERS`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import Delivery, Subscriber, Suppression
from distributor.db.models import ProviderEvent as StoredEvent
from distributor.domain.issues import DeliveryStatus
from distributor.domain.provider_events import EventKind, ProviderEvent, ProviderEventPost
from distributor.domain.subscribers import SubscriberStatus, SuppressionReason
from distributor.metrics import WEBHOOK_EVENTS, WEBHOOK_LAG
from distributor.services.suppression import (
    SOFT_BOUNCE_LIMIT,
    address_hasher,
    apply_suppression_event,
)

log = logging.getLogger("distributor.provider_events")

# (session, provider event, soft_bounce_limit=N) -> what was done, or None
EventHandler = Callable[..., str | None]

# event kind -> (delivery status it sets, statuses it may replace). A later, richer status is
# never replaced by an earlier one arriving late (events are not ordered).
DELIVERY_TRANSITIONS: dict[EventKind, tuple[DeliveryStatus, tuple[DeliveryStatus, ...]]] = {
    EventKind.PROCESSED: (DeliveryStatus.SENT, (DeliveryStatus.PENDING,)),
    EventKind.DEFERRED: (DeliveryStatus.DEFERRED, (DeliveryStatus.PENDING, DeliveryStatus.SENT)),
    EventKind.DELIVERED: (
        DeliveryStatus.DELIVERED,
        (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DEFERRED),
    ),
    EventKind.BOUNCE: (
        DeliveryStatus.BOUNCED,
        (
            DeliveryStatus.PENDING,
            DeliveryStatus.SENT,
            DeliveryStatus.DEFERRED,
            DeliveryStatus.DELIVERED,
        ),
    ),
    EventKind.DROPPED: (
        DeliveryStatus.DROPPED,
        (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DEFERRED),
    ),
}

# Per-event actions beyond the ledger (suppression, unsubscription). Add handlers here.
EVENT_HANDLERS: list[EventHandler] = [apply_suppression_event]

_INSERT_CHUNK = 500


# What stays of a payload once it is scrubbed (after EVENT_RETENTION_DAYS, or at once when
# the reader is erased): the event's identity and our own ids. Everything else a provider
# sends (address, IP, user agent, clicked URL, bounce text, custom fields) goes.
_KEPT_KEYS = frozenset(
    {
        "event",
        "type",
        "timestamp",
        "sg_event_id",
        "sg_message_id",
        "dst_issue",
        "dst_batch",
        "dst_delivery",
    }
)
SCRUBBED_MARK = "_scrubbed"


def scrubbed_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` without personal data: only :data:`_KEPT_KEYS` (non-personal, short)."""
    kept = {
        key: value
        for key, value in payload.items()
        if key in _KEPT_KEYS and isinstance(value, str | int | float) and len(str(value)) <= 200
    }
    kept[SCRUBBED_MARK] = True
    return kept


def scrub_events_of(session: Session, address_hash: str, *, now: datetime | None = None) -> int:
    """Scrub the stored payloads of every event about the address hashed ``address_hash``
    (erasure); returns how many rows changed. The rows stay, so issue reports still count."""
    ids_payloads = session.execute(
        select(StoredEvent.id, StoredEvent.payload).where(StoredEvent.email_hash == address_hash)
    ).all()
    stamp = now or SYSTEM_CLOCK.now()
    for event_id, payload in ids_payloads:
        session.execute(
            update(StoredEvent)
            .where(StoredEvent.id == event_id)
            .values(payload=scrubbed_payload(payload or {}), email_hash=None, scrubbed_at=stamp)
            .execution_options(synchronize_session=False)
        )
    return len(ids_payloads)


def purge_expired_payloads(
    session: Session, retention_days: int, *, now: datetime | None = None, limit: int = 1000
) -> int:
    """Scrub the payloads of at most ``limit`` events received more than ``retention_days``
    ago; returns how many. The caller commits, and calls again while the answer is ``limit``
    (short transactions: SQLite has one writer, and a one-click unsubscribe must not wait
    behind the purge)."""
    stamp = now or SYSTEM_CLOCK.now()
    cutoff = stamp - timedelta(days=retention_days)
    rows = session.execute(
        select(StoredEvent.id, StoredEvent.payload)
        .where(StoredEvent.received_at < cutoff, StoredEvent.scrubbed_at.is_(None))
        .order_by(StoredEvent.id)
        .limit(limit)
    ).all()
    for event_id, payload in rows:
        session.execute(
            update(StoredEvent)
            .where(StoredEvent.id == event_id)
            .values(payload=scrubbed_payload(payload or {}), email_hash=None, scrubbed_at=stamp)
            .execution_options(synchronize_session=False)
        )
    if rows:
        log.info("scrubbed %d event payloads older than %d days", len(rows), retention_days)
    return len(rows)


def _row(
    event: ProviderEvent, received_at: datetime, hasher: Callable[[str], str]
) -> dict[str, Any]:
    """The ``provider_events`` row for one event."""
    return {
        "provider": event.provider,
        "event_id": event.event_id,
        "event": event.name,
        "email_hash": hasher(event.email) if event.email else None,
        "issue_id": event.issue_id,
        "batch_id": event.batch_id,
        "delivery_id": event.delivery_id,
        "occurred_at": event.occurred_at,
        "payload": dict(event.payload),
        "received_at": received_at,
        "scrubbed_at": None,
    }


def _scrub_erased(session: Session, rows: list[dict[str, Any]], received_at: datetime) -> None:
    """Events arriving after a reader's erasure (late opens, bounces) are stored scrubbed."""
    hashes = list({row["email_hash"] for row in rows if row["email_hash"] is not None})
    erased: set[str] = set()
    for start in range(0, len(hashes), _INSERT_CHUNK):
        chunk = hashes[start : start + _INSERT_CHUNK]
        erased.update(
            session.scalars(
                select(Subscriber.email_hash).where(
                    Subscriber.email_hash.in_(chunk),
                    Subscriber.status == SubscriberStatus.ERASED.value,
                )
            )
        )
        erased.update(
            session.scalars(
                select(Suppression.email_hash).where(
                    Suppression.email_hash.in_(chunk),
                    Suppression.reason == SuppressionReason.ERASED.value,
                )
            )
        )
    for row in rows:
        if row["email_hash"] in erased:
            row["payload"] = scrubbed_payload(row["payload"])
            row["email_hash"] = None
            row["scrubbed_at"] = received_at


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert rows, skipping known event ids; returns the ids that were new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new: set[str] = set()
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        statement = (
            insert(StoredEvent)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(StoredEvent.event_id)
        )
        new.update(session.scalars(statement).all())
    return new


def record_provider_events(
    session: Session,
    post: ProviderEventPost,
    *,
    soft_bounce_limit: int = SOFT_BOUNCE_LIMIT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store new events, move ledger rows, run the handlers; returns a summary.

    The post's malformed entries (its adapter counted them) are reported as invalid; the
    rest are still recorded. Does not commit (the caller's unit of work does).
    """
    received_at = now or SYSTEM_CLOCK.now()
    hasher = address_hasher()
    rows_by_id: dict[str, dict[str, Any]] = {}
    events_by_id: dict[str, ProviderEvent] = {}
    for event in post.events:
        row = _row(event, received_at, hasher)
        if row["event_id"] not in rows_by_id:
            rows_by_id[row["event_id"]] = row
            events_by_id[row["event_id"]] = event
    _scrub_erased(session, list(rows_by_id.values()), received_at)
    new_ids = _insert_new(session, list(rows_by_id.values())) if rows_by_id else set()
    new_events = [rows_by_id[event_id] for event_id in rows_by_id if event_id in new_ids]
    for row in new_events:
        WEBHOOK_EVENTS.labels(row["event"]).inc()
        if row["occurred_at"] is not None:
            WEBHOOK_LAG.observe(max(0.0, (received_at - row["occurred_at"]).total_seconds()))

    deliveries_by_kind: dict[EventKind, list[int]] = {}
    for row in new_events:
        kind = events_by_id[row["event_id"]].kind
        if row["delivery_id"] is not None and kind in DELIVERY_TRANSITIONS:
            deliveries_by_kind.setdefault(kind, []).append(row["delivery_id"])
    updated = 0
    # Apply in lifecycle order so "processed" never overwrites "delivered" in one POST.
    for kind, (status, replaceable) in DELIVERY_TRANSITIONS.items():
        ids = deliveries_by_kind.get(kind)
        if not ids:
            continue
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status.in_([str(s) for s in replaceable]))
            .values(status=status, updated_at=received_at)
            .execution_options(synchronize_session=False)
        )
        updated += int(result.rowcount)  # type: ignore[attr-defined]

    actions: Counter[str] = Counter()
    for row in new_events:
        for handler in EVENT_HANDLERS:
            try:
                outcome = handler(
                    session, events_by_id[row["event_id"]], soft_bounce_limit=soft_bounce_limit
                )
            except Exception:  # one odd event must not lose the others
                log.exception("handler %s failed on event %s", handler.__name__, row["event_id"])
                outcome = "handler_error"
            if outcome:
                actions[outcome] += 1
    return {
        "received": post.received,
        "new": len(new_events),
        "duplicates": len(post.events) - len(new_events),
        "invalid": post.invalid,
        "deliveries_updated": updated,
        "actions": dict(actions),
    }
