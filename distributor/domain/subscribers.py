"""Subscribers, subscriptions and suppression (pure rules)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import StrEnum

from distributor.domain.addresses import normalise_email


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


def address_digest(address: str) -> str:
    """Unkeyed SHA-256 of the normalised address: the input of :class:`AddressHasher`.

    Never stored on its own (anyone could check a guessed address against it); databases from
    before keyed hashing held exactly this value, which is how migration 0010 re-keys them.
    """
    return hashlib.sha256(normalise_email(address).encode("utf-8")).hexdigest()


class AddressHasher:
    """The stored fingerprint of an address: HMAC-SHA256, keyed by a server secret, over
    :func:`address_digest`. Kept after erasure so a suppression survives it, yet useless
    for confirming a guessed address without the key.

    The keyed state is prepared once: an import hashes a million addresses.
    """

    __slots__ = ("_inner", "_outer", "_pads")

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the address hash key must be at least 16 bytes")
        # HMAC (RFC 2104) with the keyed inner and outer states computed once: copying them
        # costs less than a new hmac object per address (a million-row import notices).
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\x00")
        self._pads = (bytes(byte ^ 0x36 for byte in key), bytes(byte ^ 0x5C for byte in key))
        self._inner = hashlib.sha256(self._pads[0])
        self._outer = hashlib.sha256(self._pads[1])

    def hmac_pads(self) -> tuple[bytes, bytes]:
        """The keyed inner and outer pads, for bulk loaders that hash inside the database:
        ``sha256(outer || sha256(inner || digest))`` is the stored hash of ``digest``."""
        return self._pads

    def of_digest(self, digest: str) -> str:
        """The stored hash for an :func:`address_digest` value (hex)."""
        inner = self._inner.copy()
        inner.update(digest.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __call__(self, address: str) -> str:
        """The stored hash of ``address`` (normalised first)."""
        inner = self._inner.copy()
        inner.update(hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest().encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


# An address as it appears in free text (bounce reasons, log lines): deliberately broad, so
# "user@host" forms without a dot and non-ASCII domains are caught too.
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>()\[\]{}\"',;:@/\\]+@[^\s<>()\[\]{}\"',;:@/\\?#]+")
ADDRESS_PLACEHOLDER = "[address]"


def without_addresses(text: str) -> str:
    """``text`` with every email address replaced by ``[address]``."""
    return _ADDRESS_IN_TEXT.sub(ADDRESS_PLACEHOLDER, text)


def reader_state(status: str, memberships: Iterable[str]) -> str:
    """What the desk calls a reader, from their own status and their memberships' statuses.

    An active reader who unsubscribed from every list they were on "left every list" (they
    are not mailed, but they are not erased either); one on no list is "on no list"; one whose
    memberships all wait for confirmation is "unconfirmed".
    """
    if status != SubscriberStatus.ACTIVE:
        return status
    states = set(memberships)
    if not states:
        return "on no list"
    if states == {SubscriptionStatus.UNSUBSCRIBED}:
        return "left every list"
    if SubscriptionStatus.CONFIRMED not in states:
        return "unconfirmed"
    return "active"
