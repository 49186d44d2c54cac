"""Zero-width, bidi, emoji, soft-hyphen, non-breaking-space and combining characters and CJK
quotation marks come out of every feed format as the same characters, read back with the
parsers partners use (lxml for RSS and Atom, json for JSON Feed and ninjs, feedparser)."""

from __future__ import annotations

import json
from typing import Any

import feedparser
import lxml.html
import pytest
from lxml import etree

from distributor.domain.articles import Article, Author, Image
from distributor.domain.partners import FeedFormat
from distributor.domain.text import normalise_space
from distributor.rendering.feeds import render_feed
from distributor.rendering.feeds.common import FeedPolicy, FeedSpec
from tests.factories.feed_stories import BASE_TIME, english_feed_article
from tests.factories.unicode_samples import SAMPLES, SPACE_SAMPLE

POLICY = FeedPolicy(now=BASE_TIME.replace(year=2030))
IMAGE_URL = "https://img.example.org/stories/photo.jpg"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
    "dst": "https://distributor.example/ns/1.0",
}


def _feed(text: str, language: str) -> tuple[FeedSpec, Article]:
    spec = FeedSpec(
        title=f"Feed {text}",
        self_url="https://news.example.org/feeds/public",
        home_url="https://news.example.org",
        description=f"About {text}",
        publisher=f"Press {text}",
        language=language,
    )
    story = english_feed_article(
        1,
        title=f"Title {text}",
        dek=f"Dek {text}",
        language=language,
        body_html=(
            f"<p>Body {text}</p>"
            f'<figure><img src="{IMAGE_URL}" alt="Alt {text}"><figcaption>Caption {text}'
            "</figcaption></figure>"
        ),
        authors=(Author(name=f"Name {text}", bio=f"Bio {text}"),),
        images=(
            Image(
                url=IMAGE_URL,
                caption=f"Caption {text}",
                credit=f"Studio {text}",
                alt=f"Alt {text}",
                is_lead=True,
            ),
        ),
        notes=(f"Note {text}",),
        tags=(f"Tag {text}",),
    )
    return spec, story


def _html(fragment: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(fragment, create_parent="div")


def _body_fields(fragment: str) -> dict[str, Any]:
    """What a reader of the full HTML sees: paragraphs, image alt texts, captions."""
    root = _html(fragment)
    return {
        "paragraphs": [p.text_content() for p in root.iter("p")],
        "alts": [img.get("alt") for img in root.iter("img")],
        "captions": [caption.text_content() for caption in root.iter("figcaption")],
    }


def _expected(text: str) -> dict[str, Any]:
    collapsed = normalise_space  # titles and summaries are one line of plain text
    return {
        "feed_title": collapsed(f"Feed {text}"),
        "title": collapsed(f"Title {text}"),
        "summary": collapsed(f"Dek {text}"),
        "name": f"Name {text}",
        "bio": f"Bio {text}",
        "note": f"Note {text}",
        "caption": f"Caption {text}",
        "credit": f"Studio {text}",
        "tag": f"Tag {text}",
        "body": {
            "paragraphs": [f"Body {text}", f"Note {text}", f"Bio {text}"],
            "alts": [f"Alt {text}"],
            "captions": [f"Caption {text}"],
        },
    }


def _rss(body: bytes) -> dict[str, Any]:
    channel = etree.fromstring(body).find("channel")
    assert channel is not None
    item = channel.find("item")
    assert item is not None
    media = item.find("media:content", NS)
    assert media is not None
    return {
        # RSS readers take title and description as HTML (escaped once).
        "feed_title": _html(channel.findtext("title") or "").text_content(),
        "title": _html(item.findtext("title") or "").text_content(),
        "summary": _html(item.findtext("description") or "").text_content(),
        "name": item.findtext("dc:creator", namespaces=NS),
        "bio": item.findtext("dst:author/dst:bio", namespaces=NS),
        "note": item.findtext("dst:note", namespaces=NS),
        "caption": media.findtext("media:description", namespaces=NS),
        "credit": media.findtext("media:credit", namespaces=NS),
        "tag": item.findtext("category[@domain='tag']"),
        "body": _body_fields(item.findtext("content:encoded", namespaces=NS) or ""),
    }


def _atom(body: bytes) -> dict[str, Any]:
    feed = etree.fromstring(body)
    entry = feed.find("atom:entry", NS)
    assert entry is not None
    media = entry.find("media:content", NS)
    assert media is not None
    tags = [
        category.get("term")
        for category in entry.findall("atom:category", NS)
        if str(category.get("scheme")).endswith("/tags")
    ]
    return {
        "feed_title": feed.findtext("atom:title", namespaces=NS),
        "title": entry.findtext("atom:title", namespaces=NS),
        "summary": entry.findtext("atom:summary", namespaces=NS),
        "name": entry.findtext("atom:author/atom:name", namespaces=NS),
        "bio": entry.findtext("atom:author/dst:bio", namespaces=NS),
        "note": entry.findtext("dst:note", namespaces=NS),
        "caption": media.findtext("media:description", namespaces=NS),
        "credit": media.findtext("media:credit", namespaces=NS),
        "tag": tags[0] if tags else None,
        "body": _body_fields(entry.findtext("atom:content", namespaces=NS) or ""),
    }


def _jsonfeed(body: bytes) -> dict[str, Any]:
    feed = json.loads(body)
    item = feed["items"][0]
    extension = item["_distributor"]
    return {
        "feed_title": feed["title"],
        "title": item["title"],
        "summary": item["summary"],
        "name": item["authors"][0]["name"],
        "bio": extension["authors"][0]["bio"],
        "note": extension["notes"][0],
        "caption": extension["images"][0]["caption"],
        "credit": extension["images"][0]["credit"],
        "tag": item["tags"][1],
        "body": _body_fields(item["content_html"]),
    }


def _ninjs(body: bytes) -> dict[str, Any]:
    feed = json.loads(body)
    item = feed["items"][0]

    def described(node: dict[str, Any], role: str) -> str:
        return next(d["value"] for d in node["descriptions"] if d["role"] == role)

    image = item["associations"][0]
    return {
        "feed_title": feed["title"],
        "title": item["headlines"][0]["value"],
        "summary": described(item, "summary"),
        "name": item["people"][0]["name"],
        "bio": described(item, "authorbio"),
        "note": described(item, "note"),
        "caption": described(image, "caption"),
        "credit": described(image, "creditline"),
        "tag": next(s["name"] for s in item["subjects"] if s["rel"] == "tag"),
        "body": _body_fields(item["bodies"][0]["value"]),
    }


READERS = {
    FeedFormat.RSS: _rss,
    FeedFormat.ATOM: _atom,
    FeedFormat.JSONFEED: _jsonfeed,
    FeedFormat.NINJS: _ninjs,
}


@pytest.mark.parametrize("feed_format", list(READERS), ids=lambda f: f.value)
@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_field_keeps_its_characters(name: str, feed_format: FeedFormat) -> None:
    text, language = SAMPLES[name]
    if name != SPACE_SAMPLE:
        assert normalise_space(text) == text  # collapsed fields keep these characters too
    spec, story = _feed(text, language)
    body = render_feed(feed_format, spec, [story], POLICY)
    assert b"\\u{" not in body
    assert READERS[feed_format](body) == _expected(text)


@pytest.mark.parametrize("feed_format", [FeedFormat.RSS, FeedFormat.ATOM], ids=lambda f: f.value)
@pytest.mark.parametrize("name", list(SAMPLES))
def test_feed_readers_see_the_same_characters(name: str, feed_format: FeedFormat) -> None:
    text, language = SAMPLES[name]
    spec, story = _feed(text, language)
    parsed = feedparser.parse(render_feed(feed_format, spec, [story], POLICY))
    assert not parsed.bozo
    entry = parsed.entries[0]
    assert _html(entry.title).text_content() == normalise_space(f"Title {text}")
    assert entry.author == f"Name {text}"
    assert parsed.feed.title == normalise_space(f"Feed {text}")
