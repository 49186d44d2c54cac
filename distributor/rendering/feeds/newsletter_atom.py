"""The Atom feed (RFC 4287) of a public list's sent issues (pure).

One entry per issue: its subject, the time it went out, a link to its web copy and, as the
content, the titles of its stories (text only: no story body, and nothing still under embargo,
which the archive has already left out).
"""

from __future__ import annotations

from html import escape

from lxml import etree

from distributor.domain.archive import NewsletterArchive
from distributor.rendering.feeds.common import GENERATOR, rfc3339
from distributor.rendering.feeds.media_rss import ATOM_NS, XML_NS, qname, serialize, sub

CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def _atom(local: str) -> str:
    return qname(ATOM_NS, local)


def _clean(text: str) -> str:
    # XML 1.0 cannot carry C0 controls (other than tab and newline) at all.
    return "".join(
        character for character in text if character in "\t\n" or ord(character) >= 0x20
    ).strip()


def render_newsletter_atom(
    archive: NewsletterArchive, *, publisher_name: str, publisher_url: str
) -> bytes:
    """The feed document: every required element of RFC 4287 (feed: id, title, updated,
    author; entry: id, title, updated, an alternate link), newest issue first."""
    feed = etree.Element(_atom("feed"), nsmap={None: ATOM_NS})
    feed.set(qname(XML_NS, "lang"), archive.language)
    sub(feed, _atom("id"), archive.index_url)
    sub(feed, _atom("title"), _clean(archive.title))
    if archive.description:
        sub(feed, _atom("subtitle"), _clean(archive.description))
    newest = archive.issues[0].sent_at if archive.issues else archive.created_at
    sub(feed, _atom("updated"), rfc3339(newest))
    author = sub(feed, _atom("author"))
    sub(author, _atom("name"), _clean(publisher_name))
    sub(author, _atom("uri"), publisher_url)
    sub(feed, _atom("link"), href=archive.feed_url, rel="self", type="application/atom+xml")
    sub(feed, _atom("link"), href=archive.index_url, rel="alternate", type="text/html")
    sub(feed, _atom("generator"), GENERATOR)
    for issue in archive.issues:
        entry = sub(feed, _atom("entry"))
        sub(entry, _atom("id"), issue.url)
        sub(entry, _atom("title"), _clean(issue.subject))
        sub(entry, _atom("published"), rfc3339(issue.sent_at))
        sub(entry, _atom("updated"), rfc3339(issue.sent_at))
        sub(entry, _atom("link"), href=issue.url, rel="alternate", type="text/html")
        if issue.story_titles:
            items = "".join(f"<li>{escape(_clean(title))}</li>" for title in issue.story_titles)
            sub(entry, _atom("content"), f"<ul>{items}</ul>", type="html")
    return serialize(feed)
