"""Pure rules of the subscriber area: addresses, event classification, limits, signatures."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from distributor.adapters.sendgrid_webhook import (
    WebhookRejected,
    load_public_key,
    parse_events,
    provider_event,
    verify_signature,
)
from distributor.domain.subscribers import SuppressionReason
from distributor.services.subscribers import canonical_email, email_problem, language_problem
from distributor.services.suppression import classify_event
from distributor.web.throttle import SlidingWindowLimiter


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org",
        "first.last+news@mail.example.co.uk",
        "o'brien@example.ie",
        "  spaced@example.org  ",
        "zhao@例子.中国",
    ],
)
def test_deliverable_looking_addresses_pass(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("", "empty"),
        ("no-at-sign", "exactly one @"),
        ("two@@example.org", "exactly one @"),
        ("@example.org", "before @"),
        ("name@localhost", "example.org"),
        ("name@example..org", "example.org"),
        (".lead@example.org", "misplaced dot"),
        ("a..b@example.org", "misplaced dot"),
        ("李@example.org", "Latin letters"),
        ("spa ce@example.org", "before @"),
        ("x@1.2.3.4", "not a number"),
        ("x" * 250 + "@example.org", "longer than"),
    ],
)
def test_bad_addresses_say_what_is_wrong(address: str, fragment: str) -> None:
    problem = email_problem(address)
    assert problem is not None
    assert fragment in problem


def test_canonical_form_is_lower_case_with_an_ascii_domain() -> None:
    assert canonical_email(" Ada@Example.ORG ") == "ada@example.org"
    assert canonical_email("zhao@例子.中国") == "zhao@xn--fsqu00a.xn--fiqs8s"
    assert canonical_email(canonical_email("zhao@例子.中国")) == "zhao@xn--fsqu00a.xn--fiqs8s"


@pytest.mark.parametrize("tag", ["en", "zh", "zh-Hans", "en-GB", "yue-HK", "zh_hans"])
def test_language_tags(tag: str) -> None:
    assert language_problem(tag) is None


@pytest.mark.parametrize("tag", ["english", "e", "xx-bad", "en-", "", "und"])
def test_bad_language_tags(tag: str) -> None:
    assert language_problem(tag) is not None


@pytest.mark.parametrize(
    ("event", "kind", "reason"),
    [
        ({"event": "bounce", "type": "bounce"}, "suppress", SuppressionReason.HARD_BOUNCE),
        ({"event": "bounce"}, "suppress", SuppressionReason.HARD_BOUNCE),
        ({"event": "bounce", "type": "blocked"}, "soft_bounce", None),
        ({"event": "dropped", "reason": "Bounced Address"}, "suppress", SuppressionReason.DROPPED),
        ({"event": "dropped", "reason": "Invalid"}, "suppress", SuppressionReason.DROPPED),
        (
            {"event": "dropped", "reason": "Spam Reporting Address"},
            "suppress",
            SuppressionReason.SPAM_REPORT,
        ),
        ({"event": "spamreport"}, "suppress", SuppressionReason.SPAM_REPORT),
        ({"event": "unsubscribe"}, "suppress", SuppressionReason.UNSUBSCRIBE),
        ({"event": "group_unsubscribe"}, "unsubscribe_list", None),
        ({"event": "delivered"}, "delivered", None),
    ],
)
def test_events_that_act(
    event: dict[str, str], kind: str, reason: SuppressionReason | None
) -> None:
    action = classify_event(provider_event(event))
    assert action is not None
    assert action.kind == kind
    assert action.reason == reason


@pytest.mark.parametrize(
    "event",
    [
        {"event": "processed"},
        {"event": "deferred"},
        {"event": "open"},
        {"event": "click"},
        {"event": "dropped", "reason": "Unsubscribed Address"},
        {"event": "group_resubscribe"},
        {},
    ],
)
def test_events_that_do_not_act(event: dict[str, str]) -> None:
    assert classify_event(provider_event(event)) is None


def test_sliding_window_allows_the_limit_then_waits_for_the_oldest_hit() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=60)
    assert [limiter.hit("a", now=t) for t in (0, 10, 20)] == [None, None, None]
    wait = limiter.hit("a", now=30)
    assert wait == pytest.approx(30)
    assert limiter.hit("b", now=30) is None  # per address
    assert limiter.hit("a", now=60.5) is None  # the hit at 0 left the window


# ----------------------------------------------------------------------- signatures
@pytest.fixture(scope="module")
def key_pair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def _sign(private: ec.EllipticCurvePrivateKey, stamp: str, body: bytes) -> str:
    return base64.b64encode(private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def test_signature_over_timestamp_and_raw_body_verifies(
    key_pair: tuple[ec.EllipticCurvePrivateKey, str],
) -> None:
    private, public_b64 = key_pair
    body = b'[{"event":"delivered"}]\r\n'
    key = load_public_key(public_b64)
    verify_signature(
        key,
        _sign(private, "1700000000", body),
        "1700000000",
        body,
        max_age_seconds=600,
        now=1_700_000_100,
    )
    with pytest.raises(WebhookRejected) as stale:
        verify_signature(
            key,
            _sign(private, "1700000000", body),
            "1700000000",
            body,
            max_age_seconds=600,
            now=1_700_000_601,
        )
    assert stale.value.status_code == 403
    with pytest.raises(WebhookRejected):
        verify_signature(
            key,
            _sign(private, "1700000000", body),
            "1700000001",
            body,
            max_age_seconds=600,
            now=1_700_000_000,
        )


def test_public_key_may_be_pem_armoured_but_must_be_p256(
    key_pair: tuple[ec.EllipticCurvePrivateKey, str],
) -> None:
    _, public_b64 = key_pair
    armoured = f"-----BEGIN PUBLIC KEY-----\n{public_b64}\n-----END PUBLIC KEY-----\n"
    assert load_public_key(armoured).curve.name == "secp256r1"
    other = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="P-256"):
        load_public_key(base64.b64encode(other).decode())
    with pytest.raises(ValueError, match="base64 DER"):
        load_public_key("not a key")


def test_parse_events_keeps_objects_and_refuses_non_arrays() -> None:
    body = json.dumps([{"event": "delivered"}, "junk", 3, {"event": "open"}]).encode()
    assert parse_events(body) == [{"event": "delivered"}, {"event": "open"}]
    for bad in (b"{}", b"nope", b"\xff\xfe"):
        with pytest.raises(WebhookRejected) as refused:
            parse_events(bad)
        assert refused.value.status_code == 400
