"""Every other path that makes a story public, one by one: public feeds and partner feeds over
HTTP, partner pushes and WebSub pings. An embargoed story reaches none of them before its time
and reaches them after (SQLite and PostgreSQL, moved clock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from distributor.adapters.webhook_push import InMemoryPushSender
from distributor.adapters.websub import InMemoryWebSubPublisher
from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.services import events
from distributor.services.feeds import (
    PartnerSettings,
    create_partner,
    notify_hub,
    push_due_partners,
    rebuild_feeds,
)
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.feed_stories import BASE_TIME, english_feed_article, upsert_article

NOW = BASE_TIME + timedelta(days=10)
RELEASE = NOW + timedelta(hours=3)
SECRET = "Leaked files show the ministry knew"
OPEN = "Night shifts at the river factory, part 1"
PUBLIC_FEEDS = ("/feeds/public.rss", "/feeds/public.atom", "/feeds/public.json")


@dataclass
class Newsroom:
    settings: Settings
    client: TestClient
    regular_key: str
    early_key: str

    def reopen(self) -> None:
        """A new server process's view (the feed cache lives FEED_CACHE_SECONDS per process)."""
        self.client.__exit__(None, None, None)
        self.client = TestClient(create_app(self.settings), base_url="https://testserver")
        self.client.__enter__()


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str) -> Iterator[Newsroom]:
    """An open story and an embargoed one, a regular partner and one allowed early ninjs, all
    feeds built at NOW (before the release)."""
    settings = make_settings(tmp_path, database_url, WEBSUB_HUB_URL="https://hub.example.org/")
    with unit_of_work(settings.database_url) as session:
        regular = create_partner(
            session,
            "Regular",
            PartnerSettings(
                formats=("rss", "atom", "jsonfeed", "ninjs"),
                push_url="https://regular.example.net/hook",
            ),
            NOW,
        )
        early = create_partner(
            session,
            "Early",
            PartnerSettings(
                formats=("ninjs",),
                allow_embargoed=True,
                push_url="https://early.example.net/hook",
            ),
            NOW,
        )
        ids = [
            upsert_article(session, english_feed_article(1)),
            upsert_article(session, english_feed_article(2, title=SECRET, embargo_until=RELEASE)),
        ]
        events.article_changed(session, ids, "published", NOW)
        rebuild_feeds(session, settings, None, NOW)
    client = TestClient(create_app(settings), base_url="https://testserver")
    client.__enter__()
    room = Newsroom(settings, client, regular.api_key.key, early.api_key.key)
    try:
        yield room
    finally:
        room.client.__exit__(None, None, None)


def _release(newsroom: Newsroom) -> list[str]:
    """The periodic release check and rebuild just after the embargo; the changed topics."""
    moment = RELEASE + timedelta(seconds=1)
    with unit_of_work(newsroom.settings.database_url) as session:
        decision = events.release_embargoes(session, moment)
        assert decision.needs_rebuild
        report = rebuild_feeds(session, newsroom.settings, decision.released_article_ids, moment)
    newsroom.reopen()
    return report.public_topics_changed


def test_public_feeds_hold_the_story_until_its_embargo_and_carry_it_after(
    newsroom: Newsroom,
) -> None:
    for path in PUBLIC_FEEDS:
        before = newsroom.client.get(path)
        assert before.status_code == 200, path
        assert OPEN in before.text, path
        assert SECRET not in before.text, path
    _release(newsroom)
    for path in PUBLIC_FEEDS:
        assert SECRET in newsroom.client.get(path).text, path


def test_partner_feeds_hold_the_story_and_an_early_partner_gets_it_only_withheld(
    newsroom: Newsroom,
) -> None:
    def feed(key: str, name: str) -> str:
        response = newsroom.client.get(f"/partners/feed/{name}", headers={"X-Api-Key": key})
        assert response.status_code == 200, (name, response.text)
        return response.text

    for name in ("rss", "atom", "jsonfeed", "ninjs"):
        text = feed(newsroom.regular_key, name)
        assert OPEN in text, name
        assert SECRET not in text, name
    early = json.loads(feed(newsroom.early_key, "ninjs"))
    withheld = [
        item for item in early["items"] if item.get("headlines", [{}])[0].get("value") == SECRET
    ]
    assert [item["pubStatus"] for item in withheld] == ["withheld"]
    assert withheld[0]["embargoedUntil"].startswith(f"{RELEASE:%Y-%m-%dT%H:%M}")

    _release(newsroom)
    for name in ("rss", "atom", "jsonfeed", "ninjs"):
        assert SECRET in feed(newsroom.regular_key, name), name
    released = json.loads(feed(newsroom.early_key, "ninjs"))
    statuses = {
        item["pubStatus"]
        for item in released["items"]
        if item.get("headlines", [{}])[0].get("value") == SECRET
    }
    assert statuses == {"usable"}


def test_pushes_carry_the_story_only_after_its_embargo_except_withheld_to_an_early_partner(
    newsroom: Newsroom,
) -> None:
    sender = InMemoryPushSender()
    session_factory = lambda: unit_of_work(newsroom.settings.database_url)  # noqa: E731

    push_due_partners(session_factory, newsroom.settings, sender, lambda: NOW)

    regular = [json.loads(r.body) for r in sender.sent if "regular" in r.url]
    assert regular
    assert all(SECRET not in json.dumps(body, ensure_ascii=False) for body in regular)
    early_secret = [
        json.loads(r.body)
        for r in sender.sent
        if "early" in r.url and SECRET in r.body.decode("utf-8")
    ]
    assert [body["pubStatus"] for body in early_secret] == ["withheld"]

    _release(newsroom)
    sent_before = len(sender.sent)
    push_due_partners(
        session_factory, newsroom.settings, sender, lambda: RELEASE + timedelta(seconds=2)
    )
    after = [
        (r.url, json.loads(r.body)["pubStatus"], r.headers["X-Distributor-Event"])
        for r in sender.sent[sent_before:]
        if SECRET in r.body.decode("utf-8")
    ]
    assert sorted(after) == [
        ("https://early.example.net/hook", "usable", "released"),
        ("https://regular.example.net/hook", "usable", "released"),
    ]


def test_websub_hub_is_pinged_for_the_story_only_when_its_embargo_ends(
    newsroom: Newsroom,
) -> None:
    hub = InMemoryWebSubPublisher()
    # An embargoed story arriving changes no public feed: nothing to ping.
    with unit_of_work(newsroom.settings.database_url) as session:
        late = upsert_article(
            session,
            english_feed_article(3, title="A second embargoed story", embargo_until=RELEASE),
        )
        report = rebuild_feeds(session, newsroom.settings, [late], NOW + timedelta(minutes=5))
    assert notify_hub(newsroom.settings, hub, report.public_topics_changed) == []
    assert hub.pings == []

    notify_hub(newsroom.settings, hub, _release(newsroom))

    topics = sorted(topic for _, topic in hub.pings)
    assert "https://news.example.org/feeds/public.rss" in topics
    assert all(hub_url == "https://hub.example.org/" for hub_url, _ in hub.pings)
