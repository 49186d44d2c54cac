"""SendGrid's Signed Event Webhook: verification, parsing, and its events as ProviderEvents.

SendGrid signs ``timestamp + raw body`` (no separator) with ECDSA P-256 / SHA-256 and sends
the DER signature base64-encoded in ``X-Twilio-Email-Event-Webhook-Signature`` with the
timestamp in ``X-Twilio-Email-Event-Webhook-Timestamp``. The public key shown in the SendGrid
settings is base64 DER SubjectPublicKeyInfo without PEM armour.

SendGrid documents no replay window; we refuse timestamps older (or further in the future)
than ``max_age_seconds``, so a captured request cannot be replayed later. Within the window,
duplicates are harmless because events are de-duplicated by ``sg_event_id``.

:func:`provider_events` is the edge: past it, services see only
:class:`~distributor.domain.provider_events.ProviderEvent` values, never SendGrid's keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from distributor.domain.provider_events import EventKind, ProviderEvent, ProviderEventPost

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


PROVIDER = "sendgrid"
# SendGrid's event names are the names we store (EventKind's values follow its spelling).
_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.OTHER}


def _int_arg(event: Mapping[str, Any], key: str) -> int | None:
    value = event.get(key)
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _event_id(event: Mapping[str, Any]) -> str:
    given = event.get("sg_event_id")
    if isinstance(given, str) and given:
        return given[:200]
    # No id (should not happen with SendGrid): derive a stable one from the content.
    digest = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
    return f"derived:{digest}"


def _occurred_at(event: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(event["timestamp"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def provider_event(event: Mapping[str, Any]) -> ProviderEvent:
    """One SendGrid event object as a :class:`ProviderEvent`.

    Our ``custom_args`` come back as top-level keys: ``dst_issue``, ``dst_batch`` and
    ``dst_delivery`` (strings). A bounce of type ``blocked`` is a soft bounce.
    """
    given = event.get("event")
    name = str(given)[:40] if given is not None else ""
    kind = _KINDS.get(name, EventKind.OTHER)
    address = event.get("email")
    reason = event.get("reason") or event.get("response")
    return ProviderEvent(
        provider=PROVIDER,
        event_id=_event_id(event),
        kind=kind,
        name=name,
        email=address if isinstance(address, str) and address else None,
        occurred_at=_occurred_at(event),
        issue_id=_int_arg(event, "dst_issue"),
        batch_id=_int_arg(event, "dst_batch"),
        delivery_id=_int_arg(event, "dst_delivery"),
        soft_bounce=str(event.get("type") or "bounce").lower() == "blocked",
        reason=str(reason) if reason else None,
        payload=dict(event),
    )


def provider_events(items: Iterable[object]) -> ProviderEventPost:
    """The entries of a SendGrid post as events; entries that are not event objects (not a
    JSON object, or no ``event`` name) are counted as invalid."""
    events: list[ProviderEvent] = []
    invalid = 0
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("event"), str):
            events.append(provider_event(item))
        else:
            invalid += 1
    return ProviderEventPost(tuple(events), invalid)
