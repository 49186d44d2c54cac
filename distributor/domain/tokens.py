"""Opaque signed tokens for links in emails (unsubscribe, preferences, confirmation).

A token names one subscriber on one list for one purpose. It is:

* **signed**: an HMAC-SHA256 tag (truncated to 128 bits) over the purpose and the payload, so a
  token cannot be forged or altered, nor reused for another purpose;
* **opaque**: the payload (ids and issue time) is masked with a keystream derived from the tag
  (a synthetic-IV construction with HMAC as the PRF), so nothing about the subscriber can be read
  from the URL;
* **compact**: ids and the time are unsigned varints, so a typical token is about 36 characters;
* **URL-safe**: base64url without padding, so it can go into a URL or HTML attribute unescaped.

Format (before base64url): ``version (1 byte) | tag (16 bytes) | masked payload``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from distributor.clock import SYSTEM_CLOCK

TOKEN_VERSION = 1
_TAG_BYTES = 16
# Three varints of at most 10 bytes each: enough for any 64-bit id and time.
_MAX_PAYLOAD_BYTES = 30
_MAX_TOKEN_CHARS = 96
# Tokens issued a little "in the future" are accepted (clocks of workers drift slightly).
_ALLOWED_CLOCK_SKEW_SECONDS = 300


class InvalidToken(ValueError):  # noqa: N818 - the name other modules import
    """The token is malformed, forged, altered, for another purpose, or expired."""


class ExpiredToken(InvalidToken):
    """The token is genuine but older than its purpose allows (a newer email has a fresh one)."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says."""

    subscriber_id: int
    list_id: int
    issued_at: int


@lru_cache(maxsize=16)
def _derive_key(secret: str, label: bytes) -> bytes:
    # Separate keys for the tag and the mask, so one never leaks anything about the other.
    # Cached: a send derives the same two keys for every one of its recipients.
    return hmac.digest(secret.encode("utf-8"), b"distributor-token:" + label, "sha256")


def _check_purpose(purpose: str) -> bytes:
    if not purpose or not purpose.isascii() or "\x00" in purpose:
        raise ValueError(f"token purpose must be a non-empty ASCII word (got {purpose!r})")
    return purpose.encode("ascii")


def _encode_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"token values must be non-negative integers (got {value})")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _decode_varints(data: bytes, count: int) -> list[int]:
    values: list[int] = []
    position = 0
    for _ in range(count):
        value = 0
        shift = 0
        while True:
            if position >= len(data) or shift > 63:
                raise InvalidToken("token payload is truncated")
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append(value)
    if position != len(data):
        raise InvalidToken("token payload has trailing bytes")
    return values


def _tag(secret: str, purpose: bytes, payload: bytes) -> bytes:
    key = _derive_key(secret, b"tag")
    message = bytes([TOKEN_VERSION]) + purpose + b"\x00" + payload
    return hmac.digest(key, message, "sha256")[:_TAG_BYTES]


def _mask(secret: str, tag: bytes, length: int) -> bytes:
    stream = hmac.digest(_derive_key(secret, b"mask"), tag, "sha256")
    return stream[:length]


def _xor(data: bytes, mask: bytes) -> bytes:
    length = len(data)
    if len(mask) != length:
        raise ValueError("mask and data differ in length")
    return (int.from_bytes(data, "big") ^ int.from_bytes(mask, "big")).to_bytes(length, "big")


class _KeyedSha256:
    """HMAC-SHA256 (RFC 2104) with the keyed inner and outer states computed once.

    Equal to ``hmac.digest(key, message, "sha256")``, at about half its cost per call (the
    one-shot OpenSSL path sets up a new context every time).
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\x00")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


class TokenSigner:
    """Makes tokens for one secret and purpose; the keys are derived once.

    A send makes one token per recipient, so this is on the hot path: the per-call work is
    two HMAC-SHA256 computations, a few varints and base64.
    """

    __slots__ = ("_mask_key", "_prefix", "_tag_key", "_varints", "_version")

    def __init__(self, secret: str, purpose: str) -> None:
        if not secret:
            raise ValueError("a token secret is required")
        self._tag_key = _KeyedSha256(_derive_key(secret, b"tag"))
        self._mask_key = _KeyedSha256(_derive_key(secret, b"mask"))
        self._version = bytes([TOKEN_VERSION])
        self._prefix = self._version + _check_purpose(purpose) + b"\x00"
        # List ids and issue times repeat across a send; their varints are kept.
        self._varints: dict[int, bytes] = {}

    def _varint(self, value: int) -> bytes:
        encoded = self._varints.get(value)
        if encoded is None:
            encoded = _encode_varint(value)
            if len(self._varints) < 4096:
                self._varints[value] = encoded
        return encoded

    def make(self, subscriber_id: int, list_id: int, issued_at: int | None = None) -> str:
        """The token for ``subscriber_id`` on ``list_id`` (see :func:`make_token`)."""
        when = int(SYSTEM_CLOCK.now().timestamp()) if issued_at is None else issued_at
        payload = _encode_varint(subscriber_id) + self._varint(list_id) + self._varint(when)
        if len(payload) > _MAX_PAYLOAD_BYTES:
            raise ValueError("token values are too large")
        tag = self._tag_key.digest(self._prefix + payload)[:_TAG_BYTES]
        mask = self._mask_key.digest(tag)
        size = len(payload)
        masked = (int.from_bytes(payload) ^ int.from_bytes(mask[:size])).to_bytes(size)
        raw = self._version + tag + masked
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=16)
def token_signer(secret: str, purpose: str) -> TokenSigner:
    """The (cached) signer for ``secret`` and ``purpose``."""
    return TokenSigner(secret, purpose)


def make_token(
    secret: str, purpose: str, subscriber_id: int, list_id: int, issued_at: int | None = None
) -> str:
    """A URL-safe opaque token for ``subscriber_id`` on ``list_id``, valid for ``purpose`` only.

    ``issued_at`` (unix seconds) defaults to now; :func:`read_token` uses it for expiry.
    """
    return token_signer(secret, purpose).make(subscriber_id, list_id, issued_at)


def read_token(
    secret: str,
    purpose: str,
    token: str,
    max_age_seconds: int | None,
    *,
    now: int | None = None,
) -> TokenClaims:
    """Verify ``token`` for ``purpose`` and return its claims.

    ``max_age_seconds=None`` means the token never expires (unsubscribe links must keep working
    in old emails). Raises :class:`InvalidToken` saying why the token was refused.
    """
    purpose_bytes = _check_purpose(purpose)
    if not token or len(token) > _MAX_TOKEN_CHARS or not token.isascii():
        raise InvalidToken("token is empty, too long or not ASCII")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("token is not valid base64url") from None
    if len(raw) < 1 + _TAG_BYTES + 3 or len(raw) > 1 + _TAG_BYTES + _MAX_PAYLOAD_BYTES:
        raise InvalidToken("token has the wrong length")
    if raw[0] != TOKEN_VERSION:
        raise InvalidToken(f"token version {raw[0]} is not supported")
    tag = raw[1 : 1 + _TAG_BYTES]
    masked = raw[1 + _TAG_BYTES :]
    payload = _xor(masked, _mask(secret, tag, len(masked)))
    if not hmac.compare_digest(tag, _tag(secret, purpose_bytes, payload)):
        raise InvalidToken("token signature does not match (forged, altered or wrong purpose)")
    subscriber_id, list_id, issued_at = _decode_varints(payload, 3)
    current = int(SYSTEM_CLOCK.now().timestamp()) if now is None else now
    if issued_at > current + _ALLOWED_CLOCK_SKEW_SECONDS:
        raise InvalidToken("token was issued in the future")
    if max_age_seconds is not None and current - issued_at > max_age_seconds:
        raise ExpiredToken("token has expired")
    return TokenClaims(subscriber_id=subscriber_id, list_id=list_id, issued_at=issued_at)
