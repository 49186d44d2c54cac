"""Titles and text are escaped exactly once, in every format: a story title or summary with
``<b>``, ``&amp;``, ``<script>``, quotes or CJK comes back as the very same text when the output
is read with a real parser (feedparser, lxml, json, the email parser) — never as live markup,
never double-escaped, with no word lost."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json

import feedparser
import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from distributor.adapters.email_base import OutgoingBatch, OutgoingRecipient
from distributor.adapters.smtp import build_message
from distributor.domain.partners import FeedFormat
from distributor.rendering.email import render_issue
from distributor.rendering.feeds import render_feed
from distributor.rendering.feeds.common import FeedPolicy, FeedSpec
from tests.factories.email_stories import branding, issue_content
from tests.factories.feed_stories import BASE_TIME, english_feed_article

FRAGMENTS = (
    "<b>",
    "</b>",
    "&amp;",
    "&",
    "<script>alert(1)</script>",
    '"quoted"',
    "it's",
    "&lt;svg onload=x&gt;",
    "<img src=x onerror=alert(1)>",
    "How",
    "tags work",
    "夜班",
    "記者的調查",
    "&#38;",
    "a < b > c",
    "Tom & Jerry",
)

texts = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5).map(" ".join)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICY = FeedPolicy(now=BASE_TIME.replace(year=2030))
SPEC = FeedSpec(
    title="Harbour & Sons <Weekly>",
    self_url="https://news.example.org/feeds/public.rss",
    home_url="https://magazine.example.org",
    description="Stories from Harbour & Sons <Weekly>",
    publisher="Harbour & Sons <Weekly>",
)


def _story(title: str, dek: str) -> object:
    return english_feed_article(1, title=title, dek=dek)


def _html_as_text(fragment: str) -> str:
    """What a reader shows for an HTML fragment: its text, parsed by a real HTML parser."""
    if not fragment:
        return ""
    parsed = lxml.html.fragment_fromstring(fragment, create_parent="div")
    assert not parsed.xpath(".//script|.//b|.//img|.//svg"), fragment  # never live markup
    return str(parsed.text_content())


def _feedparser_text(detail: dict[str, str]) -> str:
    value = detail["value"]
    return _html_as_text(value) if detail["type"] == "text/html" else value


@PROPERTY
@given(title=texts, dek=texts)
def test_rss_title_and_description_round_trip(title: str, dek: str) -> None:
    body = render_feed(FeedFormat.RSS, SPEC, [_story(title, dek)], POLICY)  # type: ignore[list-item]
    parsed = feedparser.parse(body)
    entry = parsed.entries[0]
    assert _feedparser_text(entry.title_detail) == title
    assert _feedparser_text(parsed.feed.title_detail) == SPEC.title
    # And with lxml (feedparser reads a photo's media:description as the summary): RSS
    # readers take title and description as HTML.
    item = etree.fromstring(body).find("channel/item")
    assert item is not None
    assert _html_as_text(item.findtext("title") or "") == title
    assert _html_as_text(item.findtext("description") or "") == dek


@PROPERTY
@given(title=texts, dek=texts)
def test_atom_title_and_summary_round_trip(title: str, dek: str) -> None:
    body = render_feed(FeedFormat.ATOM, SPEC, [_story(title, dek)], POLICY)  # type: ignore[list-item]
    entry = feedparser.parse(body).entries[0]
    assert _feedparser_text(entry.title_detail) == title
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring(body)
    assert root.findtext("a:entry/a:title", namespaces=ns) == title
    assert root.findtext("a:entry/a:summary", namespaces=ns) == dek


@PROPERTY
@given(title=texts, dek=texts)
def test_json_feed_and_ninjs_round_trip(title: str, dek: str) -> None:
    story = _story(title, dek)
    feed = json.loads(render_feed(FeedFormat.JSONFEED, SPEC, [story], POLICY))  # type: ignore[list-item]
    assert feed["title"] == SPEC.title
    assert feed["items"][0]["title"] == title
    assert feed["items"][0]["summary"] == dek
    ninjs = json.loads(render_feed(FeedFormat.NINJS, SPEC, [story], POLICY))  # type: ignore[list-item]
    item = ninjs["items"][0]
    assert item["headlines"][0]["value"] == title
    summaries = [d["value"] for d in item["descriptions"] if d["role"] == "summary"]
    assert summaries == [dek]


@PROPERTY
@given(title=texts, subject=texts, list_title=texts)
def test_email_html_text_and_subject_round_trip(title: str, subject: str, list_title: str) -> None:
    base = issue_content(1)
    story = dataclasses.replace(base.articles[0], title=title)
    content = dataclasses.replace(base, subject=subject, list_title=list_title, articles=(story,))
    rendered = render_issue(content, branding())
    document = lxml.html.document_fromstring(rendered.html)
    assert not document.xpath("//body//script|//body//b|//body//svg")
    assert document.findtext(".//title") == subject
    headings = [" ".join(h.text_content().split()) for h in document.iter("h1", "h2", "h3")]
    assert subject in headings
    links = [" ".join(a.text_content().split()) for a in document.iter("a")]
    assert title in links
    paragraphs = [" ".join(p.text_content().split()) for p in document.iter("p")]
    assert list_title in paragraphs
    text = " ".join(rendered.text.split())
    assert title in text
    assert list_title in text
    batch = OutgoingBatch(
        from_email="news@news.example.org",
        from_name="Harbour & Sons <Weekly>",
        subject=content.subject,
        text=rendered.text,
        html=rendered.html,
        recipients=[],
    )
    recipient = OutgoingRecipient(delivery_id=1, email="reader@example.org", name=None)
    message = email.message_from_bytes(
        build_message(batch, recipient).as_bytes(), policy=email.policy.default
    )
    # Python folds a long header right after the colon and keeps that space when reading; where
    # it folds between plain words and an encoded word it keeps the space on both sides of the
    # fold, so a reader sees two spaces there. Escaping is what this test is about: the words
    # must arrive once and unchanged, whatever the folding did to the spaces between them.
    assert str(message["Subject"]).split() == subject.split()
    assert message["From"].addresses[0].display_name == "Harbour & Sons <Weekly>"
