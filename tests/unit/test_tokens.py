"""Signed opaque tokens: round trip, forgery, tampering, purpose and expiry."""

from __future__ import annotations

import base64
import re

import pytest

from distributor.domain.tokens import InvalidToken, TokenClaims, make_token, read_token

SECRET = "a-test-secret-of-decent-length-0123456789"
ISSUED = 1_700_000_000


def _raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize(
    ("subscriber_id", "list_id"), [(0, 0), (1, 1), (123_456, 42), (2**40, 2**31 - 1)]
)
def test_round_trip_returns_the_claims(subscriber_id: int, list_id: int) -> None:
    token = make_token(SECRET, "manage", subscriber_id, list_id, issued_at=ISSUED)
    claims = read_token(SECRET, "manage", token, None, now=ISSUED + 10)
    assert claims == TokenClaims(subscriber_id, list_id, ISSUED)


def test_token_is_url_safe_compact_and_opaque() -> None:
    token = make_token(SECRET, "manage", 123_456, 42, issued_at=ISSUED)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) <= 48
    # The ids must not be readable: neither as decimal text nor as raw varint bytes.
    raw = bytes(_raw(token))
    assert b"123456" not in raw
    assert bytes([0xC0, 0xC4, 0x07]) not in raw  # varint of 123456
    # Same ids, different secret: entirely different token.
    other = make_token(SECRET + "x", "manage", 123_456, 42, issued_at=ISSUED)
    assert other != token


def test_default_issue_time_is_now() -> None:
    token = make_token(SECRET, "confirm", 5, 6)
    claims = read_token(SECRET, "confirm", token, max_age_seconds=60)
    assert claims.subscriber_id == 5


def test_forged_token_with_another_secret_is_refused() -> None:
    forged = make_token("attacker-secret", "manage", 1, 1, issued_at=ISSUED)
    with pytest.raises(InvalidToken, match="signature"):
        read_token(SECRET, "manage", forged, None, now=ISSUED)


@pytest.mark.parametrize("position", [0, 1, 5, 16, 17, -1])
def test_any_altered_byte_is_refused(position: int) -> None:
    raw = _raw(make_token(SECRET, "manage", 77, 3, issued_at=ISSUED))
    raw[position] ^= 0x01
    with pytest.raises(InvalidToken):
        read_token(SECRET, "manage", _encode(bytes(raw)), None, now=ISSUED)


def test_wrong_purpose_is_refused() -> None:
    token = make_token(SECRET, "confirm", 1, 2, issued_at=ISSUED)
    with pytest.raises(InvalidToken, match="purpose"):
        read_token(SECRET, "manage", token, None, now=ISSUED)


def test_expired_token_is_refused_and_fresh_one_accepted() -> None:
    token = make_token(SECRET, "confirm", 1, 2, issued_at=ISSUED)
    assert read_token(SECRET, "confirm", token, 3600, now=ISSUED + 3600).list_id == 2
    with pytest.raises(InvalidToken, match="expired"):
        read_token(SECRET, "confirm", token, 3600, now=ISSUED + 3601)


def test_token_from_the_future_is_refused() -> None:
    token = make_token(SECRET, "confirm", 1, 2, issued_at=ISSUED + 86_400)
    with pytest.raises(InvalidToken, match="future"):
        read_token(SECRET, "confirm", token, None, now=ISSUED)


@pytest.mark.parametrize(
    "garbage", ["", "!!!", "a", "A" * 200, "é", "AAAA", _encode(b"\x02" + b"\x00" * 20)]
)
def test_malformed_tokens_are_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        read_token(SECRET, "manage", garbage, None, now=ISSUED)


def test_truncated_and_extended_tokens_are_refused() -> None:
    token = make_token(SECRET, "manage", 900, 9, issued_at=ISSUED)
    with pytest.raises(InvalidToken):
        read_token(SECRET, "manage", token[:-2], None, now=ISSUED)
    with pytest.raises(InvalidToken):
        read_token(SECRET, "manage", token + "AA", None, now=ISSUED)


def test_bad_arguments_are_rejected_when_making() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        make_token(SECRET, "manage", -1, 1)
    with pytest.raises(ValueError, match="purpose"):
        make_token(SECRET, "", 1, 1)
    with pytest.raises(ValueError, match="secret"):
        make_token("", "manage", 1, 1)


@pytest.mark.parametrize("key", [b"", b"k" * 32, b"k" * 64, bytes(range(200))])
def test_keyed_sha256_is_hmac_sha256(key: bytes) -> None:
    import hmac

    from distributor.domain.tokens import _KeyedSha256

    keyed = _KeyedSha256(key)
    for message in (b"", b"abc", bytes(range(256)) * 3):
        assert keyed.digest(message) == hmac.digest(key, message, "sha256")


@pytest.mark.parametrize(
    ("subscriber_id", "list_id", "issued"), [(0, 0, 0), (7, 3, ISSUED), (2**40, 2**31, 2**33)]
)
def test_signer_builds_the_documented_format(subscriber_id: int, list_id: int, issued: int) -> None:
    """version | HMAC tag over purpose and payload | payload masked with HMAC(tag)."""
    import hmac

    from distributor.domain.tokens import TOKEN_VERSION, _derive_key, _encode_varint

    payload = _encode_varint(subscriber_id) + _encode_varint(list_id) + _encode_varint(issued)
    tag_key, mask_key = _derive_key(SECRET, b"tag"), _derive_key(SECRET, b"mask")
    tag = hmac.digest(tag_key, bytes([TOKEN_VERSION]) + b"manage\x00" + payload, "sha256")[:16]
    mask = hmac.digest(mask_key, tag, "sha256")
    masked = bytes(a ^ b for a, b in zip(payload, mask, strict=False))
    expected = _encode(bytes([TOKEN_VERSION]) + tag + masked)
    assert make_token(SECRET, "manage", subscriber_id, list_id, issued_at=issued) == expected
