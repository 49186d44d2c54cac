"""Story ids in the feeds (pure): minted ``tag:`` URIs (RFC 4151) unless the GUID is an http(s)
URL the story may use, and FEED_TAG_AUTHORITY, their authority."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest

from distributor.config import ConfigurationError, load_settings
from distributor.domain.articles import Article, is_http_guid
from distributor.rendering.feeds.common import item_id

STORED = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
TAG_URI = re.compile(
    r"^tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})*$"
)


def _stored(guid: str, source_id: int = 3, *, own: bool = False) -> Article:
    return Article(
        guid=guid,
        title="A story",
        canonical_url="https://news.example.org/a-story",
        id=1,
        source_id=source_id,
        stored_at=STORED,
        guid_is_feed_id=own,
    )


@pytest.mark.parametrize(
    ("guid", "expected"),
    [
        ("urn:cms:7", "tag:news.example.org,2026-12-01:source/3/urn:cms:7"),
        ("7", "tag:news.example.org,2026-12-01:source/3/7"),
        ("a b/ü%#x", "tag:news.example.org,2026-12-01:source/3/a%20b/%C3%BC%25%23x"),
        (
            "tag:cms.example,2020:9",
            "tag:news.example.org,2026-12-01:source/3/tag:cms.example,2020:9",
        ),
        # An http GUID that another story had first: minted too.
        ("https://cms.example/9", "tag:news.example.org,2026-12-01:source/3/https://cms.example/9"),
    ],
)
def test_minted_ids_are_tag_uris(guid: str, expected: str) -> None:
    minted = item_id(_stored(guid), "news.example.org")
    assert minted == expected
    assert TAG_URI.match(minted)


def test_an_http_guid_the_story_owns_is_its_id() -> None:
    assert item_id(_stored("https://cms.example/9", own=True), "news.example.org") == (
        "https://cms.example/9"
    )


def test_the_id_ignores_everything_editable_and_differs_per_source() -> None:
    article = _stored("urn:cms:7")
    revised = dataclasses.replace(
        article,
        title="Another title",
        canonical_url="https://news.example.org/moved",
        published_at=datetime(2027, 1, 1, tzinfo=UTC),
        updated_at=datetime(2027, 1, 2, tzinfo=UTC),
        revision=5,
    )
    assert item_id(revised, "news.example.org") == item_id(article, "news.example.org")
    other = dataclasses.replace(article, source_id=4)
    assert item_id(other, "news.example.org") != item_id(article, "news.example.org")


def test_an_article_that_was_never_stored_uses_an_http_guid_as_it_is() -> None:
    fresh = Article(guid="https://cms.example/1", title="t", canonical_url="https://x.example/")
    assert item_id(fresh, "news.example.org") == "https://cms.example/1"


@pytest.mark.parametrize(
    ("guid", "expected"),
    [
        ("https://cms.example/1", True),
        ("HTTP://cms.example/1", True),
        ("  https://cms.example/1 ", True),
        ("https:///no-host", False),
        ("ftp://cms.example/1", False),
        ("https://cms.example/a b", False),
        ("https://bücher.example/1", False),
        ("urn:uuid:1", False),
    ],
)
def test_which_guids_are_http_urls(guid: str, expected: bool) -> None:
    assert is_http_guid(guid) is expected


def test_feed_tag_authority_is_validated_at_start() -> None:
    assert load_settings({"FEED_TAG_AUTHORITY": "News.Example.org"}).feed_tag_authority == (
        "news.example.org"
    )
    assert load_settings({"FEED_TAG_AUTHORITY": "feeds@news.example.org"}).feed_tag_authority == (
        "feeds@news.example.org"
    )
    for bad in ("https://news.example.org", "news.example.org:8000", "news_example", "-a.org"):
        with pytest.raises(ConfigurationError, match="FEED_TAG_AUTHORITY"):
            load_settings({"FEED_TAG_AUTHORITY": bad})


def test_feed_tag_authority_defaults_to_a_host_we_name() -> None:
    given = load_settings({"PUBLIC_BASE_URL": "https://Distributor.News.example.org:8443/x"})
    assert given.feed_tag_authority == "distributor.news.example.org"
    # An IP address (the default PUBLIC_BASE_URL, or serve's own address) is nobody's name:
    # the publisher's host is used instead.
    assert load_settings({}).feed_tag_authority == "magazine.example.org"
    served = load_settings(
        {"PUBLIC_BASE_URL": "http://127.0.0.1:8000", "PUBLISHER_URL": "https://news.example.org"}
    )
    assert served.feed_tag_authority == "news.example.org"
    nameless = load_settings(
        {"PUBLIC_BASE_URL": "http://10.0.0.5:8000", "PUBLISHER_URL": "http://[::1]:8000"}
    )
    assert nameless.feed_tag_authority == "localhost"
