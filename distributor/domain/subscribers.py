"""Subscribers, subscriptions and suppression (pure rules)."""

from __future__ import annotations

import hashlib
from enum import StrEnum


class OptIn(StrEnum):
    """How a list confirms new subscribers."""

    SINGLE = "single"
    DOUBLE = "double"


class ListVisibility(StrEnum):
    """Who may see and join a list on the public pages.

    A public list has a signup page and is offered on every reader's preferences page. A
    private list (staff, sources, partners) is never shown to the public: only its members
    see it on their preferences page, and they can only leave it; readers join it only when
    an operator adds them.
    """

    PUBLIC = "public"
    PRIVATE = "private"


class SubscriptionStatus(StrEnum):
    """A subscriber's membership of one list."""

    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class SubscriberStatus(StrEnum):
    """The person as a whole: erased keeps only a hash (for suppression)."""

    ACTIVE = "active"
    ERASED = "erased"


class SuppressionReason(StrEnum):
    """Why an address is never mailed again, from any list."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    DROPPED = "dropped"
    SPAM_REPORT = "spam_report"
    UNSUBSCRIBE = "unsubscribe"
    MANUAL = "manual"
    ERASED = "erased"


def normalise_email(address: str) -> str:
    """Canonical form used for uniqueness: trimmed and lower-cased."""
    return address.strip().lower()


def email_hash(address: str) -> str:
    """SHA-256 of the normalised address; kept after erasure so suppression survives it."""
    return hashlib.sha256(normalise_email(address).encode("utf-8")).hexdigest()
