"""POST /webhooks/sendgrid over real HTTP: signature checks, de-duplication, suppression."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import Delivery, ProviderEvent, Subscriber, Subscription, Suppression
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.reports import issue_report
from distributor.services.subscribers import add_subscriber, create_list
from distributor.services.suppression import SOFT_BOUNCE_LIMIT, address_hash
from tests.conftest import make_settings
from tests.factories.sending import seed_issue_ledger
from tests.support.live_app import live_app
from tests.support.webhook_signing import EventSigner, event_body

READERS = [
    "ann@example.org",
    "bo@example.org",
    "cy@example.org",
    "di@example.org",
    "ed@example.org",
    "fay@example.org",
]


class Hook:
    """The running app, its settings, a signer and the seeded issue."""

    def __init__(self, settings: Settings, base: str, signer: EventSigner) -> None:
        self.settings = settings
        self.base = base
        self.signer = signer
        self.client = httpx.Client(base_url=base, follow_redirects=False)
        self.issue_id = 0
        self.deliveries: dict[str, int] = {}

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.client.post("/webhooks/sendgrid", content=body, headers=headers)

    def send(self, events: list[dict[str, Any]]) -> httpx.Response:
        body = event_body(events)
        return self.post(body, self.signer.sign(body))

    def event(self, kind: str, email: str, event_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "email": email,
            "timestamp": int(time.time()),
            "event": kind,
            "sg_event_id": event_id,
            "sg_message_id": f"msg-{event_id}.filter0001",
            "smtp-id": f"<{event_id}@example.org>",
            "category": ["newsletter", f"issue-{self.issue_id}"],
            "dst_issue": str(self.issue_id),
            "dst_delivery": str(self.deliveries[email]),
            **extra,
        }

    def session(self) -> Session:
        return session_factory(self.settings.database_url)()


def _start(settings: Settings) -> Iterator[Hook]:
    signer = EventSigner()
    settings = settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key_b64})
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
        recipients = []
        for email in READERS:
            weekly = add_subscriber(session, email, "weekly", confirmed=True)
            add_subscriber(session, email, "daily", confirmed=True)
            recipients.append((weekly.subscriber_id, weekly.list_id, email))
        issue_id, deliveries = seed_issue_ledger(session, ["weekly"], recipients)
    with live_app(settings) as base:
        hook = Hook(settings, base, signer)
        hook.issue_id, hook.deliveries = issue_id, deliveries
        with hook.client:
            yield hook


@pytest.fixture
def hook(tmp_path: Path, sqlite_url: str) -> Iterator[Hook]:
    yield from _start(make_settings(tmp_path, sqlite_url))


@pytest.fixture
def hook_on_each_database(tmp_path: Path, database_url: str) -> Iterator[Hook]:
    yield from _start(make_settings(tmp_path, database_url))


def _stored_events(hook: Hook) -> int:
    with hook.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProviderEvent)) or 0)


def _is_suppressed(hook: Hook, email: str) -> str | None:
    with hook.session() as session:
        return session.scalar(
            select(Suppression.reason).where(Suppression.email_hash == address_hash(email))
        )


def _statuses(hook: Hook, email: str) -> dict[int, str]:
    with hook.session() as session:
        rows = session.execute(
            select(Subscription.list_id, Subscription.status)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == email)
        ).all()
        return {int(list_id): str(status) for list_id, status in rows}


def _delivery_status(hook: Hook, email: str) -> str:
    with hook.session() as session:
        delivery = session.get(Delivery, hook.deliveries[email])
        assert delivery is not None
        return delivery.status


# ------------------------------------------------------------------------- rejections
def test_unsigned_request_is_rejected_and_nothing_stored(hook: Hook) -> None:
    body = event_body([hook.event("spamreport", "ann@example.org", "e-unsigned")])
    answer = hook.post(body, {"Content-Type": "application/json"})
    assert answer.status_code == 401
    assert _stored_events(hook) == 0
    assert _is_suppressed(hook, "ann@example.org") is None


def test_forged_signature_from_another_key_is_rejected(hook: Hook) -> None:
    body = event_body([hook.event("spamreport", "ann@example.org", "e-forged")])
    answer = hook.post(body, EventSigner().sign(body))
    assert answer.status_code == 403
    assert _stored_events(hook) == 0


def test_tampered_body_is_rejected(hook: Hook) -> None:
    original = event_body([hook.event("delivered", "ann@example.org", "e-tamper")])
    headers = hook.signer.sign(original)
    tampered = original.replace(b'"delivered"', b'"spamreport"')
    assert tampered != original
    assert hook.post(tampered, headers).status_code == 403
    # Even one byte more (a trailing newline) breaks the signature over the raw body.
    assert hook.post(original + b"\n", headers).status_code == 403
    assert _stored_events(hook) == 0
    assert _is_suppressed(hook, "ann@example.org") is None


def test_stale_and_future_timestamps_are_rejected(hook: Hook) -> None:
    body = event_body([hook.event("spamreport", "ann@example.org", "e-stale")])
    window = hook.settings.SENDGRID_WEBHOOK_MAX_AGE_SECONDS
    now = int(time.time())
    assert hook.post(body, hook.signer.sign(body, now - window - 30)).status_code == 403
    assert hook.post(body, hook.signer.sign(body, now + window + 30)).status_code == 403
    assert _stored_events(hook) == 0
    # Inside the window the very same body is accepted.
    assert hook.post(body, hook.signer.sign(body, now - window + 30)).status_code == 200


def test_malformed_requests_are_rejected(hook: Hook) -> None:
    body = event_body([hook.event("delivered", "ann@example.org", "e-malformed")])
    good = hook.signer.sign(body)
    not_base64 = {**good, "X-Twilio-Email-Event-Webhook-Signature": "%%%not base64%%%"}
    assert hook.post(body, not_base64).status_code == 400
    not_der = {
        **good,
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"garbage").decode(),
    }
    assert hook.post(body, not_der).status_code in (400, 403)
    bad_time = {**good, "X-Twilio-Email-Event-Webhook-Timestamp": "yesterday"}
    assert hook.post(body, bad_time).status_code == 400
    for signed_junk in (b"{not json", b'{"event": "delivered"}', "\u00ff".encode("latin-1")):
        assert hook.post(signed_junk, hook.signer.sign(signed_junk)).status_code == 400
    assert _stored_events(hook) == 0


def test_without_a_configured_key_every_post_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    signer = EventSigner()
    body = event_body([{"event": "spamreport", "email": "x@example.org", "sg_event_id": "n"}])
    with live_app(settings) as base, httpx.Client(base_url=base) as client:
        answer = client.post("/webhooks/sendgrid", content=body, headers=signer.sign(body))
    assert answer.status_code == 503


# ------------------------------------------------------------------------------ effects
def test_duplicates_count_once(hook_on_each_database: Hook) -> None:
    hook = hook_on_each_database
    events = [
        hook.event("processed", "ann@example.org", "dup-1"),
        hook.event("delivered", "ann@example.org", "dup-2", category="newsletter"),
        hook.event("delivered", "ann@example.org", "dup-2", category="newsletter"),
    ]
    first = hook.send(events)
    assert first.status_code == 200
    assert first.json()["new"] == 2
    assert first.json()["duplicates"] == 1
    second = hook.send(events)  # SendGrid retrying the whole post
    assert second.status_code == 200
    assert second.json()["new"] == 0
    assert _stored_events(hook) == 2
    assert _delivery_status(hook, "ann@example.org") == "delivered"
    with hook.session() as session:
        report = issue_report(session, hook.issue_id)
    assert report["delivered"] == 1


def test_events_suppress_unsubscribe_and_feed_the_report(hook_on_each_database: Hook) -> None:
    hook = hook_on_each_database
    with hook.session() as session:
        weekly_id = session.scalar(
            select(Subscription.list_id).limit(1).order_by(Subscription.list_id)
        )
    bounce_without_message_id = hook.event(
        "bounce",
        "bo@example.org",
        "b-1",
        type="bounce",
        status="5.1.1",
        reason="550 5.1.1 mailbox does not exist",
    )
    bounce_without_message_id.pop("sg_message_id")
    events = [
        hook.event("delivered", "ann@example.org", "a-1"),
        hook.event("spamreport", "ann@example.org", "a-2"),
        bounce_without_message_id,
        hook.event("delivered", "cy@example.org", "c-1"),
        hook.event("group_unsubscribe", "cy@example.org", "c-2", asm_group_id=7),
        hook.event("dropped", "di@example.org", "d-1", reason="Bounced Address"),
        hook.event("dropped", "ed@example.org", "e-1", reason="Unsubscribed Address"),
        hook.event("deferred", "fay@example.org", "f-1", response="421 try later", attempt="1"),
    ]
    answer = hook.send(events)
    assert answer.status_code == 200, answer.text

    assert _is_suppressed(hook, "ann@example.org") == "spam_report"
    assert set(_statuses(hook, "ann@example.org").values()) == {"unsubscribed"}
    assert _delivery_status(hook, "ann@example.org") == "complained"

    assert _is_suppressed(hook, "bo@example.org") == "hard_bounce"
    assert set(_statuses(hook, "bo@example.org").values()) == {"unsubscribed"}
    assert _delivery_status(hook, "bo@example.org") == "bounced"

    # A group unsubscribe leaves the list the message came from, nothing else.
    assert _is_suppressed(hook, "cy@example.org") is None
    cy = _statuses(hook, "cy@example.org")
    assert cy[weekly_id] == "unsubscribed"
    assert [status for list_id, status in cy.items() if list_id != weekly_id] == ["confirmed"]

    assert _is_suppressed(hook, "di@example.org") == "dropped"
    assert _is_suppressed(hook, "ed@example.org") is None
    assert _delivery_status(hook, "fay@example.org") == "deferred"

    with hook.session() as session:
        report = issue_report(session, hook.issue_id)
    assert report["recipients"] == len(READERS)
    assert report["sent"] == len(READERS)
    assert report["complained"] == 1
    assert report["bounced"] == 1
    assert report["unsubscribed"] == 1
    assert report["dropped"] == 2
    assert report["deferred"] == 1
    assert report["delivered"] == 2  # ann (then complained) and cy (then left)
    assert "opens" not in report
    assert "clicks" not in report


def test_soft_bounces_suppress_only_at_the_threshold(hook: Hook) -> None:
    soft = [
        hook.event("bounce", "fay@example.org", f"s-{n}", type="blocked", reason="mailbox full")
        for n in range(SOFT_BOUNCE_LIMIT)
    ]
    hook.send(soft[:-1])
    assert _is_suppressed(hook, "fay@example.org") is None
    # A delivery in between starts the count again.
    hook.send([hook.event("delivered", "fay@example.org", "s-ok")])
    hook.send([soft[-1]])
    assert _is_suppressed(hook, "fay@example.org") is None
    more = [
        hook.event("bounce", "fay@example.org", f"t-{n}", type="blocked", reason="mailbox full")
        for n in range(SOFT_BOUNCE_LIMIT)
    ]
    # The count is 1 now; the limit is reached on the (limit - 1)th of these.
    for number, event in enumerate(more[: SOFT_BOUNCE_LIMIT - 1], start=2):
        hook.send([event])
        expected = "soft_bounces" if number == SOFT_BOUNCE_LIMIT else None
        assert _is_suppressed(hook, "fay@example.org") == expected
    hook.send(more)  # one new event, the others are duplicates and count nothing
    with hook.session() as session:
        person = session.scalar(select(Subscriber).where(Subscriber.email == "fay@example.org"))
        assert person is not None
        assert person.soft_bounces == SOFT_BOUNCE_LIMIT + 1
    assert set(_statuses(hook, "fay@example.org").values()) == {"unsubscribed"}


def test_event_posts_round_trip_as_json(hook: Hook) -> None:
    """What is stored is exactly what was posted (the payload is kept for audits)."""
    event = hook.event("delivered", "ann@example.org", "rt-1", category="newsletter")
    hook.send([event])
    with hook.session() as session:
        stored = session.scalar(select(ProviderEvent).where(ProviderEvent.event_id == "rt-1"))
        assert stored is not None
        assert json.loads(json.dumps(stored.payload)) == event
        assert stored.delivery_id == hook.deliveries["ann@example.org"]


def test_the_soft_bounce_limit_is_a_setting(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, sqlite_url).model_copy(update={"SOFT_BOUNCE_LIMIT": 1})
    for hook in _start(settings):
        hook.send([hook.event("bounce", "ed@example.org", "one", type="blocked")])
        assert _is_suppressed(hook, "ed@example.org") == "soft_bounces"
        assert _is_suppressed(hook, "fay@example.org") is None
