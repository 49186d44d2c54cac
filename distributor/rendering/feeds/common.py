"""What every feed renderer shares: the feed description, the view policy, item choice and order,
dates, stable ids and the full HTML that travels with each story (pure).

Determinism is a contract here: the same articles and the same spec give the same bytes, so an
unchanged feed keeps its ETag. Nothing reads the clock; "now" arrives in :class:`FeedPolicy`
and is used only to decide embargoes.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

import lxml.html
from lxml import etree

from distributor.domain.articles import Article, Author, Image, is_http_guid
from distributor.domain.languages import (
    DEFAULT_LANGUAGE,
    language_tag_or_none,
)
from distributor.domain.partners import FeedFormat, Visibility, territory_allows, visibility
from distributor.domain.text import normalise_space, stored_html_text
from distributor.i18n import catalogue_for

# The namespace of Distributor's own elements (author bios, notes, usage terms). Stable
# forever: partners' parsers key on it. Documented in docs/feeds.md.
DISTRIBUTOR_NS = "https://distributor.example/ns/1.0"
DISTRIBUTOR_PREFIX = "dst"
JSONFEED_EXTENSION = "_distributor"
EXTENSION_ABOUT = "https://distributor.example/ns/1.0/jsonfeed"

GENERATOR = "Distributor"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_ATTRIBUTION = "First published by {publisher} — read the original at {url}"

# Characters a tag's specific part may hold unencoded (RFC 4151: pchar, "/" and "?").
_TAG_SAFE = "-._~!$&'()*+,;=:@/?"


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """RFC 5005 links of one document of a paged feed."""

    is_archive: bool = False
    current_url: str | None = None
    prev_archive_url: str | None = None
    next_archive_url: str | None = None


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Everything about a feed document that is not its items."""

    title: str
    self_url: str
    home_url: str
    description: str = ""
    language: str = "en"
    feed_id: str | None = None
    publisher: str = ""
    publisher_url: str = ""
    # The tagging authority of minted item ids (FEED_TAG_AUTHORITY): a domain name we own.
    tag_authority: str = "localhost"
    rights: str | None = None
    hub_url: str | None = None
    archive: ArchiveLinks = ArchiveLinks()
    updated: datetime | None = None

    @property
    def stable_id(self) -> str:
        """The feed's permanent id (shared by a subscription document and its archives)."""
        return self.feed_id or self.self_url


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    """How one audience sees the stories: when "now" is, where it is, how to credit us.

    ``attribution`` is a template with ``{publisher}``, ``{url}`` (the canonical link) and
    ``{title}``; None adds no attribution line (the public feeds).
    """

    now: datetime
    attribution: str | None = None
    territory: str | None = None
    allow_embargoed: bool = False
    ninjs_version: str = "3.1"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One article as it appears in one document."""

    article: Article
    visibility: Visibility


# ----------------------------------------------------------------------------- choice


def published_time(article: Article) -> datetime:
    """When the story was first public (never None, so output stays deterministic)."""
    moment = article.published_at or article.updated_at or article.embargo_until or EPOCH
    return moment.astimezone(UTC)


def modified_time(article: Article) -> datetime:
    """When the story last changed (at least its publication time)."""
    published = published_time(article)
    updated = article.updated_at.astimezone(UTC) if article.updated_at else published
    return max(updated, published)


def release_time(article: Article) -> datetime:
    """When readers could first see the story: publication, or the embargo's end if later.

    Ordering by this puts a story released from embargo at the top of the feed, where
    readers will notice it, instead of deep in history.
    """
    published = published_time(article)
    if article.embargo_until is not None:
        return max(published, article.embargo_until.astimezone(UTC))
    return published


def order_key(article: Article) -> tuple[datetime, str]:
    """Newest first, ties broken by guid so the order never depends on input order."""
    return (release_time(article), article.guid)


def select_entries(
    articles: Sequence[Article], feed_format: FeedFormat, policy: FeedPolicy
) -> list[FeedEntry]:
    """The entries of a document: visible for this format and territory, newest first.

    A story (source and guid) that appears twice in ``articles`` is kept once, the highest
    revision, so a feed can never carry the same item twice. The same guid from two sources
    is two stories.
    """
    best: dict[tuple[int | None, str], Article] = {}
    for article in articles:
        key = (article.source_id, article.guid)
        kept = best.get(key)
        if kept is None or article.revision > kept.revision:
            best[key] = article
    entries: list[FeedEntry] = []
    for article in best.values():
        if not territory_allows(article, policy.territory):
            continue
        seen = visibility(article, feed_format, policy.now, policy.allow_embargoed)
        if seen is Visibility.HIDDEN:
            continue
        entries.append(FeedEntry(article, seen))
    entries.sort(key=lambda entry: order_key(entry.article), reverse=True)
    return entries


def feed_updated(spec: FeedSpec, entries: Sequence[FeedEntry]) -> datetime:
    """The feed's updated time: the spec's, else the newest entry's, else the epoch."""
    if spec.updated is not None:
        return spec.updated.astimezone(UTC)
    if not entries:
        return EPOCH
    return max(modified_time(entry.article) for entry in entries)


# ------------------------------------------------------------------------------ formats


def rfc3339(moment: datetime) -> str:
    """``2026-01-02T03:04:05Z``: UTC, uppercase T and Z, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(moment: datetime) -> str:
    """``Fri, 02 Jan 2026 03:04:05 GMT`` (RSS 2.0 and HTTP dates)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def item_id(article: Article, authority: str) -> str:
    """The permanent id of a story in every format (Atom ``id``, RSS ``guid``, JSON Feed
    ``id``, ninjs ``uri``).

    The CMS's GUID when it is an absolute http(s) URL that no earlier story claimed (storage
    decides, see ``Article.guid_is_feed_id``); else a ``tag:`` URI (RFC 4151) minted by us:
    ``tag:AUTHORITY,YYYY-MM-DD:source/S/GUID``, dated the day the story was first stored,
    with the source id and the percent-encoded GUID. Nothing in it is editable, so a
    revision keeps the id, and the same GUID from two sources gives two ids.
    """
    guid = article.guid.strip()
    own = article.guid_is_feed_id
    if own or (own is None and is_http_guid(guid)):
        return guid
    day = (article.stored_at or published_time(article)).astimezone(UTC).date().isoformat()
    source = article.source_id if article.source_id is not None else 0
    return f"tag:{authority},{day}:source/{source}/{quote(guid, safe=_TAG_SAFE)}"


def image_mime_type(image: Image) -> str:
    """The image's media type, guessed from its URL when not recorded."""
    if image.mime_type:
        return image.mime_type
    path = image.url.split("?", 1)[0].split("#", 1)[0]
    guessed, _encoding = mimetypes.guess_type(path, strict=False)
    return guessed or "image/jpeg"


def image_copyright(article: Article, image: Image) -> str | None:
    """The image's own copyright line, else the article's rights statement."""
    return image.copyright or article.rights


def summary_text(article: Article, words: int = 60) -> str:
    """The plain-text summary: the dek (already plain text), else the first ``words`` words
    of the body."""
    if article.dek and article.dek.strip():
        return one_line(article.dek)
    parts = stored_html_text(article.body_html).split(" ")
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " …"


def one_line(text: str) -> str:
    """Plain text with its whitespace collapsed. Stored titles and deks are plain text
    already (ingest decoded them once): they are never parsed as HTML again, so a headline
    about ``<b>`` tags keeps its words and ``&amp;`` stays those five characters."""
    return normalise_space(text)


def clean_title(title: str) -> str:
    """A title as plain text, whitespace collapsed (see :func:`one_line`)."""
    return one_line(title)


def html_text(text: str) -> str:
    """Plain text for an element that readers take as HTML (RSS ``title`` and
    ``description``): escaped once, so it shows as the same text and never as markup."""
    return html.escape(text, quote=False)


# ------------------------------------------------------------------------- full content


def about_the_authors(language: str, count: int) -> str:
    """The heading over the bios of ``count`` authors, in the story's language (``email``
    catalogue; languages not shipped get English)."""
    return str(
        catalogue_for(language, "email").npgettext(
            "feed", "About the author", "About the authors", count
        )
    )


def story_language(article: Article) -> str:
    """The story's language as published: canonical BCP 47 (``zh-Hans``, ``en-GB``)."""
    return language_tag_or_none(article.language) or DEFAULT_LANGUAGE


def feed_language(spec: FeedSpec) -> str:
    """The feed document's language as published: canonical BCP 47."""
    return language_tag_or_none(spec.language) or DEFAULT_LANGUAGE


def absolute_html(fragment: str, base_url: str) -> str:
    """``fragment`` with every href/src made absolute against ``base_url``.

    Ingest already stores absolute URLs; this is the last guard, because relative links are
    the most common complaint from feed consumers (RSS-to-email tools ignore xml:base).
    """
    if not fragment.strip():
        return ""
    container = lxml.html.fragment_fromstring(fragment, create_parent="div")
    container.make_links_absolute(base_url, resolve_base_href=False)
    inner = [(container.text and html.escape(container.text, quote=False)) or ""]
    inner.extend(etree.tostring(child, encoding="unicode", method="html") for child in container)
    return "".join(inner)


def attribution_line(article: Article, template: str, publisher: str) -> str:
    """The attribution sentence as plain text."""
    return (
        template.replace("{publisher}", publisher)
        .replace("{title}", clean_title(article.title))
        .replace("{url}", article.canonical_url)
    )


def attribution_html(article: Article, template: str, publisher: str) -> str:
    """The attribution sentence as HTML, the canonical URL as a link."""
    escaped_url = html.escape(article.canonical_url, quote=True)
    link = f'<a href="{escaped_url}">{escaped_url}</a>'
    title = clean_title(article.title)
    pieces = [
        html.escape(piece.replace("{publisher}", publisher).replace("{title}", title), quote=False)
        for piece in template.split("{url}")
    ]
    return '<p class="dst-attribution">' + link.join(pieces) + "</p>"


def _authors_with_bios(article: Article) -> list[Author]:
    return [author for author in article.authors if author.bio and author.bio.strip()]


def full_html(article: Article, policy: FeedPolicy, publisher: str) -> str:
    """The complete story for partners: body, notes, "About the author", attribution.

    Notes and bios also travel in structured fields, but readers that ignore extensions
    must still show them, so they are part of the HTML too.
    """
    parts = [absolute_html(article.body_html, article.canonical_url)]
    if article.notes:
        notes = "".join(f"<p>{html.escape(note, quote=False)}</p>" for note in article.notes)
        parts.append(f'<aside class="dst-notes">{notes}</aside>')
    bios = _authors_with_bios(article)
    if bios:
        heading = html.escape(about_the_authors(story_language(article), len(bios)), quote=False)
        paragraphs = "".join(
            f"<p>{html.escape(author.bio or '', quote=False)}</p>" for author in bios
        )
        parts.append(f'<section class="dst-about-author"><h2>{heading}</h2>{paragraphs}</section>')
    if policy.attribution:
        parts.append(attribution_html(article, policy.attribution, publisher))
    return "\n".join(part for part in parts if part)


def effective_restriction(article: Article) -> tuple[str, tuple[str, ...]] | None:
    """One country restriction for the story: ("allow", codes) or ("deny", codes), or None.

    Media RSS allows one restriction per type, so an allow list absorbs the deny list.
    """
    deny = tuple(sorted({code.upper() for code in article.territories_deny}))
    allow = tuple(sorted({code.upper() for code in article.territories_allow} - set(deny)))
    if article.territories_allow:
        return ("allow", allow)
    if deny:
        return ("deny", deny)
    return None
