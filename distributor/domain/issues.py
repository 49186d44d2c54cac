"""Newsletter issues: lifecycle states and scheduling rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class IssueStatus(StrEnum):
    """Lifecycle of an issue.

    draft -> scheduled -> sending -> sent | partially_failed; scheduled -> cancelled;
    sending <-> paused. Transitions are made by conditional updates in storage.
    """

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    PARTIALLY_FAILED = "partially_failed"
    CANCELLED = "cancelled"


EDITABLE_STATUSES = frozenset({IssueStatus.DRAFT, IssueStatus.SCHEDULED})
FINAL_STATUSES = frozenset({IssueStatus.SENT, IssueStatus.PARTIALLY_FAILED, IssueStatus.CANCELLED})


class BatchStatus(StrEnum):
    """A send batch (at most 1,000 recipients) in the send ledger.

    pending: stored, not yet handed to the broker; queued: a task was published;
    sending: claimed by a worker (lease); sent: the provider accepted it;
    ambiguous: the outcome of the provider call is unknown (crash, timeout) and awaits
    reconciliation; failed: permanently refused; parked: too many attempts, needs a person.
    """

    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    AMBIGUOUS = "ambiguous"
    FAILED = "failed"
    PARKED = "parked"


class DeliveryStatus(StrEnum):
    """One recipient of one issue."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"
    SKIPPED = "skipped"


class ScheduleError(ValueError):
    """A schedule that cannot be honoured (unknown zone, naive time without zone...)."""


def resolve_send_time(local: datetime, timezone_name: str) -> datetime:
    """Turn a wall-clock time in ``timezone_name`` into an aware UTC datetime.

    ``local`` may be naive (interpreted in the zone) or aware (converted as is).
    """
    try:
        zone = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {timezone_name!r}: use an IANA name such as 'Europe/London'"
        ) from exc
    aware = local.replace(tzinfo=zone) if local.tzinfo is None else local
    return aware.astimezone(UTC)


def parse_schedule(text: str, timezone_name: str | None = None) -> tuple[datetime, str]:
    """Parse an ISO-8601 time (``2026-12-01T08:00`` or with an offset) into (UTC time, zone).

    Without an offset in ``text``, ``timezone_name`` (default UTC) gives the zone.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ScheduleError(
            f"{text!r} is not an ISO-8601 time; write e.g. 2026-12-01T08:00 or "
            "2026-12-01T08:00+00:00"
        ) from exc
    if moment.tzinfo is not None and timezone_name is None:
        return moment.astimezone(UTC), "UTC"
    zone = timezone_name or "UTC"
    return resolve_send_time(moment, zone), zone
