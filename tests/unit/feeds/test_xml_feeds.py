"""RSS 2.0 and Atom 1.0 against the conformance checklist (research/syndication.md §2), plus a
feedparser round trip. Captions and credits are read with lxml (feedparser mixes them up)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import feedparser
import lxml.html
import pytest
from lxml import etree

from distributor.domain.articles import Article
from distributor.rendering.feeds.atom import render_atom
from distributor.rendering.feeds.common import (
    DEFAULT_ATTRIBUTION,
    DISTRIBUTOR_NS,
    ArchiveLinks,
    FeedPolicy,
    FeedSpec,
)
from distributor.rendering.feeds.rss import render_rss
from tests.factories.feed_stories import (
    BASE_TIME,
    PROTECTION_NOTE,
    SITE,
    chinese_feed_article,
    english_feed_article,
    revised,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "fh": "http://purl.org/syndication/history/1.0",
    "dst": DISTRIBUTOR_NS,
}
NOW = BASE_TIME + timedelta(days=30)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _spec(
    self_url: str = "https://news.example.org/feeds/public.rss", **changes: object
) -> FeedSpec:
    values: dict[str, object] = {
        "title": "Demo Magazine",
        "self_url": self_url,
        "home_url": SITE,
        "description": "Stories from Demo Magazine",
        "publisher": "Demo Magazine",
        "publisher_url": SITE,
        "rights": "© Demo Magazine",
        **changes,
    }
    return FeedSpec(**values)  # type: ignore[arg-type]


def _policy(**changes: object) -> FeedPolicy:
    values: dict[str, object] = {"now": NOW, "attribution": DEFAULT_ATTRIBUTION, **changes}
    return FeedPolicy(**values)  # type: ignore[arg-type]


def _stories() -> list[Article]:
    return [
        english_feed_article(1),
        english_feed_article(2, territories_allow=("GB", "IE")),
        chinese_feed_article(),
    ]


def _rss(articles: Sequence[Article], **policy: object) -> etree._Element:
    body = render_rss(_spec(), articles, _policy(**policy))
    return etree.fromstring(body)


def _atom(articles: Sequence[Article], **policy: object) -> etree._Element:
    body = render_atom(
        _spec("https://news.example.org/feeds/public.atom"), articles, _policy(**policy)
    )
    return etree.fromstring(body)


# ---------------------------------------------------------------- document and transport


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_utf8_declaration_and_deterministic_bytes(render: object) -> None:
    assert callable(render)
    first = render(_spec(), _stories(), _policy())
    later = render(_spec(), list(reversed(_stories())), _policy(now=NOW + timedelta(days=3)))
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert first == later  # same items -> same bytes, whatever the clock or input order
    assert "女工们的夜班".encode() in first  # no mojibake, no numeric escapes


def test_urls_are_absolute_and_titles_plain() -> None:
    # A stored title is plain text: these characters are the headline, not markup.
    root = _rss([english_feed_article(1, title="Tom &amp; Jerry’s <em>night</em>")])
    item = root.find("channel/item")
    assert item is not None
    # RSS readers take the title and description as HTML: escaped exactly once, they show
    # the same text and never live markup.
    assert item.findtext("title") == "Tom &amp;amp; Jerry’s &lt;em&gt;night&lt;/em&gt;"
    title = lxml.html.fragment_fromstring(item.findtext("title") or "", create_parent="div")
    assert title.text_content() == "Tom &amp; Jerry’s <em>night</em>"
    assert "less pay &amp; fewer" in (item.findtext("description") or "")
    html = item.findtext("content:encoded", namespaces=NS) or ""
    fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    assert "Tom & Jerry’s café" in fragment.text_content()
    links = [*fragment.xpath("//@href"), *fragment.xpath("//@src")]
    assert links
    assert all(link.startswith("https://") for link in links)
    assert f"{SITE}/campaigns/fair-pay" in links  # the relative link was resolved
    for element in root.iter():
        for name in ("url", "href"):
            value = element.get(name)
            if value is not None:
                assert value.startswith("https://"), (element.tag, value)


# ------------------------------------------------------------------------------- RSS 2.0


def test_rss_channel_and_items() -> None:
    root = _rss(_stories())
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description", "language", "lastBuildDate"):
        assert channel.findtext(required), required
    self_links = channel.findall("atom:link[@rel='self']", NS)
    assert [link.get("href") for link in self_links] == [
        "https://news.example.org/feeds/public.rss"
    ]
    items = channel.findall("item")
    assert len(items) == 3
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == 3
    for item in items:
        assert item.findtext("title")
        assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
        pub_date = item.findtext("pubDate") or ""
        assert re.match(r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", pub_date)
        assert parsedate_to_datetime(pub_date) <= NOW
        tags = [child.tag for child in item]
        assert tags.index("description") < tags.index(f"{{{NS['content']}}}encoded")
        assert item.find("author") is None
        assert item.findall("dc:creator", NS)
        assert item.findtext("link", "").startswith(SITE)  # canonical link (§2 item 44)
    newest = max(parsedate_to_datetime(item.findtext("pubDate") or "") for item in items)
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == newest


def test_media_rss_images_carry_caption_credit_copyright() -> None:
    root = _rss([english_feed_article(1)])
    assert root.nsmap["media"] == "http://search.yahoo.com/mrss/"
    contents = root.findall("channel/item/media:content", NS)
    assert len(contents) == 2
    captions = []
    for content in contents:
        assert content.get("url", "").startswith("https://")
        assert content.get("type", "").startswith("image/")
        assert content.get("medium") == "image"
        assert int(content.get("width", "x")) > 0
        assert int(content.get("height", "x")) > 0
        description = content.find("media:description", NS)
        assert description is not None
        assert description.get("type") == "plain"
        captions.append(description.text)
        credit = content.find("media:credit", NS)
        assert credit is not None
        assert credit.get("role") == "photographer"
        assert credit.get("scheme") == "urn:ebu"
        assert credit.text
        assert content.findtext("media:copyright", namespaces=NS)
    assert captions == [
        "Workers leave the factory gate at dawn.",
        "A dormitory room shared by eight workers.",
    ]
    credits = [c.findtext("media:credit", namespaces=NS) for c in contents]
    assert credits == ["Riverside Photo Collective", "Mara Ellison"]


def test_media_restriction_lists_countries() -> None:
    root = _rss([english_feed_article(2, territories_allow=("gb", "IE"), territories_deny=("IE",))])
    restrictions = root.findall("channel/item/media:restriction", NS)
    assert len(restrictions) == 1
    assert restrictions[0].get("relationship") == "allow"
    assert restrictions[0].get("type") == "country"
    assert restrictions[0].text == "gb"
    unrestricted = _rss([english_feed_article(3)])
    assert unrestricted.find("channel/item/media:restriction", NS) is None


def test_bios_notes_usage_terms_and_attribution_travel() -> None:
    root = _rss([english_feed_article(1)])
    item = root.find("channel/item")
    assert item is not None
    bios = [author.findtext("dst:bio", namespaces=NS) for author in item.findall("dst:author", NS)]
    assert bios
    assert all(bio and bio.endswith(".") for bio in bios)
    assert item.findtext("dst:note", namespaces=NS) == PROTECTION_NOTE
    assert item.findtext("dst:usageTerms", namespaces=NS)
    attribution = item.findtext("dst:attribution", namespaces=NS) or ""
    assert attribution.startswith("First published by Demo Magazine")
    assert f"{SITE}/stories/night-shifts-1" in attribution
    html = item.findtext("content:encoded", namespaces=NS) or ""
    assert PROTECTION_NOTE in html
    assert "About the authors" in html
    assert "Mara Ellison is a reporter" in html
    assert 'class="dst-attribution"' in html


def test_public_policy_has_no_attribution_line() -> None:
    root = _rss([english_feed_article(1)], attribution=None)
    html = root.findtext("channel/item/content:encoded", namespaces=NS) or ""
    assert "dst-attribution" not in html
    assert root.find("channel/item/dst:attribution", NS) is None
    assert PROTECTION_NOTE in html  # notes travel everywhere


def test_archive_document_links() -> None:
    archive = ArchiveLinks(
        is_archive=True,
        current_url="https://news.example.org/feeds/public.rss",
        prev_archive_url="https://news.example.org/feeds/public/archive/1.rss",
    )
    body = render_rss(
        _spec("https://news.example.org/feeds/public/archive/2.rss", archive=archive),
        [english_feed_article(1)],
        _policy(),
    )
    channel = etree.fromstring(body).find("channel")
    assert channel is not None
    assert channel.find("fh:archive", NS) is not None
    rels = {link.get("rel"): link.get("href") for link in channel.findall("atom:link", NS)}
    assert rels["current"] == "https://news.example.org/feeds/public.rss"
    assert rels["prev-archive"].endswith("/archive/1.rss")
    assert rels["self"].endswith("/archive/2.rss")
    current = render_rss(
        _spec(hub_url="https://hub.example.org/"), [english_feed_article(1)], _policy()
    )
    current_channel = etree.fromstring(current).find("channel")
    assert current_channel is not None
    assert current_channel.find("fh:archive", NS) is None
    assert current_channel.find("atom:link[@rel='hub']", NS) is not None


# --------------------------------------------------------------------- edits and embargo


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_edited_story_keeps_its_id_and_appears_once(render: object) -> None:
    assert callable(render)
    original = english_feed_article(1)
    edit = revised(original, title="Night shifts at the river factory (corrected)")
    before = etree.fromstring(render(_spec(), [original], _policy()))
    after = etree.fromstring(render(_spec(), [original, edit], _policy()))
    before_ids = [
        e.text
        for e in before.iter("guid", f"{{{NS['atom']}}}id")
        if e.getparent().tag != f"{{{NS['atom']}}}feed"
    ]
    after_ids = [
        e.text
        for e in after.iter("guid", f"{{{NS['atom']}}}id")
        if e.getparent().tag != f"{{{NS['atom']}}}feed"
    ]
    assert before_ids == after_ids
    assert len(after_ids) == 1
    assert b"(corrected)" in etree.tostring(after)


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_embargoed_story_absent_until_release(render: object) -> None:
    assert callable(render)
    release = BASE_TIME + timedelta(days=40)
    embargoed = english_feed_article(9, embargo_until=release)
    before = render(
        _spec(), [english_feed_article(1), embargoed], _policy(now=release - timedelta(seconds=1))
    )
    early = render(
        _spec(), [embargoed], _policy(now=release - timedelta(hours=1), allow_embargoed=True)
    )
    after = render(_spec(), [english_feed_article(1), embargoed], _policy(now=release))
    assert b"night-shifts-9" not in before
    assert b"night-shifts-9" not in early  # early access is for ninjs only
    assert b"night-shifts-9" in after


def test_partner_territory_filters_items() -> None:
    only_gb = english_feed_article(2, territories_allow=("GB",))
    for_us = _rss([english_feed_article(1), only_gb], territory="US")
    for_gb = _rss([english_feed_article(1), only_gb], territory="GB")
    assert len(for_us.findall("channel/item")) == 1
    assert len(for_gb.findall("channel/item")) == 2


# ---------------------------------------------------------------------------------- Atom


def test_atom_feed_and_entries() -> None:
    root = _atom(_stories())
    assert root.tag == f"{{{NS['atom']}}}feed"
    for required in ("id", "title", "updated"):
        assert len(root.findall(f"atom:{required}", NS)) == 1
    assert RFC3339.match(root.findtext("atom:updated", namespaces=NS) or "")
    assert root.find("atom:link[@rel='self']", NS).get("href").endswith("public.atom")  # type: ignore[union-attr]
    entries = root.findall("atom:entry", NS)
    assert len(entries) == 3
    ids = [entry.findtext("atom:id", namespaces=NS) for entry in entries]
    assert len(set(ids)) == 3
    for entry in entries:
        assert len(entry.findall("atom:id", NS)) == 1
        assert entry.findtext("atom:title", namespaces=NS)
        for date in ("updated", "published"):
            assert RFC3339.match(entry.findtext(f"atom:{date}", namespaces=NS) or "")
        for author in entry.findall("atom:author", NS):
            assert author.findtext("atom:name", namespaces=NS)
            assert author.findtext("atom:uri", namespaces=NS).startswith("https://")  # type: ignore[union-attr]
            assert author.findtext("dst:bio", namespaces=NS)
        content = entry.find("atom:content", NS)
        assert content is not None
        assert content.get("type") == "html"
        assert "<p>" in (content.text or "")  # escaped HTML, parsed back to text
        assert entry.find("atom:summary", NS).get("type") == "text"  # type: ignore[union-attr]
        assert entry.findtext("atom:rights", namespaces=NS)
        assert entry.find("atom:link[@rel='alternate']", NS) is not None
        credits = [
            c.findtext("media:credit", namespaces=NS) for c in entry.findall("media:content", NS)
        ]
        assert credits
        assert all(credits)


# ---------------------------------------------------------------------------- feedparser


def test_rss_round_trips_through_feedparser() -> None:
    articles = _stories()
    parsed = feedparser.parse(render_rss(_spec(), articles, _policy()), sanitize_html=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert {link["rel"] for link in parsed.feed.links} >= {"self"}
    by_link = {entry.link: entry for entry in parsed.entries}
    for article in articles:
        entry = by_link[article.canonical_url]
        assert entry.id == article.guid
        assert entry.title == article.title
        assert [a["name"] for a in entry.authors] == [a.name for a in article.authors]
        published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
        assert published == article.published_at
        assert entry.content[0].type == "text/html"
        assert article.notes[0] in entry.content[0].value
        assert [c["content"] for c in entry.media_credit] == [i.credit for i in article.images]
        assert all(c["role"] == "photographer" for c in entry.media_credit)
        assert [m["url"] for m in entry.media_content] == [i.url for i in article.images]


def test_atom_round_trips_through_feedparser() -> None:
    articles = _stories()
    body = render_atom(_spec("https://news.example.org/feeds/public.atom"), articles, _policy())
    parsed = feedparser.parse(body, sanitize_html=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    by_link = {entry.link: entry for entry in parsed.entries}
    for article in articles:
        entry = by_link[article.canonical_url]
        assert entry.id == article.guid
        assert [a.get("href") for a in entry.authors] == [a.profile_url for a in article.authors]
        assert entry.rights == article.rights
        updated = datetime(*entry.updated_parsed[:6], tzinfo=UTC)
        assert updated == article.updated_at
        assert "About the author" in entry.content[0].value or "关于作者" in entry.content[0].value
        assert [c["content"] for c in entry.media_credit] == [i.credit for i in article.images]
