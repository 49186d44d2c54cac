"""Partner pushes: recorded on change, signed, verifiable by the partner, retried with back-off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from distributor.adapters.webhook_push import HttpxPushSender, InMemoryPushSender, PushRequest
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.partners import push_headers, verify_push
from distributor.services import events
from distributor.services.feeds import (
    PartnerSettings,
    create_partner,
    partner_push_log,
    push_due_partners,
)
from tests.conftest import make_settings
from tests.factories.feed_stories import BASE_TIME, english_feed_article, upsert_article
from tests.support.schemas import ninjs_validator, schema_errors

NOW = BASE_TIME + timedelta(days=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def feed_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


def _uow(settings: Settings) -> Any:
    return partial(unit_of_work, settings.database_url)


def _setup(settings: Settings, **partner: Any) -> tuple[int, str]:
    with unit_of_work(settings.database_url) as session:
        created = create_partner(
            session,
            "Push Partner",
            PartnerSettings(push_url="https://partner.example.net/hook", **partner),
            NOW,
        )
        article_id = upsert_article(session, english_feed_article(1))
        events.article_changed(session, [article_id], "published", NOW)
        events.article_changed(session, [article_id], "published", NOW)  # idempotent
    assert created.push_secret is not None
    return article_id, created.push_secret


def test_push_is_signed_and_retried_after_failure(feed_settings: Settings) -> None:
    _article_id, secret = _setup(feed_settings, ninjs_version="2.2")
    sender = InMemoryPushSender.answering([503, 200])
    clock = Clock(NOW)
    first = push_due_partners(_uow(feed_settings), feed_settings, sender, clock, jitter=lambda: 0.0)
    assert (first.delivered, first.retrying) == (0, 1)
    assert len(sender.sent) == 1
    request = sender.sent[0]
    assert verify_push(
        secret,
        request.headers["X-Distributor-Timestamp"],
        request.headers["X-Distributor-Signature"],
        request.body,
        now=int(NOW.timestamp()),
    )
    assert not verify_push(
        "whsec_wrong",
        request.headers["X-Distributor-Timestamp"],
        request.headers["X-Distributor-Signature"],
        request.body,
        now=int(NOW.timestamp()),
    )
    item = json.loads(request.body)
    assert schema_errors(ninjs_validator("2.2"), item) == []
    assert item["pubstatus"] == "usable"
    # Not due yet: nothing is sent before the back-off has passed.
    clock.now = NOW + timedelta(seconds=5)
    assert push_due_partners(_uow(feed_settings), feed_settings, sender, clock).delivered == 0
    assert len(sender.sent) == 1
    clock.now = NOW + timedelta(minutes=5)
    second = push_due_partners(_uow(feed_settings), feed_settings, sender, clock)
    assert second.delivered == 1
    assert sender.sent[1].body == request.body
    with unit_of_work(feed_settings.database_url) as session:
        log = partner_push_log(session, "Push Partner")
        assert [(p.status, p.attempts, p.last_status_code) for p in log] == [("delivered", 2, 200)]
    clock.now = NOW + timedelta(hours=5)
    assert push_due_partners(_uow(feed_settings), feed_settings, sender, clock).delivered == 0


def test_permanent_failure_is_not_retried(feed_settings: Settings) -> None:
    _setup(feed_settings)
    sender = InMemoryPushSender.answering([410])
    report = push_due_partners(_uow(feed_settings), feed_settings, sender, Clock(NOW))
    assert report.failed == 1
    later = push_due_partners(
        _uow(feed_settings), feed_settings, sender, Clock(NOW + timedelta(days=1))
    )
    assert later.delivered == later.failed == 0
    assert len(sender.sent) == 1


def test_embargoed_story_waits_for_release_unless_allowed(feed_settings: Settings) -> None:
    release = NOW + timedelta(hours=2)
    with unit_of_work(feed_settings.database_url) as session:
        create_partner(session, "Waits", PartnerSettings(push_url="https://a.example.net/h"), NOW)
        create_partner(
            session,
            "Early",
            PartnerSettings(push_url="https://b.example.net/h", allow_embargoed=True),
            NOW,
        )
        article_id = upsert_article(session, english_feed_article(3, embargo_until=release))
        events.article_changed(session, [article_id], "published", NOW)
        events.article_changed(session, [article_id], "published", NOW)  # records nothing new
        # Only the partner allowed early access gets a row before the release.
        assert session.scalars(select(models.PartnerPush.event)).all() == ["published"]
    sender = InMemoryPushSender()
    push_due_partners(_uow(feed_settings), feed_settings, sender, Clock(NOW))
    assert [r.url for r in sender.sent] == ["https://b.example.net/h"]
    assert json.loads(sender.sent[0].body)["pubStatus"] == "withheld"
    with unit_of_work(feed_settings.database_url) as session:
        events.release_embargoes(session, release + timedelta(seconds=1))
    push_due_partners(
        _uow(feed_settings), feed_settings, sender, Clock(release + timedelta(seconds=2))
    )
    released = [
        (r.url, json.loads(r.body)["pubStatus"], r.headers["X-Distributor-Event"])
        for r in sender.sent[1:]
    ]
    assert sorted(released) == [
        ("https://a.example.net/h", "usable", "released"),
        ("https://b.example.net/h", "usable", "released"),
    ]


class _Receiver(BaseHTTPRequestHandler):
    secret = ""
    results: ClassVar[list[tuple[bool, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = verify_push(
            self.secret,
            self.headers.get("X-Distributor-Timestamp"),
            self.headers.get("X-Distributor-Signature"),
            body,
            now=int(datetime.now().timestamp()),
        )
        self.results.append((valid, json.loads(body)))
        self.send_response(204 if valid else 401)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


def test_real_http_push_verifies_at_the_partner(receiver: tuple[str, type[_Receiver]]) -> None:
    url, handler = receiver
    handler.secret = "whsec_shared"
    handler.results = []
    body = json.dumps({"uri": "https://magazine.example.org/?p=1", "version": "2"}).encode()
    timestamp = int(datetime.now().timestamp())
    sender = HttpxPushSender(timeout_seconds=5, allow_private_addresses=True)
    try:
        good = sender.send(
            PushRequest(url, body, push_headers("whsec_shared", timestamp, body, "revised", "1-1"))
        )
        forged = sender.send(
            PushRequest(url, body, push_headers("whsec_other", timestamp, body, "revised", "1-2"))
        )
        down = sender.send(PushRequest("http://127.0.0.1:9/none", body, {}))
    finally:
        sender.close()
    assert good.ok
    assert good.status_code == 204
    assert forged.status_code == 401
    assert not forged.ok
    assert down.status_code is None
    assert down.error
    assert [valid for valid, _ in handler.results] == [True, False]
