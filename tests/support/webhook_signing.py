"""SendGrid-style signed event webhook requests, with a key pair made for the test."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


class EventSigner:
    """A P-256 key pair made for the test, signing bodies the way SendGrid does."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_b64 = base64.b64encode(der).decode("ascii")

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Headers for ``body``: signature over ``timestamp + body``."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private_key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }


def event_body(events: list[dict[str, Any]]) -> bytes:
    """A JSON array as SendGrid posts it (ending in CRLF, as its own test payload does)."""
    return json.dumps(events).encode("utf-8") + b"\r\n"
