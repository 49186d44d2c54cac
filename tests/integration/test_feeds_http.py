"""Feeds over HTTP: media types, gzip, ETag/Last-Modified and 304s, keys, selection, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.feeds import (
    PartnerSettings,
    create_partner,
    rebuild_feeds,
    rotate_partner_key,
)
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.feed_stories import (
    BASE_TIME,
    chinese_feed_article,
    english_feed_article,
    upsert_article,
)

NOW = BASE_TIME + timedelta(days=10)


@pytest.fixture
def feed_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return make_settings(
        tmp_path,
        sqlite_url,
        WEBSUB_HUB_URL="https://hub.example.org/",
        PARTNER_RATE_LIMIT_PER_MINUTE="1000",
    )


@pytest.fixture
def keys(feed_settings: Settings) -> dict[str, str]:
    with unit_of_work(feed_settings.database_url) as session:
        upsert_article(session, english_feed_article(1, sections=("stories",)))
        upsert_article(session, english_feed_article(2, sections=("opinion",)))
        upsert_article(session, chinese_feed_article())
        opinion = create_partner(
            session, "Opinion Desk", PartnerSettings(sections=("opinion",)), NOW
        )
        slow = create_partner(
            session, "Slow Partner", PartnerSettings(rate_limit_per_minute=2), NOW
        )
        rebuild_feeds(session, feed_settings, None, NOW)
    return {"opinion": opinion.api_key.key, "slow": slow.api_key.key}


@pytest.fixture
def client(feed_settings: Settings, keys: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(feed_settings)
    app.state.feed_cache_seconds = 0.0  # see every change at once
    app.state.partner_fetch_flush_seconds = 0.0
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/public.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/public.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/public.json", "application/feed+json; charset=utf-8"),
        ("/feeds/public.ninjs.json", "application/json; charset=utf-8"),
    ],
)
def test_public_feeds_have_media_type_caching_and_hub(
    client: TestClient, path: str, media_type: str
) -> None:
    response = client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["cache-control"].startswith("public")
    assert "Accept-Encoding" in response.headers["vary"]
    assert 'rel="hub"' in response.headers["link"]
    assert 'rel="self"' in response.headers["link"]
    assert "content-encoding" not in response.headers


def test_gzip_has_its_own_etag(client: TestClient) -> None:
    plain = client.get("/feeds/public.rss", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/public.rss", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert int(zipped.headers["content-length"]) < len(plain.content) // 2
    refused = client.get("/feeds/public.rss", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_conditional_get_gives_304(client: TestClient) -> None:
    first = client.get("/feeds/public.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = client.get("/feeds/public.atom", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    assert by_etag.headers["cache-control"]
    assert by_etag.headers["vary"]
    by_date = client.get("/feeds/public.atom", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    stale_tag = client.get(
        "/feeds/public.atom", headers={"If-None-Match": '"old"', "If-Modified-Since": modified}
    )
    assert stale_tag.status_code == 200
    earlier = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert (
        client.get("/feeds/public.atom", headers={"If-Modified-Since": earlier}).status_code == 200
    )
    assert (
        client.get("/feeds/public.atom", headers={"If-Modified-Since": "garbage"}).status_code
        == 200
    )


def test_feedparser_conditional_fetch(client: TestClient) -> None:
    first = client.get("/feeds/public.rss")
    parsed = feedparser.parse(first.content)
    assert len(parsed.entries) == 3
    second = client.get("/feeds/public.rss", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 304


def test_head_and_unknown_format(client: TestClient) -> None:
    head = client.head("/feeds/public.rss")
    assert head.status_code == 200
    assert head.headers["etag"]
    unknown = client.get("/feeds/public.xml")
    assert unknown.status_code == 404
    body = unknown.json()
    assert "unknown feed format" in body["error"]
    assert body["feeds"]["rss"] == "https://news.example.org/feeds/public.rss"
    assert client.get("/feeds/public/archive/9.rss").status_code == 404


def test_partner_key_is_required_and_checked(client: TestClient, keys: dict[str, str]) -> None:
    missing = client.get("/partners/feed/rss")
    assert missing.status_code == 401
    assert "X-Api-Key" in missing.json()["error"]
    assert missing.headers["www-authenticate"]
    wrong = client.get("/partners/feed/rss", headers={"X-Api-Key": keys["opinion"][:-2] + "xx"})
    assert wrong.status_code == 401
    junk = client.get("/partners/feed/rss", headers={"X-Api-Key": "letmein"})
    assert junk.status_code == 401
    ok = client.get("/partners/feed/rss", headers={"X-Api-Key": keys["opinion"]})
    assert ok.status_code == 200
    assert ok.headers["cache-control"].startswith("private")
    assert "X-Api-Key" in ok.headers["vary"]
    unknown = client.get("/partners/feed/pdf", headers={"X-Api-Key": keys["opinion"]})
    assert unknown.status_code == 404
    assert set(unknown.json()["feeds"]) == {"rss", "atom", "jsonfeed", "ninjs"}


def test_partner_sees_only_its_selection(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/partners/feed/atom", headers={"X-Api-Key": keys["opinion"]})
    parsed = feedparser.parse(response.content)
    assert [entry.link for entry in parsed.entries] == [
        "https://magazine.example.org/stories/night-shifts-2"
    ]
    assert "First published by" in parsed.entries[0].content[0].value
    self_link = next(link["href"] for link in parsed.feed.links if link["rel"] == "self")
    assert self_link == "https://news.example.org/partners/feed/atom"
    partner_304 = client.get(
        "/partners/feed/atom",
        headers={"X-Api-Key": keys["opinion"], "If-None-Match": response.headers["etag"]},
    )
    assert partner_304.status_code == 304


def test_rotated_key_stops_working(
    client: TestClient, keys: dict[str, str], feed_settings: Settings
) -> None:
    assert (
        client.get("/partners/feed/rss", headers={"X-Api-Key": keys["opinion"]}).status_code == 200
    )
    with unit_of_work(feed_settings.database_url) as session:
        new_key = rotate_partner_key(session, "Opinion Desk", NOW).key
    assert (
        client.get("/partners/feed/rss", headers={"X-Api-Key": keys["opinion"]}).status_code == 401
    )
    assert client.get("/partners/feed/rss", headers={"X-Api-Key": new_key}).status_code == 200


def test_rate_limit_per_key_and_fetch_counts(
    client: TestClient, keys: dict[str, str], feed_settings: Settings
) -> None:
    headers = {"X-Api-Key": keys["slow"]}
    statuses = [
        client.get("/partners/feed/jsonfeed", headers=headers).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = client.get("/partners/feed/jsonfeed", headers=headers)
    assert int(limited.headers["retry-after"]) >= 1
    # Another key has its own bucket.
    assert (
        client.get("/partners/feed/jsonfeed", headers={"X-Api-Key": keys["opinion"]}).status_code
        == 200
    )
    with unit_of_work(feed_settings.database_url) as session:
        slow = session.scalar(select(models.Partner).where(models.Partner.name == "Slow Partner"))
        assert slow is not None
        assert slow.fetch_count == 2
        assert slow.last_fetch_at is not None


def test_feeds_answer_head_like_get(client: TestClient) -> None:
    got = client.get("/feeds/public.atom", headers={"Accept-Encoding": "identity"})
    head = client.head("/feeds/public.atom", headers={"Accept-Encoding": "identity"})
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))
