"""Feed documents built from the database: rebuilds, edits, embargo release, partners, archives."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select

from distributor.adapters.websub import InMemoryWebSubPublisher
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.articles import ArticleStatus
from distributor.domain.partners import FeedFormat
from distributor.services import events
from distributor.services.feeds import (
    PartnerError,
    PartnerSettings,
    create_partner,
    load_feed_document,
    notify_hub,
    rebuild_feeds,
    render_for,
)
from tests.conftest import make_settings
from tests.factories.feed_stories import (
    BASE_TIME,
    chinese_feed_article,
    english_feed_article,
    revised,
    upsert_article,
)
from tests.support.schemas import jsonfeed_validator, ninjs_validator, schema_errors

NOW = BASE_TIME + timedelta(days=10)


@pytest.fixture
def feed_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path, database_url, WEBSUB_HUB_URL="https://hub.example.org/", FEED_PAGE_SIZE="3"
    )


def _body(url: str, key: str) -> bytes:
    with unit_of_work(url) as session:
        document = load_feed_document(session, key)
    assert document is not None, key
    return document.body


def test_rebuild_stores_every_public_document(feed_settings: Settings) -> None:
    url = feed_settings.database_url
    with unit_of_work(url) as session:
        upsert_article(session, english_feed_article(1))
        upsert_article(session, chinese_feed_article())
    with unit_of_work(url) as session:
        report = rebuild_feeds(session, feed_settings, None, NOW)
    assert set(report.changed_keys) == {
        "public:rss",
        "public:atom",
        "public:jsonfeed",
        "public:ninjs",
    }
    assert sorted(report.public_topics_changed) == sorted(
        f"https://news.example.org/feeds/public{suffix}"
        for suffix in (".rss", ".atom", ".json", ".ninjs.json")
    )
    with unit_of_work(url) as session:
        row = session.scalar(
            select(models.FeedDocument).where(models.FeedDocument.key == "public:rss")
        )
        assert row is not None
        assert row.content_type == "application/rss+xml; charset=utf-8"
        assert gzip.decompress(row.body_gzip) == row.body
        assert row.item_count == 2
        assert row.etag.startswith('"')
        assert row.etag.endswith('"')
    parsed = feedparser.parse(_body(url, "public:rss"))
    assert not parsed.bozo
    assert len(parsed.entries) == 2
    assert schema_errors(jsonfeed_validator(), json.loads(_body(url, "public:jsonfeed"))) == []
    ninjs = json.loads(_body(url, "public:ninjs"))
    validator = ninjs_validator("3.1")
    assert all(schema_errors(validator, item) == [] for item in ninjs["items"])
    hub = InMemoryWebSubPublisher()
    assert notify_hub(feed_settings, hub, report.public_topics_changed) == []
    assert len(hub.pings) == 4
    assert all(p[0] == "https://hub.example.org/" for p in hub.pings)


def test_unchanged_rebuild_keeps_etag_and_edit_keeps_guid(feed_settings: Settings) -> None:
    url = feed_settings.database_url
    original = english_feed_article(1)
    with unit_of_work(url) as session:
        upsert_article(session, original)
        rebuild_feeds(session, feed_settings, None, NOW)
    with unit_of_work(url) as session:
        first = load_feed_document(session, "public:rss")
        again = rebuild_feeds(session, feed_settings, None, NOW + timedelta(hours=1))
        assert again.changed_keys == []
        second = load_feed_document(session, "public:rss")
    assert first is not None
    assert second is not None
    assert (first.etag, first.last_modified) == (second.etag, second.last_modified)
    with unit_of_work(url) as session:
        article_id = upsert_article(session, revised(original, title="Corrected headline"))
        events.article_changed(session, [article_id], "revised", NOW)
        dirty = events.take_dirty_article_ids(session)
        report = rebuild_feeds(session, feed_settings, dirty, NOW + timedelta(hours=2))
    assert dirty == [article_id]
    assert "public:rss" in report.changed_keys
    parsed = feedparser.parse(_body(url, "public:rss"))
    assert [entry.id for entry in parsed.entries] == [original.guid]
    assert parsed.entries[0].title == "Corrected headline"


def test_embargoed_story_appears_after_release(feed_settings: Settings) -> None:
    url = feed_settings.database_url
    release = NOW + timedelta(hours=1)
    with unit_of_work(url) as session:
        upsert_article(session, english_feed_article(1))
        embargoed_id = upsert_article(session, english_feed_article(2, embargo_until=release))
        rebuild_feeds(session, feed_settings, None, NOW)
    for key in ("public:rss", "public:atom", "public:jsonfeed", "public:ninjs"):
        assert b"night-shifts-2" not in _body(url, key), key
    with unit_of_work(url) as session:
        nothing = events.release_embargoes(session, NOW + timedelta(minutes=30))
    assert not nothing.needs_rebuild
    with unit_of_work(url) as session:
        decision = events.release_embargoes(session, release + timedelta(seconds=5))
    assert decision.released_article_ids == [embargoed_id]
    with unit_of_work(url) as session:
        rebuild_feeds(
            session, feed_settings, decision.released_article_ids, release + timedelta(seconds=5)
        )
    for key in ("public:rss", "public:atom", "public:jsonfeed", "public:ninjs"):
        assert b"night-shifts-2" in _body(url, key), key
    with unit_of_work(url) as session:
        assert not events.release_embargoes(session, release + timedelta(minutes=1)).needs_rebuild


def test_partner_sees_only_its_selection(feed_settings: Settings) -> None:
    url = feed_settings.database_url
    with unit_of_work(url) as session:
        upsert_article(session, english_feed_article(1, sections=("stories",), tags=("labour",)))
        upsert_article(session, english_feed_article(2, sections=("opinion",), tags=()))
        upsert_article(session, chinese_feed_article())
        upsert_article(
            session, english_feed_article(3, sections=("stories",), territories_allow=("US",))
        )
        zh = create_partner(session, "Taipei Daily", PartnerSettings(languages=("zh",)), NOW)
        gb = create_partner(
            session,
            "London Weekly",
            PartnerSettings(
                sections=("stories",),
                territory="GB",
                formats=("rss", "ninjs"),
                attribution="Via {publisher}: {url}",
            ),
            NOW,
        )
        rebuild_feeds(session, feed_settings, None, NOW)
    zh_feed = feedparser.parse(_body(url, f"partner:{zh.partner.id}:rss"))
    assert [entry.title for entry in zh_feed.entries] == ["女工们的夜班"]
    gb_feed = feedparser.parse(_body(url, f"partner:{gb.partner.id}:rss"))
    # Section "stories" in any language; not opinion; not the US-only story (partner in GB).
    assert sorted(entry.link for entry in gb_feed.entries) == [
        "https://magazine.example.org/stories/night-shifts-1",
        "https://magazine.example.org/zh/stories/101",
    ]
    for entry in gb_feed.entries:
        assert f'Via Distributor Demo Magazine: <a href="{entry.link}">' in entry.content[0].value
    self_links = [link["href"] for link in gb_feed.feed.links if link["rel"] == "self"]
    assert self_links == ["https://news.example.org/partners/feed/rss"]
    with unit_of_work(url) as session:
        assert load_feed_document(session, f"partner:{gb.partner.id}:atom") is None  # not enabled
        with pytest.raises(PartnerError, match="not enabled"):
            render_for(session, feed_settings, FeedFormat.ATOM, "London Weekly", NOW)


def test_archives_are_linked_and_stable(feed_settings: Settings) -> None:
    url = feed_settings.database_url  # FEED_PAGE_SIZE = 3
    with unit_of_work(url) as session:
        for number in range(1, 8):
            upsert_article(session, english_feed_article(number))
        rebuild_feeds(session, feed_settings, None, NOW)
    current = feedparser.parse(_body(url, "public:atom"))
    assert len(current.entries) == 3
    rels = {link["rel"]: link["href"] for link in current.feed.links}
    assert rels["prev-archive"] == "https://news.example.org/feeds/public/archive/2.atom"
    first_page = feedparser.parse(_body(url, "public:atom:archive:1"))
    page_rels = {link["rel"]: link["href"] for link in first_page.feed.links}
    assert page_rels["current"] == "https://news.example.org/feeds/public.atom"
    assert page_rels["next-archive"].endswith("/archive/2.atom")
    assert sorted(entry.link[-1] for entry in first_page.entries) == ["1", "2", "3"]
    archive_before = _body(url, "public:rss:archive:1")
    with unit_of_work(url) as session:
        upsert_article(session, english_feed_article(8))
        rebuild_feeds(session, feed_settings, None, NOW)
    assert _body(url, "public:rss:archive:1") == archive_before


def test_withdrawn_story_leaves_reader_feeds_and_is_canceled_in_ninjs(
    feed_settings: Settings,
) -> None:
    url = feed_settings.database_url
    article = english_feed_article(1)
    with unit_of_work(url) as session:
        upsert_article(session, article)
        rebuild_feeds(session, feed_settings, None, NOW)
    with unit_of_work(url) as session:
        article_id = upsert_article(session, revised(article, status=ArticleStatus.WITHDRAWN))
        rebuild_feeds(session, feed_settings, [article_id], NOW)
    assert feedparser.parse(_body(url, "public:rss")).entries == []
    items = json.loads(_body(url, "public:ninjs"))["items"]
    assert [item["pubStatus"] for item in items] == ["canceled"]
