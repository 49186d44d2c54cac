"""Partner outlets: selection, territory and embargo rules, API keys, push signatures (pure).

Nothing here touches the database or the network; services combine these rules with storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from distributor.domain.articles import Article, ArticleStatus
from distributor.domain.languages import same_language_for_readers

# --------------------------------------------------------------------------------- formats


class FeedFormat(StrEnum):
    """The syndication formats Distributor renders."""

    RSS = "rss"
    ATOM = "atom"
    JSONFEED = "jsonfeed"
    NINJS = "ninjs"


NINJS_VERSIONS = ("3.1", "2.2")


def parse_feed_format(value: str) -> FeedFormat:
    """``"rss"`` -> :attr:`FeedFormat.RSS`; raises ValueError listing the known formats."""
    try:
        return FeedFormat(value.strip().lower())
    except ValueError:
        known = ", ".join(member.value for member in FeedFormat)
        raise ValueError(f"unknown feed format {value!r}; use one of: {known}") from None


# ------------------------------------------------------------------------------- selection


@dataclass(frozen=True, slots=True)
class PartnerSelection:
    """What one partner receives. Empty tuples mean "no restriction" on that axis.

    ``sections`` and ``tags`` together form one topical filter: an article qualifies when it
    is in any listed section *or* carries any listed tag. ``languages`` are BCP 47 tags; a
    primary tag ("zh") matches every variant ("zh-Hans", "zh-TW").
    """

    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    territory: str | None = None
    allow_embargoed: bool = False


def _folded(values: tuple[str, ...]) -> set[str]:
    return {value.strip().casefold() for value in values if value.strip()}


def language_matches(article_language: str, wanted: tuple[str, ...]) -> bool:
    """True when ``article_language`` equals a wanted tag or is a variant of it."""
    if not wanted:
        return True
    language = article_language.strip().lower().replace("_", "-")
    for raw_tag in wanted:
        tag = raw_tag.strip().lower().replace("_", "-")
        if language == tag or language.startswith(tag + "-"):
            return True
        # A script selects by script: zh-Hant also takes zh-TW and zh-HK, zh-Hans takes zh-CN.
        if tag in ("zh-hans", "zh-hant") and same_language_for_readers(language, tag):
            return True
    return False


def matches(article: Article, selection: PartnerSelection) -> bool:
    """True when ``article`` belongs to the partner's topical and language selection.

    Territory and embargo are separate decisions (:func:`territory_allows`,
    :func:`visibility`), because they depend on the partner's country and on the format.
    """
    if not language_matches(article.language, selection.languages):
        return False
    sections, tags = _folded(selection.sections), _folded(selection.tags)
    if not sections and not tags:
        return True
    return bool(sections & _folded(article.sections)) or bool(tags & _folded(article.tags))


def territory_allows(article: Article, territory: str | None) -> bool:
    """Whether a partner in ``territory`` (ISO 3166 alpha-2) may receive ``article``.

    Without a territory (the public feeds) nothing is filtered: the restriction travels in
    the feed itself (``media:restriction``, ninjs ``rightsInfo``) for the reader to enforce.
    A partner with a territory gets only stories allowed there: not on the deny list and, if
    an allow list exists, on it.
    """
    if territory is None:
        return True
    code = territory.strip().upper()
    if code in {value.upper() for value in article.territories_deny}:
        return False
    allow = {value.upper() for value in article.territories_allow}
    return not allow or code in allow


class Visibility(StrEnum):
    """How an article appears in one feed at one moment."""

    VISIBLE = "visible"
    WITHHELD = "withheld"  # ninjs only: sent early with pubStatus "withheld" + embargoedUntil
    CANCELED = "canceled"  # ninjs only: a withdrawn story, so partners take their copy down
    HIDDEN = "hidden"


def visibility(
    article: Article, feed_format: FeedFormat, now: datetime, allow_embargoed: bool = False
) -> Visibility:
    """Decide whether ``article`` appears in a ``feed_format`` document built at ``now``.

    Embargoed stories never appear in RSS, Atom or JSON Feed before release, whatever the
    partner; only ninjs partners allowed early access see them, marked withheld. Withdrawn
    stories leave the reader formats and stay in ninjs as canceled.
    """
    if article.status is ArticleStatus.WITHDRAWN:
        return Visibility.CANCELED if feed_format is FeedFormat.NINJS else Visibility.HIDDEN
    if article.is_embargoed(now):
        if feed_format is FeedFormat.NINJS and allow_embargoed:
            return Visibility.WITHHELD
        return Visibility.HIDDEN
    return Visibility.VISIBLE


# -------------------------------------------------------------------------------- API keys

API_KEY_SCHEME = "dst"
API_KEY_PREFIX_LENGTH = 8


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A freshly generated key: ``key`` is shown once; only ``digest`` and ``prefix`` are kept."""

    key: str
    prefix: str
    digest: str


def hash_api_key(key: str) -> str:
    """The stored form of an API key: SHA-256 hex of the whole key.

    A fast hash is right here (unlike passwords): the key carries ~256 bits of randomness, so
    brute force is hopeless, and the lookup runs on every feed request.
    """
    return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()


def generate_api_key() -> IssuedApiKey:
    """A new key of the form ``dst_<8-char prefix>_<43-char secret>``.

    The prefix is visible in listings and logs so people can tell keys apart without the
    secret.
    """
    prefix = secrets.token_hex(API_KEY_PREFIX_LENGTH // 2)
    key = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedApiKey(key=key, prefix=prefix, digest=hash_api_key(key))


def api_key_prefix(key: str) -> str | None:
    """The visible prefix of a well-formed key, else None (so callers can reject it early)."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_SCHEME or len(parts[1]) != API_KEY_PREFIX_LENGTH:
        return None
    return parts[1] if parts[2] else None


# ---------------------------------------------------------------------- push signatures

SIGNATURE_HEADER = "X-Distributor-Signature"
TIMESTAMP_HEADER = "X-Distributor-Timestamp"
EVENT_HEADER = "X-Distributor-Event"
DELIVERY_HEADER = "X-Distributor-Delivery"
SIGNATURE_VERSION = "v1"
DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300


def generate_push_secret() -> str:
    """A shared secret for signing pushes to one partner."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign_push(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``.

    The timestamp is inside the signed bytes, so a captured request cannot be replayed later
    with a fresh timestamp.
    """
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def push_headers(
    secret: str, timestamp: int, body: bytes, event: str, delivery_id: str
) -> dict[str, str]:
    """Every header of a signed push (what partners verify)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign_push(secret, timestamp, body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
    }


def verify_push(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True when the headers prove ``body`` came from us within ``tolerance_seconds`` of ``now``.

    ``signature_header`` may list several comma-separated ``v1=`` values (during a secret
    rotation); any match is enough. Comparison is constant-time.
    """
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign_push(secret, timestamp, body)
    return any(
        hmac.compare_digest(candidate.strip(), expected)
        for candidate in signature_header.split(",")
    )


# ------------------------------------------------------------------------- push retries

PUSH_MAX_ATTEMPTS = 8
PUSH_BASE_DELAY = timedelta(seconds=30)
PUSH_MAX_DELAY = timedelta(hours=2)


class PushStatus(StrEnum):
    """Lifecycle of one partner push."""

    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"


class PushEvent(StrEnum):
    """Why a push is sent."""

    PUBLISHED = "published"
    REVISED = "revised"
    WITHDRAWN = "withdrawn"
    RELEASED = "released"


def push_retry_delay(attempt: int, jitter: float = 0.0) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): 30 s doubling, capped at 2 h.

    ``jitter`` in [0, 1) spreads retries by up to +25% so partners recovering from an outage
    are not hit by every retry at once.
    """
    exponent = max(0, attempt - 1)
    delay = min(PUSH_BASE_DELAY * (2**exponent), PUSH_MAX_DELAY)
    factor: float = 1 + 0.25 * min(max(jitter, 0.0), 0.999)
    scaled: timedelta = delay * factor
    return scaled


def push_failure_is_permanent(status_code: int | None) -> bool:
    """A 4xx other than 408/409/425/429 will not succeed by retrying the same request."""
    if status_code is None:
        return False
    return 400 <= status_code < 500 and status_code not in (408, 409, 425, 429)
