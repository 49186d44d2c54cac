"""Helpers for the subscriber tests: the real app on a real port, SendGrid-style signing."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from distributor.config import Settings
from distributor.web.app import create_app
from tests.conftest import free_port


@contextmanager
def live_app(settings: Settings) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test web server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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


def read_outbox(folder: Path, prefix: str) -> list[Message]:
    """Messages in the outbox whose file names start with ``prefix``, oldest first."""
    paths = sorted(folder.glob(f"{prefix}*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [message_from_bytes(path.read_bytes()) for path in paths]


def body_text(message: Message) -> str:
    """The text/plain part of ``message``."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def seed_issue_ledger(
    session: Any, list_names: list[str], recipients: list[tuple[int, int, str]]
) -> tuple[int, dict[str, int]]:
    """An issue already sent to ``recipients`` (subscriber id, list id, email): its id and
    the delivery id of each address. Stands in for a finished send in webhook tests."""
    from distributor.db.models import Delivery, Issue, IssueList, MailingList, SendBatch

    issue = Issue(subject="Seeded issue", status="sent")
    session.add(issue)
    session.flush()
    for name in list_names:
        list_id = session.query(MailingList.id).filter(MailingList.name == name).scalar()
        session.add(IssueList(issue_id=issue.id, list_id=list_id))
    batch = SendBatch(issue_id=issue.id, seq=0, status="sent", recipient_count=len(recipients))
    session.add(batch)
    session.flush()
    ids: dict[str, int] = {}
    for subscriber_id, list_id, email in recipients:
        delivery = Delivery(
            issue_id=issue.id,
            batch_id=batch.id,
            subscriber_id=subscriber_id,
            list_id=list_id,
            email=email,
            status="sent",
        )
        session.add(delivery)
        session.flush()
        ids[email] = delivery.id
    return issue.id, ids
