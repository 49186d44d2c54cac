"""Stage 6 of the feed pipeline: normalised fields + extracted story + sanitised story ->
:class:`~distributor.domain.articles.Article`.

What the feed says and what the body said are put together here: the feed's authors (else
the byline found in the body) with the bios of both, the feed's images merged with the body's
(one photo under two addresses kept once), and the story's language decided from its
declaration, its text and the channel's (:mod:`distributor.ingest.languages`).

Pure: no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from distributor.domain.articles import Article, Author, Image
from distributor.domain.text import normalise_space
from distributor.ingest.extract import ExtractedBody, assign_bios
from distributor.ingest.languages import SAMPLE_CHARS, LanguageDecision, decide_language
from distributor.ingest.normalise import FeedContext, NormalisedEntry
from distributor.ingest.sanitise import SanitisedStory

# Plain text of this much HTML usually gives a language sample's worth of letters; when markup
# (figures, long URLs) eats it, a larger prefix is read once more.
_LANGUAGE_SAMPLE_HTML = 2000
_TAG = re.compile(r"<[^>]*>?")


def story_language(
    fields: NormalisedEntry, clean: SanitisedStory, feed: FeedContext
) -> LanguageDecision:
    """The item's own language, else its text's, else the channel's (see ingest.languages)."""
    body_html = clean.body_html
    text = fields.title + "\n" + _sample_text(body_html, _LANGUAGE_SAMPLE_HTML)
    if len(text) < SAMPLE_CHARS * 2 and len(body_html) > _LANGUAGE_SAMPLE_HTML:
        text = fields.title + "\n" + _sample_text(body_html, _LANGUAGE_SAMPLE_HTML * 4)
    return decide_language(
        text, item_language=fields.declared_language, channel_language=feed.language
    )


def assemble_article(
    fields: NormalisedEntry, story: ExtractedBody, clean: SanitisedStory, language: str
) -> Article:
    """The article of one item (``language`` from :func:`story_language`)."""
    names = fields.author_names or story.byline_names
    authors = tuple(Author(name=name) for name in dict.fromkeys(names))
    authors = assign_bios(authors, [*fields.author_bios, *story.bios])
    return Article(
        guid=fields.guid,
        title=fields.title,
        canonical_url=fields.link,
        body_html=clean.body_html,
        dek=clean.dek,
        language=language,
        sections=story.sections,
        tags=fields.tags,
        authors=authors,
        images=merge_images(fields.images, story.images),
        notes=story.notes,
        published_at=fields.published_at,
        updated_at=fields.updated_at,
        rights=fields.rights,
        territories_allow=fields.territories_allow,
        territories_deny=fields.territories_deny,
    )


def _sample_text(body_html: str, size: int) -> str:
    """Rough plain text of the start of a (sanitised) body: enough to tell its language,
    many times cheaper than a full HTML-to-text conversion."""
    return normalise_space(html.unescape(_TAG.sub(" ", body_html[:size])))


def merge_images(first: Iterable[Image], second: Iterable[Image]) -> tuple[Image, ...]:
    """Images by identity (URL without query): the first seen wins, gaps filled, widest kept."""
    merged: dict[str, Image] = {}
    for image in [*first, *second]:
        parts = urlsplit(image.url)
        key = f"{parts.netloc.lower()}{parts.path}"
        unquoted = unquote(image.url)
        # Resizing CDNs embed the original URL in theirs: one photo, two addresses.
        key = next(
            (
                k
                for k, known in merged.items()
                if _embeds(unquoted, k) or _embeds(unquote(known.url), key)
            ),
            key,
        )
        current = merged.get(key)
        if current is None:
            merged[key] = image
            continue
        wider = (image.width or 0) > (current.width or 0)
        best = image if wider else current
        other = current if wider else image
        merged[key] = replace(
            best,
            caption=best.caption or other.caption,
            credit=best.credit or other.credit,
            alt=best.alt or other.alt,
            copyright=best.copyright or other.copyright,
            is_lead=best.is_lead or other.is_lead,
        )
    return tuple(merged.values())


def _embeds(url: str, key: str) -> bool:
    """True when ``url`` carries ``key`` (host + path) inside it, not as its own start."""
    position = url.find(key)
    return (
        position > 0
        and url[:position] not in ("http://", "https://")
        and url[position + len(key) :][:1] in ("", "/", "?", "&", "#")
    )
