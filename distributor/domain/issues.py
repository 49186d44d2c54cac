"""Newsletter issues: lifecycle states, their allowed moves, and scheduling rules (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class IssueStatus(StrEnum):
    """Lifecycle of an issue.

    draft -> scheduled -> sending -> sent | partially_failed; scheduled -> cancelled;
    sending <-> paused. The allowed moves are :data:`ISSUE_TRANSITIONS`; storage applies them
    by compare-and-set (:mod:`distributor.services.transitions`).
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
    The allowed moves are :data:`BATCH_TRANSITIONS`.
    """

    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    AMBIGUOUS = "ambiguous"
    FAILED = "failed"
    PARKED = "parked"


class IssueState(StrEnum):
    """An issue's place in its lifecycle: :class:`IssueStatus` with ``paused`` told apart.

    ``held`` is an issue paused by the dispatcher before it started (a story was still under
    embargo when it came due: no ledger, nothing sent); ``paused`` has started sending.
    """

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    HELD = "held"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    PARTIALLY_FAILED = "partially_failed"
    CANCELLED = "cancelled"

    @property
    def status(self) -> IssueStatus:
        """The stored status of this state (a held issue is stored as paused)."""
        return IssueStatus.PAUSED if self is IssueState.HELD else IssueStatus(self.value)


def issue_state(status: str, *, started: bool) -> IssueState:
    """The lifecycle state of an issue stored with ``status``; ``started``: it has a start time."""
    if status == IssueStatus.PAUSED and not started:
        return IssueState.HELD
    return IssueState(status)


class IssueEvent(StrEnum):
    """What moves an issue from one state to another."""

    SCHEDULE = "schedule"  # an editor sets (or moves) the send time
    SEND_NOW = "send_now"  # an editor makes it due at once
    CANCEL = "cancel"
    HOLD = "hold"  # the dispatcher finds it due with a story still under embargo
    START = "start"  # the dispatcher takes it and starts the ledger
    PAUSE = "pause"  # an editor, too many failures in a row, or an embargo found mid-send
    RESUME = "resume"  # a started issue sends again
    RELEASE = "release"  # a held issue is due again (resumed once the embargo has passed)
    FINISH = "finish"  # every batch is closed and none failed
    FINISH_WITH_FAILURES = "finish_with_failures"  # every batch is closed, some failed


class BatchEvent(StrEnum):
    """What moves a send batch from one state to another."""

    PUBLISH = "publish"  # its task was published (the doorbell rang)
    CLAIM = "claim"  # a worker took it (a lease and a claim token)
    RELEASE = "release"  # the claimant gives it back unsent (a story under embargo)
    RECORD_SENT = "record_sent"  # the claimant's request was accepted
    RECORD_RETRY = "record_retry"  # the claimant's request failed for now
    RECORD_FAILED = "record_failed"  # refused for good, or the send deadline passed
    RECORD_PARKED = "record_parked"  # too many attempts
    RECORD_UNKNOWN = "record_unknown"  # the claimant cannot tell whether it was accepted
    EXPIRE_LEASE = "expire_lease"  # the claimant vanished mid-send
    CONFIRM = "confirm"  # provider events prove an unknown outcome was an acceptance
    REQUEUE = "requeue"  # no trace of an unknown outcome after the grace period
    GIVE_UP = "give_up"  # no trace, and too many attempts
    REOPEN = "reopen"  # its issue resumed: publish it again at once


StateT = TypeVar("StateT", IssueState, BatchStatus)


@dataclass(frozen=True)
class Move(Generic[StateT]):
    """One allowed move: from any of ``sources`` to ``target``."""

    sources: frozenset[StateT]
    target: StateT


_I = IssueState
# Editors may change the plan of an issue that has not started: draft, scheduled or held.
_UNSTARTED = frozenset({_I.DRAFT, _I.SCHEDULED, _I.HELD})

ISSUE_TRANSITIONS: Mapping[IssueEvent, Move[IssueState]] = {
    IssueEvent.SCHEDULE: Move(_UNSTARTED, _I.SCHEDULED),
    IssueEvent.SEND_NOW: Move(_UNSTARTED, _I.SCHEDULED),
    IssueEvent.CANCEL: Move(_UNSTARTED, _I.CANCELLED),
    IssueEvent.HOLD: Move(frozenset({_I.SCHEDULED}), _I.HELD),
    IssueEvent.START: Move(frozenset({_I.SCHEDULED}), _I.SENDING),
    IssueEvent.PAUSE: Move(frozenset({_I.SENDING}), _I.PAUSED),
    IssueEvent.RESUME: Move(frozenset({_I.PAUSED}), _I.SENDING),
    IssueEvent.RELEASE: Move(frozenset({_I.HELD}), _I.SCHEDULED),
    IssueEvent.FINISH: Move(frozenset({_I.SENDING}), _I.SENT),
    IssueEvent.FINISH_WITH_FAILURES: Move(frozenset({_I.SENDING}), _I.PARTIALLY_FAILED),
}

_B = BatchStatus
# A claimant records its outcome while its claim token is still on the batch, also when the
# sweeper meanwhile took the batch for lost (ambiguous): the claimant knows better.
_CLAIMED = frozenset({_B.SENDING, _B.AMBIGUOUS})
_WAITING = frozenset({_B.PENDING, _B.QUEUED})

BATCH_TRANSITIONS: Mapping[BatchEvent, Move[BatchStatus]] = {
    BatchEvent.PUBLISH: Move(_WAITING, _B.QUEUED),
    BatchEvent.CLAIM: Move(_WAITING, _B.SENDING),
    BatchEvent.RELEASE: Move(_CLAIMED, _B.QUEUED),
    BatchEvent.RECORD_SENT: Move(_CLAIMED, _B.SENT),
    BatchEvent.RECORD_RETRY: Move(_CLAIMED, _B.QUEUED),
    BatchEvent.RECORD_FAILED: Move(_CLAIMED, _B.FAILED),
    BatchEvent.RECORD_PARKED: Move(_CLAIMED, _B.PARKED),
    BatchEvent.RECORD_UNKNOWN: Move(_CLAIMED, _B.AMBIGUOUS),
    BatchEvent.EXPIRE_LEASE: Move(frozenset({_B.SENDING}), _B.AMBIGUOUS),
    BatchEvent.CONFIRM: Move(frozenset({_B.AMBIGUOUS}), _B.SENT),
    BatchEvent.REQUEUE: Move(frozenset({_B.AMBIGUOUS}), _B.QUEUED),
    BatchEvent.GIVE_UP: Move(frozenset({_B.AMBIGUOUS}), _B.PARKED),
    BatchEvent.REOPEN: Move(frozenset({_B.QUEUED}), _B.PENDING),
}


def issue_may(state: IssueState, event: IssueEvent) -> bool:
    """True when ``event`` may move an issue in ``state``."""
    return state in ISSUE_TRANSITIONS[event].sources


def batch_may(status: BatchStatus, event: BatchEvent) -> bool:
    """True when ``event`` may move a batch in ``status``."""
    return status in BATCH_TRANSITIONS[event].sources


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


class IssueLayout(StrEnum):
    """How the stories of an issue appear in the email.

    ``excerpt``: the lead photo, the opening paragraphs and a "Continue reading" link.
    ``full``: the whole story (every paragraph and photo with its caption and credit, the
    byline, the notes and the author bio). One story may differ from its issue's layout
    (``issue_articles.excerpt``).
    """

    FULL = "full"
    EXCERPT = "excerpt"


def parse_layout(text: str) -> IssueLayout:
    """The layout named ``text`` (``full`` or ``excerpt``); ValueError naming the choices."""
    try:
        return IssueLayout(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown layout {text!r}: use 'full' or 'excerpt'") from None


def story_layout(issue_layout: str, excerpt_override: bool | None) -> IssueLayout:
    """A story's layout: its own override (True: excerpt, False: full), else the issue's."""
    if excerpt_override is None:
        return IssueLayout(issue_layout)
    return IssueLayout.EXCERPT if excerpt_override else IssueLayout.FULL
