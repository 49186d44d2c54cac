"""Partner rules: selection, territory, embargo visibility, API keys, push signatures, back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from distributor.domain.articles import ArticleStatus
from distributor.domain.partners import (
    PUSH_MAX_DELAY,
    FeedFormat,
    PartnerSelection,
    Visibility,
    api_key_prefix,
    generate_api_key,
    hash_api_key,
    language_matches,
    matches,
    parse_feed_format,
    push_failure_is_permanent,
    push_headers,
    push_retry_delay,
    sign_push,
    territory_allows,
    verify_push,
    visibility,
)
from tests.factories.feed_stories import BASE_TIME, chinese_feed_article, english_feed_article


def test_empty_selection_takes_everything() -> None:
    assert matches(english_feed_article(), PartnerSelection())
    assert matches(chinese_feed_article(), PartnerSelection())


def test_sections_and_tags_form_one_topical_filter() -> None:
    article = english_feed_article(sections=("stories",), tags=("labour",))
    assert matches(article, PartnerSelection(sections=("Stories",)))
    assert matches(article, PartnerSelection(tags=("LABOUR",)))
    assert matches(article, PartnerSelection(sections=("opinion",), tags=("labour",)))
    assert not matches(article, PartnerSelection(sections=("opinion",), tags=("sport",)))


def test_language_primary_tag_matches_variants() -> None:
    assert language_matches("zh-Hans", ("zh",))
    assert language_matches("zh_TW", ("zh",))
    assert not language_matches("zh-Hans", ("en",))
    assert not language_matches("zha", ("zh",))
    assert matches(chinese_feed_article(), PartnerSelection(languages=("zh",)))
    assert not matches(english_feed_article(), PartnerSelection(languages=("zh",)))


def test_territory_rules() -> None:
    only_gb = english_feed_article(territories_allow=("GB",))
    not_us = english_feed_article(territories_deny=("US",))
    assert territory_allows(only_gb, None)  # public: the restriction travels in the feed
    assert territory_allows(only_gb, "gb")
    assert not territory_allows(only_gb, "US")
    assert territory_allows(not_us, "GB")
    assert not territory_allows(not_us, "us")


@pytest.mark.parametrize("feed_format", list(FeedFormat))
def test_embargoed_story_visibility_by_format(feed_format: FeedFormat) -> None:
    article = english_feed_article(embargo_until=BASE_TIME + timedelta(days=1))
    before, after = BASE_TIME, BASE_TIME + timedelta(days=2)
    assert visibility(article, feed_format, before) is Visibility.HIDDEN
    early = visibility(article, feed_format, before, allow_embargoed=True)
    expected = Visibility.WITHHELD if feed_format is FeedFormat.NINJS else Visibility.HIDDEN
    assert early is expected
    assert visibility(article, feed_format, after) is Visibility.VISIBLE


def test_withdrawn_story_is_canceled_in_ninjs_only() -> None:
    article = english_feed_article(status=ArticleStatus.WITHDRAWN)
    assert visibility(article, FeedFormat.NINJS, BASE_TIME) is Visibility.CANCELED
    assert visibility(article, FeedFormat.RSS, BASE_TIME) is Visibility.HIDDEN


def test_feed_format_names() -> None:
    assert parse_feed_format(" RSS ") is FeedFormat.RSS
    with pytest.raises(ValueError, match="rss, atom, jsonfeed, ninjs"):
        parse_feed_format("xml")


def test_api_keys_are_random_prefixed_and_stored_hashed() -> None:
    first, second = generate_api_key(), generate_api_key()
    assert first.key != second.key
    assert first.key.startswith(f"dst_{first.prefix}_")
    assert api_key_prefix(first.key) == first.prefix
    assert first.digest == hash_api_key(first.key)
    assert first.key not in first.digest
    assert len(first.key) > 40
    assert api_key_prefix("dst_short_x") is None
    assert api_key_prefix("not-a-key") is None


def test_push_signature_verifies_and_rejects_tampering() -> None:
    body = '{"uri":"https://magazine.example.org/?p=1","headlines":[{"value":"夜班"}]}'.encode()
    headers = push_headers("whsec_test", 1_700_000_000, body, "published", "7-1")
    timestamp = headers["X-Distributor-Timestamp"]
    signature = headers["X-Distributor-Signature"]
    assert signature.startswith("v1=")
    now = 1_700_000_010
    assert verify_push("whsec_test", timestamp, signature, body, now=now)
    assert not verify_push("whsec_other", timestamp, signature, body, now=now)
    assert not verify_push("whsec_test", timestamp, signature, body + b" ", now=now)
    assert not verify_push("whsec_test", str(int(timestamp) + 1), signature, body, now=now)
    assert not verify_push("whsec_test", timestamp, signature, body, now=now + 3600)
    assert not verify_push("whsec_test", None, signature, body, now=now)
    assert not verify_push("whsec_test", "soon", signature, body, now=now)
    rotated = f"v1=deadbeef, {signature}"
    assert verify_push("whsec_test", timestamp, rotated, body, now=now)
    assert sign_push("whsec_test", 1, b"x") != sign_push("whsec_test", 2, b"x")


def test_retry_delay_grows_and_is_capped() -> None:
    delays = [push_retry_delay(attempt) for attempt in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[1] == 2 * delays[0]
    assert max(delays) == PUSH_MAX_DELAY
    assert push_retry_delay(3, jitter=0.5) > push_retry_delay(3)
    assert push_retry_delay(3, jitter=0.99) < push_retry_delay(4)


def test_permanent_failures() -> None:
    assert push_failure_is_permanent(400)
    assert push_failure_is_permanent(410)
    assert not push_failure_is_permanent(429)
    assert not push_failure_is_permanent(503)
    assert not push_failure_is_permanent(None)
