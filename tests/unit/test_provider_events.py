"""SendGrid's event objects become ProviderEvents at the adapter edge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from distributor.adapters.sendgrid_webhook import provider_event, provider_events
from distributor.domain.provider_events import ACCEPTANCE_KINDS, EventKind
from distributor.services.sending import ACCEPTANCE_EVENTS


def test_a_sendgrid_event_in_our_terms() -> None:
    raw = {
        "event": "bounce",
        "type": "blocked",
        "email": "reader@example.org",
        "timestamp": 1_790_000_000,
        "sg_event_id": "ev-1",
        "reason": "421 try later",
        "dst_issue": "4",
        "dst_batch": "7",
        "dst_delivery": "not a number",
    }
    event = provider_event(raw)
    assert event.provider == "sendgrid"
    assert (event.event_id, event.kind, event.name) == ("ev-1", EventKind.BOUNCE, "bounce")
    assert event.soft_bounce
    assert event.email == "reader@example.org"
    assert event.occurred_at == datetime.fromtimestamp(1_790_000_000, tz=UTC)
    assert (event.issue_id, event.batch_id, event.delivery_id) == (4, 7, None)
    assert event.reason == "421 try later"
    assert event.payload == raw


def test_names_map_to_kinds_and_unknown_ones_keep_their_name() -> None:
    assert provider_event({"event": "spamreport"}).kind is EventKind.SPAM_REPORT
    assert not provider_event({"event": "bounce", "type": "bounce"}).soft_bounce
    assert provider_event({"event": "dropped", "response": "550 x"}).reason == "550 x"
    odd = provider_event({"event": "machine_opened"})
    assert (odd.kind, odd.name) == (EventKind.OTHER, "machine_opened")
    assert provider_event({"event": "open", "email": ""}).email is None


def test_an_event_without_an_id_gets_a_stable_one() -> None:
    raw = {"event": "open", "email": "a@example.org", "timestamp": 5}
    first = provider_event(raw).event_id
    assert first.startswith("derived:")
    assert provider_event(json.loads(json.dumps(raw))).event_id == first


def test_a_post_counts_the_entries_that_are_not_events() -> None:
    post = provider_events([{"event": "open"}, "text", {"no": "event"}, {"event": 3}])
    assert [event.kind for event in post.events] == [EventKind.OPEN]
    assert (post.invalid, post.received) == (3, 4)


def test_the_reconciler_reads_the_stored_names_of_acceptance_kinds() -> None:
    assert set(ACCEPTANCE_EVENTS) == {
        "processed",
        "delivered",
        "deferred",
        "bounce",
        "dropped",
        "open",
        "click",
    }
    assert set(ACCEPTANCE_EVENTS) == {kind.value for kind in ACCEPTANCE_KINDS}
