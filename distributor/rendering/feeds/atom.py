"""Atom 1.0 (RFC 4287) with Media RSS, RFC 5005 paging and Distributor extensions (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds.common import (
    DISTRIBUTOR_NS,
    GENERATOR,
    FeedPolicy,
    FeedSpec,
    clean_title,
    feed_language,
    feed_updated,
    full_html,
    item_id,
    modified_time,
    published_time,
    rfc3339,
    select_entries,
    story_language,
    summary_text,
)
from distributor.rendering.feeds.media_rss import (
    ATOM_NS,
    HISTORY_NS,
    NSMAP_PREFIXES,
    XML_NS,
    add_distributor_extensions,
    add_media,
    qname,
    serialize,
    sub,
)

CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def _atom(local: str) -> str:
    return qname(ATOM_NS, local)


def _add_links(feed: etree._Element, spec: FeedSpec) -> None:
    sub(feed, _atom("link"), href=spec.self_url, rel="self", type="application/atom+xml")
    sub(feed, _atom("link"), href=spec.home_url, rel="alternate", type="text/html")
    if spec.hub_url:
        sub(feed, _atom("link"), href=spec.hub_url, rel="hub")
    archive = spec.archive
    if archive.current_url and archive.is_archive:
        sub(feed, _atom("link"), href=archive.current_url, rel="current")
    if archive.prev_archive_url:
        sub(feed, _atom("link"), href=archive.prev_archive_url, rel="prev-archive")
    if archive.next_archive_url:
        sub(feed, _atom("link"), href=archive.next_archive_url, rel="next-archive")
    if archive.is_archive:
        sub(feed, qname(HISTORY_NS, "archive"))


def _add_entry(feed: etree._Element, article: Article, spec: FeedSpec, policy: FeedPolicy) -> None:
    entry = sub(feed, _atom("entry"))
    entry.set(qname(XML_NS, "lang"), story_language(article))
    sub(entry, _atom("id"), item_id(article, spec.tag_authority))
    sub(entry, _atom("title"), clean_title(article.title), type="text")
    sub(entry, _atom("updated"), rfc3339(modified_time(article)))
    sub(entry, _atom("published"), rfc3339(published_time(article)))
    for author in article.authors:
        person = sub(entry, _atom("author"))
        sub(person, _atom("name"), author.name)
        if author.profile_url:
            sub(person, _atom("uri"), author.profile_url)
        # Person constructs allow extension elements (RFC 4287 §3.2), so the bio sits with
        # the person it describes.
        if author.bio:
            sub(person, qname(DISTRIBUTOR_NS, "bio"), author.bio)
    sub(entry, _atom("link"), href=article.canonical_url, rel="alternate", type="text/html")
    for section in article.sections:
        sub(
            entry,
            _atom("category"),
            term=section,
            scheme=spec.home_url + "/sections",
            label=section,
        )
    for tag in article.tags:
        sub(entry, _atom("category"), term=tag, scheme=spec.home_url + "/tags", label=tag)
    sub(entry, _atom("summary"), summary_text(article), type="text")
    sub(entry, _atom("content"), full_html(article, policy, spec.publisher), type="html")
    rights = article.rights or spec.rights
    if rights:
        sub(entry, _atom("rights"), rights, type="text")
    add_media(entry, article)
    add_distributor_extensions(entry, article, policy.attribution, spec.publisher)


def render_atom(spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy) -> bytes:
    """An Atom 1.0 document of the articles visible under ``policy``, newest first."""
    entries = select_entries(articles, FeedFormat.ATOM, policy)
    nsmap: dict[str | None, str] = {None: ATOM_NS}
    nsmap.update((prefix, uri) for prefix, uri in NSMAP_PREFIXES.items() if prefix != "atom")
    feed = etree.Element(_atom("feed"), nsmap=nsmap)
    feed.set(qname(XML_NS, "lang"), feed_language(spec))
    sub(feed, _atom("id"), spec.stable_id)
    sub(feed, _atom("title"), clean_title(spec.title), type="text")
    if spec.description:
        sub(feed, _atom("subtitle"), spec.description, type="text")
    sub(feed, _atom("updated"), rfc3339(feed_updated(spec, entries)))
    # A feed-level author covers entries without a byline (RFC 4287 §4.1.1).
    publisher = sub(feed, _atom("author"))
    sub(publisher, _atom("name"), spec.publisher or clean_title(spec.title))
    if spec.publisher_url:
        sub(publisher, _atom("uri"), spec.publisher_url)
    _add_links(feed, spec)
    if spec.rights:
        sub(feed, _atom("rights"), spec.rights, type="text")
    sub(feed, _atom("generator"), GENERATOR)
    for entry in entries:
        _add_entry(feed, entry.article, spec, policy)
    return serialize(feed)
