"""Raw provider payloads (address, IP, user agent) are kept for EVENT_RETENTION_DAYS only: the
embedded scheduler's periodic purge scrubs older ones, and issue reports still count them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from distributor.config import Settings
from distributor.db.models import ProviderEvent, utcnow
from distributor.db.session import engine_for, unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.reports import issue_report
from distributor.services.subscribers import add_subscriber, create_list
from tests.conftest import make_settings
from tests.factories.sending import seed_issue_ledger
from tests.security.test_erasure import database_hits
from tests.support.live_app import live_app
from tests.support.webhook_signing import EventSigner, event_body


def _event(kind: str, email: str, event_id: str, issue: int, delivery: int) -> dict[str, Any]:
    return {
        "email": email,
        "event": kind,
        "sg_event_id": event_id,
        "timestamp": int(time.time()),
        "ip": "192.0.2.44",
        "useragent": f"phone-of-{event_id}",
        "dst_issue": str(issue),
        "dst_delivery": str(delivery),
    }


def test_old_payloads_are_scrubbed_by_the_periodic_purge(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.celery_app import app as celery_app
    from workers.embedded import EmbeddedRuntime

    signer = EventSigner()
    settings = use_settings(
        make_settings(
            tmp_path,
            sqlite_url,
            SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key_b64,
            EVENT_RETENTION_DAYS="30",
        )
    )
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", opt_in=OptIn.SINGLE)
        recipients = []
        for email in ("old@example.org", "new@example.org"):
            member = add_subscriber(session, email, "weekly", confirmed=True)
            recipients.append((member.subscriber_id, member.list_id, email))
        issue_id, deliveries = seed_issue_ledger(session, ["weekly"], recipients)
    events = [
        _event("delivered", "old@example.org", "old-1", issue_id, deliveries["old@example.org"]),
        _event("delivered", "new@example.org", "new-1", issue_id, deliveries["new@example.org"]),
    ]
    with live_app(settings) as base:
        body = event_body(events)
        assert httpx.post(f"{base}/webhooks/sendgrid", content=body, headers=signer.sign(body))
    with unit_of_work(settings.database_url) as session:
        session.execute(
            update(ProviderEvent)
            .where(ProviderEvent.event_id == "old-1")
            .values(received_at=utcnow() - timedelta(days=31))
        )
        before = issue_report(session, issue_id)
    engine = engine_for(settings.database_url)
    assert database_hits(engine, ["phone-of-old-1"])

    # The periodic ticks are published at start (and then every tick period).
    runtime = EmbeddedRuntime(celery_app, tick_seconds=3600)
    runtime.start()
    try:
        deadline = time.monotonic() + 20
        while database_hits(engine, ["phone-of-old-1"]) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        runtime.stop()

    # The reader is still a reader: only the event payload lost the address.
    assert sorted(database_hits(engine, ["phone-of-old-1", "old@example.org"])) == [
        "deliveries.email (old@example.org)",
        "subscribers.email (old@example.org)",
    ]
    with unit_of_work(settings.database_url) as session:
        payloads = dict(
            session.execute(select(ProviderEvent.event_id, ProviderEvent.payload)).all()
        )
        after = issue_report(session, issue_id)
    # Within the retention period the raw payload stays (for support and debugging).
    assert payloads["new-1"]["useragent"] == "phone-of-new-1"
    assert payloads["old-1"]["event"] == "delivered"
    assert "email" not in payloads["old-1"]
    assert "ip" not in payloads["old-1"]
    assert after["delivered"] == before["delivered"] == 2
