"""Verification of SendGrid's Signed Event Webhook, and parsing of its JSON body.

SendGrid signs ``timestamp + raw body`` (no separator) with ECDSA P-256 / SHA-256 and sends
the DER signature base64-encoded in ``X-Twilio-Email-Event-Webhook-Signature`` with the
timestamp in ``X-Twilio-Email-Event-Webhook-Timestamp``. The public key shown in the SendGrid
settings is base64 DER SubjectPublicKeyInfo without PEM armour.

SendGrid documents no replay window; we refuse timestamps older (or further in the future)
than ``max_age_seconds``, so a captured request cannot be replayed later. Within the window,
duplicates are harmless because events are de-duplicated by ``sg_event_id``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# SendGrid batches events; a generous cap still stops a memory-exhaustion attempt.
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_EVENTS = 10_000


class WebhookRejected(Exception):  # noqa: N818 - it is a verdict, not a crash
    """The request is not an authentic, fresh, well-formed SendGrid event post."""

    def __init__(self, message: str, status_code: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def load_public_key(public_key_b64: str) -> ec.EllipticCurvePublicKey:
    """The P-256 verification key from SendGrid's base64 DER (or PEM-armoured) form."""
    cleaned = "".join(
        line
        for line in public_key_b64.strip().splitlines()
        if line and not line.startswith("-----")
    )
    try:
        key = load_der_public_key(base64.b64decode(cleaned, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(
            "SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER public key"
            " (copy it from SendGrid: Settings > Mail Settings > Signed Event Webhook)"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("SENDGRID_WEBHOOK_PUBLIC_KEY must be an ECDSA P-256 public key")
    return key


def verify_signature(
    public_key: ec.EllipticCurvePublicKey,
    signature_b64: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    max_age_seconds: int,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookRejected` unless ``body`` is signed by SendGrid and fresh."""
    if not signature_b64 or not timestamp:
        raise WebhookRejected("missing signature or timestamp header", 401)
    # isascii() first: str.isdigit() is also true for "²" or "٣", which int() or the
    # ASCII encoding below would then refuse with an unhandled error.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise WebhookRejected("timestamp header is not a unix time", 400)
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > max_age_seconds:
        raise WebhookRejected("timestamp is outside the accepted window (stale or replayed)")
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected("signature header is not base64", 400) from None
    try:
        public_key.verify(signature, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise WebhookRejected("signature does not match the body") from None
    except ValueError:  # malformed DER inside valid base64
        raise WebhookRejected("signature is malformed", 400) from None


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """The event objects of a verified body; :class:`WebhookRejected` (400) when malformed.

    Entries that are not JSON objects are dropped rather than failing the whole post: the
    rest of the batch is still worth recording.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("body is not UTF-8 JSON", 400) from None
    if not isinstance(data, list):
        raise WebhookRejected("body must be a JSON array of events", 400)
    if len(data) > MAX_EVENTS:
        raise WebhookRejected(f"more than {MAX_EVENTS} events in one post", 413)
    return [item for item in data if isinstance(item, dict)]
