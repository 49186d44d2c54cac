"""RSS 2.0 with content:encoded, dc:creator, Media RSS and Distributor extensions (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds.common import (
    GENERATOR,
    FeedPolicy,
    FeedSpec,
    clean_title,
    feed_language,
    feed_updated,
    full_html,
    html_text,
    item_id,
    published_time,
    rfc822,
    select_entries,
    story_language,
    summary_text,
)
from distributor.rendering.feeds.media_rss import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    HISTORY_NS,
    NSMAP_PREFIXES,
    add_distributor_extensions,
    add_media,
    qname,
    serialize,
    sub,
)

CONTENT_TYPE = "application/rss+xml; charset=utf-8"
RSS_DOCS = "https://www.rssboard.org/rss-specification"


def _add_links(channel: etree._Element, spec: FeedSpec) -> None:
    sub(channel, qname(ATOM_NS, "link"), href=spec.self_url, rel="self", type="application/rss+xml")
    if spec.hub_url:
        sub(channel, qname(ATOM_NS, "link"), href=spec.hub_url, rel="hub")
    archive = spec.archive
    if archive.current_url and archive.is_archive:
        sub(channel, qname(ATOM_NS, "link"), href=archive.current_url, rel="current")
    if archive.prev_archive_url:
        sub(channel, qname(ATOM_NS, "link"), href=archive.prev_archive_url, rel="prev-archive")
    if archive.next_archive_url:
        sub(channel, qname(ATOM_NS, "link"), href=archive.next_archive_url, rel="next-archive")
    if archive.is_archive:
        sub(channel, qname(HISTORY_NS, "archive"))


def _add_item(
    channel: etree._Element, article: Article, spec: FeedSpec, policy: FeedPolicy
) -> None:
    item = sub(channel, "item")
    sub(item, "title", html_text(clean_title(article.title)))
    sub(item, "link", article.canonical_url)
    # description (summary) before content:encoded: readers that keep the last one seen
    # then still show the full text.
    sub(item, "description", html_text(summary_text(article)))
    sub(item, qname(CONTENT_NS, "encoded"), full_html(article, policy, spec.publisher))
    for author in article.authors:
        sub(item, qname(DC_NS, "creator"), author.name)
    # Each story says its own language: one channel can carry stories in several.
    sub(item, qname(DC_NS, "language"), story_language(article))
    identifier = item_id(article, spec.tag_authority)
    permalink = "true" if identifier == article.canonical_url else "false"
    sub(item, "guid", identifier, isPermaLink=permalink)
    sub(item, "pubDate", rfc822(published_time(article)))
    for section in article.sections:
        sub(item, "category", section, domain="section")
    for tag in article.tags:
        sub(item, "category", tag, domain="tag")
    rights = article.rights or spec.rights
    if rights:
        sub(item, qname(DC_NS, "rights"), rights)
    add_media(item, article)
    add_distributor_extensions(item, article, policy.attribution, spec.publisher)


def render_rss(spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy) -> bytes:
    """An RSS 2.0 document of the articles visible under ``policy``, newest first."""
    entries = select_entries(articles, FeedFormat.RSS, policy)
    nsmap = {"content": CONTENT_NS, **NSMAP_PREFIXES}
    root = etree.Element("rss", nsmap=nsmap)
    root.set("version", "2.0")
    channel = sub(root, "channel")
    sub(channel, "title", html_text(clean_title(spec.title)))
    sub(channel, "link", spec.home_url)
    sub(channel, "description", html_text(spec.description or clean_title(spec.title)))
    sub(channel, "language", feed_language(spec))
    if spec.rights:
        sub(channel, "copyright", spec.rights)
    updated = feed_updated(spec, entries)
    sub(channel, "lastBuildDate", rfc822(updated))
    sub(channel, "generator", GENERATOR)
    sub(channel, "docs", RSS_DOCS)
    _add_links(channel, spec)
    for entry in entries:
        _add_item(channel, entry.article, spec, policy)
    return serialize(root)
