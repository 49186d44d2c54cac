"""What a mail provider tells us about a message after it was sent, in one shape (pure).

Each provider's webhook adapter turns its own payloads into :class:`ProviderEvent` values (for
SendGrid: :mod:`distributor.adapters.sendgrid_webhook`); the services that record events,
move ledger rows, suppress addresses and reconcile unknown outcomes read only this type. A
second provider is one more adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """The kinds of event we act on or count.

    The values are the names stored in ``provider_events.event`` (they follow SendGrid's
    spelling, which the first stored rows used: ``spamreport``).
    """

    PROCESSED = "processed"  # accepted by the provider, not yet delivered
    DELIVERED = "delivered"
    DEFERRED = "deferred"  # the receiving server asked to try later
    BOUNCE = "bounce"  # refused by the receiving server (hard, or soft when ``soft_bounce``)
    DROPPED = "dropped"  # not sent by the provider (a known bounce, an invalid address...)
    SPAM_REPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"  # at the provider: every later message is dropped
    GROUP_UNSUBSCRIBE = "group_unsubscribe"  # from the one list the message came from
    GROUP_RESUBSCRIBE = "group_resubscribe"
    OPEN = "open"
    CLICK = "click"
    OTHER = "other"  # anything else: stored under the provider's own name, not acted on


# Events that prove the provider accepted the request the message was part of.
ACCEPTANCE_KINDS = frozenset(
    {
        EventKind.PROCESSED,
        EventKind.DELIVERED,
        EventKind.DEFERRED,
        EventKind.BOUNCE,
        EventKind.DROPPED,
        EventKind.OPEN,
        EventKind.CLICK,
    }
)


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One event about one message to one address."""

    provider: str
    # The provider's id of the event, stable across its retries (the de-duplication key).
    event_id: str
    kind: EventKind
    # What is stored: the kind's value, or the provider's own name for an OTHER event.
    name: str
    email: str | None = None
    occurred_at: datetime | None = None
    # Our ids, echoed back by the provider from the message we sent.
    issue_id: int | None = None
    batch_id: int | None = None
    delivery_id: int | None = None
    # For a bounce: the receiving server refused for now (blocked), not for good.
    soft_bounce: bool = False
    # The provider's reason or the receiving server's answer, as given.
    reason: str | None = None
    # The payload as received, stored for the desk and scrubbed after EVENT_RETENTION_DAYS.
    payload: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ProviderEventPost:
    """The events of one webhook post, and how many of its entries were not events."""

    events: tuple[ProviderEvent, ...]
    invalid: int = 0

    @property
    def received(self) -> int:
        """How many entries the post had."""
        return len(self.events) + self.invalid
