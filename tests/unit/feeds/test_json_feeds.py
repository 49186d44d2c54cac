"""JSON Feed 1.1 and IPTC ninjs 3.1 / 2.2 against the official schemas, with format checking."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from distributor.domain.articles import ArticleStatus
from distributor.domain.partners import Visibility
from distributor.rendering.feeds.common import DEFAULT_ATTRIBUTION, FeedPolicy, FeedSpec
from distributor.rendering.feeds.jsonfeed import render_jsonfeed
from distributor.rendering.feeds.ninjs import ninjs_item, render_ninjs
from tests.factories.feed_stories import (
    BASE_TIME,
    PROTECTION_NOTE,
    SITE,
    chinese_feed_article,
    english_feed_article,
    revised,
)
from tests.support.schemas import jsonfeed_validator, ninjs_validator, schema_errors

NOW = BASE_TIME + timedelta(days=30)
SPEC = FeedSpec(
    title="Demo Magazine",
    self_url="https://news.example.org/feeds/public.json",
    home_url=SITE,
    publisher="Demo Magazine",
    publisher_url=SITE,
    rights="© Demo Magazine",
)


def _policy(**changes: Any) -> FeedPolicy:
    return FeedPolicy(**{"now": NOW, "attribution": DEFAULT_ATTRIBUTION, **changes})


def _stories() -> list[Any]:
    return [
        english_feed_article(1),
        english_feed_article(2, territories_deny=("US",)),
        chinese_feed_article(),
    ]


# ----------------------------------------------------------------------------- JSON Feed


def test_validators_really_check_formats() -> None:
    # Guard against a validator that accepts anything: a bad date and a bad URI must fail.
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "x",
        "items": [{"id": "1", "content_text": "x", "date_published": "yesterday"}],
    }
    assert schema_errors(jsonfeed_validator(), feed)
    assert schema_errors(ninjs_validator("3.1"), {"uri": "not a uri", "pubStatus": "cancelled"})


def test_jsonfeed_validates_and_carries_everything() -> None:
    document = json.loads(render_jsonfeed(SPEC, _stories(), _policy()))
    assert schema_errors(jsonfeed_validator(), document) == []
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == SPEC.self_url
    assert document["home_page_url"] == SITE
    assert document["_distributor"]["about"].startswith("https://")
    items = {item["url"]: item for item in document["items"]}
    item = items[f"{SITE}/stories/night-shifts-1"]
    assert isinstance(item["id"], str)
    assert item["content_html"]
    assert item["summary"]
    assert "<" not in item["summary"]
    assert [a["name"] for a in item["authors"]] == ["Mara Ellison", "Tomás Reyes"]
    assert item["author"] == item["authors"][0]
    assert item["image"] == "https://img.example.org/stories/night-shift.jpg"
    assert all(a["url"] and a["mime_type"].startswith("image/") for a in item["attachments"])
    extension = item["_distributor"]
    assert extension["about"].startswith("https://")
    assert next(a["bio"] for a in extension["authors"]).startswith("Mara Ellison is")
    assert [i["credit"] for i in extension["images"]] == [
        "Riverside Photo Collective",
        "Mara Ellison",
    ]
    assert extension["images"][0]["caption"] == "Workers leave the factory gate at dawn."
    assert extension["notes"] == [PROTECTION_NOTE]
    assert extension["attribution"].startswith("First published by Demo Magazine")
    assert items[f"{SITE}/stories/night-shifts-2"]["_distributor"]["territories"] == {
        "relationship": "deny",
        "countries": ["US"],
    }
    assert PROTECTION_NOTE in item["content_html"]


def test_jsonfeed_edit_keeps_id_and_embargo_hides() -> None:
    original = english_feed_article(1)
    embargoed = english_feed_article(5, embargo_until=NOW + timedelta(hours=2))
    before = json.loads(render_jsonfeed(SPEC, [original, embargoed], _policy(allow_embargoed=True)))
    after = json.loads(render_jsonfeed(SPEC, [original, revised(original), embargoed], _policy()))
    released = json.loads(
        render_jsonfeed(SPEC, [original, embargoed], _policy(now=NOW + timedelta(hours=2)))
    )
    assert [i["id"] for i in before["items"]] == [i["id"] for i in after["items"]]
    assert len(after["items"]) == 1
    assert after["items"][0]["_distributor"]["revision"] == 2
    assert len(released["items"]) == 2


# ---------------------------------------------------------------------------------- ninjs


@pytest.mark.parametrize("version", ["3.1", "2.2"])
def test_ninjs_items_validate(version: str) -> None:
    validator = ninjs_validator(version)
    embargoed = english_feed_article(7, embargo_until=NOW + timedelta(days=1))
    withdrawn = english_feed_article(8, status=ArticleStatus.WITHDRAWN)
    policy = _policy(ninjs_version=version, allow_embargoed=True)
    document = json.loads(render_ninjs(SPEC, [*_stories(), embargoed, withdrawn], policy))
    assert document["ninjs_version"] == version
    assert len(document["items"]) == 5
    for item in document["items"]:
        assert schema_errors(validator, item) == []
        assert item["standard"]["version"] == version


def test_ninjs_31_fields() -> None:
    item = ninjs_item(english_feed_article(1), SPEC, _policy())
    assert item["uri"] == f"{SITE}/?p=1001"
    assert item["pubStatus"] == "usable"
    assert item["version"] == "1"
    assert item["by"] == "Mara Ellison and Tomás Reyes"
    assert [p["name"] for p in item["people"]] == ["Mara Ellison", "Tomás Reyes"]
    bios = [d["value"] for d in item["descriptions"] if d["role"] == "authorbio"]
    assert bios[0].startswith("Mara Ellison is")
    assert len(bios) == 2
    assert [d["value"] for d in item["descriptions"] if d["role"] == "note"] == [PROTECTION_NOTE]
    assert item["copyrightNotice"] == "© 2026 Demo Magazine"
    assert item["usageTerms"].startswith("Republish in full")
    assert (
        json.loads(item["rightsInfo"]["encodedRights"])["permission"][0]["action"] == "distribute"
    )
    pictures = item["associations"]
    assert [p["by"] for p in pictures] == ["Riverside Photo Collective", "Mara Ellison"]
    captions = [
        next(d["value"] for d in p["descriptions"] if d["role"] == "caption") for p in pictures
    ]
    assert captions[0] == "Workers leave the factory gate at dawn."
    assert all(p["type"] == "picture" and p["renditions"][0]["href"] for p in pictures)
    body = item["bodies"][0]["value"]
    assert PROTECTION_NOTE in body
    assert "First published by" in body


def test_ninjs_territory_policy_is_encoded() -> None:
    item = ninjs_item(
        english_feed_article(2, territories_allow=("GB",), territories_deny=("US",)),
        SPEC,
        _policy(),
    )
    rights = json.loads(item["rightsInfo"]["encodedRights"])
    constraints = {c["operator"]: c["rightOperand"] for c in rights["permission"][0]["constraint"]}
    assert constraints == {"isAnyOf": ["GB"], "isNoneOf": ["US"]}


def test_ninjs_version_rises_with_each_revision() -> None:
    first = english_feed_article(1)
    second = revised(first)
    third = revised(second)
    versions = [int(ninjs_item(a, SPEC, _policy())["version"]) for a in (first, second, third)]
    uris = {ninjs_item(a, SPEC, _policy())["uri"] for a in (first, second, third)}
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    assert len(uris) == 1


def test_ninjs_embargo_withheld_only_for_allowed_partners() -> None:
    release = NOW + timedelta(hours=3)
    embargoed = english_feed_article(7, embargo_until=release)
    hidden = json.loads(render_ninjs(SPEC, [embargoed], _policy()))
    early = json.loads(render_ninjs(SPEC, [embargoed], _policy(allow_embargoed=True)))
    assert hidden["items"] == []
    assert early["items"][0]["pubStatus"] == "withheld"
    assert early["items"][0]["embargoedUntil"] == release.strftime("%Y-%m-%dT%H:%M:%SZ")
    late = ninjs_item(embargoed, SPEC, _policy(now=release), Visibility.VISIBLE)
    assert late["pubStatus"] == "usable"


def test_ninjs_22_uses_lowercase_names() -> None:
    item = ninjs_item(chinese_feed_article(), SPEC, _policy(ninjs_version="2.2"))
    assert "pubstatus" in item
    assert "pubStatus" not in item
    assert "copyrightnotice" in item
    assert all("rel" not in association for association in item["associations"])
    assert item["headlines"][0]["value"] == "女工们的夜班"
    with pytest.raises(ValueError, match="unsupported ninjs version"):
        ninjs_item(english_feed_article(), SPEC, _policy(ninjs_version="1.6"))
