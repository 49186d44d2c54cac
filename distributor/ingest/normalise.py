"""Stage 3 of the feed pipeline: :class:`~distributor.ingest.raw_entries.RawEntry` ->
:class:`NormalisedEntry` (or a skip in the report).

Here every field an article keeps gets its one form: the canonical link (absolute http(s),
tracking parameters removed, ``origLink`` first), the title as plain text, the body and summary
markup as written, author names (bylines split into people, job titles and places dropped),
the feed's images (absolute URLs, caption and credit apart), dates (aware UTC), tags, rights,
territories, the language the item declares, and a GUID stable across fetches. Feed-level
values items inherit are normalised once, in :func:`normalise_feed`.

An item without a title or a usable link is skipped with a reason; unreadable dates are
warnings carried in :attr:`NormalisedEntry.warnings`.

Pure: no I/O.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from distributor.domain.articles import Image
from distributor.domain.languages import language_tag_or_none
from distributor.domain.text import normalise_space
from distributor.ingest.credits import split_caption
from distributor.ingest.extract import BioBlock, split_names, title_case_if_shouting
from distributor.ingest.raw_entries import RawEntry, RawItem, RawMedia
from distributor.ingest.reading import FeedDocument
from distributor.ingest.report import IngestReport
from distributor.ingest.sanitise import plain_text, safe_url

_TRACKING_PARAMS = re.compile(
    r"^(?:utm_[a-z]+|wt_mc|wt_zmc|fbclid|gclid|mc_cid|mc_eid|ncid)$", re.I
)
_ART_CREDIT = re.compile(
    r"^(?P<name>.+?),?\s+(?:with\s+)?(?:illustrations?|photos?|photographs?|graphics?|images?)"
    r"\s+by\s+.+$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class FeedContext:
    """Feed-level values items inherit."""

    home: str | None
    language: str | None
    authors: tuple[str, ...]
    rights: str | None


@dataclass(frozen=True, slots=True)
class NormalisedEntry:
    """One item's fields in their stored form, before its body is read."""

    label: str
    guid: str
    title: str
    link: str
    body_markup: str  # the full story as written (the summary when there is no content)
    summary_markup: str  # the summary as written, when the body is not the summary
    author_names: tuple[str, ...]
    author_bios: tuple[BioBlock, ...]
    images: tuple[Image, ...]
    published_at: datetime | None
    updated_at: datetime | None
    tags: tuple[str, ...]
    declared_language: str | None
    rights: str | None
    territories_allow: tuple[str, ...]
    territories_deny: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def normalise_feed(document: FeedDocument, base_url: str | None) -> FeedContext:
    """The feed-level values items inherit: home page, language, authors, rights."""
    feed = document.feed
    home = clean_link(feed.get("link"), base_url) or base_url
    feed_language = feed.get("language")
    if feed_language and language_tag_or_none(feed_language) is None:
        document.report.warn(
            f"channel language {feed_language!r} is not a BCP 47 language tag; each story's "
            "language comes from its own declaration or its text"
        )
        feed_language = None
    feed_authors: list[str] = []
    if document.version.startswith("atom"):
        for detail in feed.get("authors", []) or []:
            if plain_text(detail.get("name")):
                feed_authors.append(plain_text(detail.get("name")))
    feed_rights = plain_text(feed.get("rights")) or None
    return FeedContext(home, feed_language, tuple(feed_authors), feed_rights)


def normalise_entry(
    raw: RawEntry, feed: FeedContext, report: IngestReport
) -> NormalisedEntry | None:
    """``raw`` in stored form, or None (skip reported) without a title or a usable link."""
    entry, item, label = raw.entry, raw.item, raw.label
    title = plain_text(entry.get("title"))
    link_candidates = [
        item.orig_link if item else None,
        entry.get("feedburner_origlink"),
        entry.get("link"),
    ]
    link = next((cleaned for c in link_candidates if (cleaned := clean_link(c, feed.home))), None)
    if not link:
        guid = entry.get("id") or ""
        if entry.get("guidislink") or guid.startswith(("http://", "https://")):
            link = clean_link(guid, feed.home)
    if not title:
        report.skip("no title", label)
        return None
    if not link:
        report.skip("no link (or no absolute http/https link)", label)
        return None
    body_markup = _body_from_entry(entry)
    summary_markup = (
        (item.description_html if item and item.description_html else None)
        or entry.get("summary")
        or ""
    )
    if not body_markup:
        body_markup, summary_markup = summary_markup, ""
    warnings: list[str] = []
    published, updated = _dates(entry, warnings)
    return NormalisedEntry(
        label=label,
        guid=_stable_guid(entry, link, title, feed.home),
        title=title,
        link=link,
        body_markup=body_markup,
        summary_markup=summary_markup,
        author_names=tuple(_authors_for(entry, item, feed.authors)),
        author_bios=tuple(item.author_bios if item else ()),
        images=_feed_images(entry, item, feed.home, link),
        published_at=published,
        updated_at=updated,
        tags=tuple(
            dict.fromkeys(
                plain_text(tag.get("term"))
                for tag in entry.get("tags", []) or []
                if plain_text(tag.get("term"))
            )
        ),
        declared_language=_declared_language(entry, item, feed.language),
        rights=(item.rights if item else None) or plain_text(entry.get("rights")) or feed.rights,
        territories_allow=item.territories_allow if item else (),
        territories_deny=item.territories_deny if item else (),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------------- links
def clean_link(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) link without tracking parameters (utm_*, wt_mc, #tk.*)."""
    absolute = safe_url(url, base)
    if absolute is None:
        return None
    if "?" not in absolute and "#" not in absolute:
        return absolute  # no query, no fragment: nothing to remove
    parts = urlsplit(absolute)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    ]
    fragment = "" if parts.fragment.startswith("tk.") else parts.fragment
    if (
        len(query) == len(parse_qsl(parts.query, keep_blank_values=True))
        and fragment == parts.fragment
    ):
        return absolute
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), fragment))


def _stable_guid(entry: Any, link: str | None, title: str, home: str | None) -> str:
    guid = normalise_space(entry.get("id") or "")
    if guid and (":" in guid or "/" in guid):
        return guid
    if guid:
        # A bare number ("23246627") is unique only inside its feed: qualify it by the site.
        return f"{home or 'urn:distributor:unknown'}#guid={guid}"
    if link:
        return link
    digest = hashlib.sha256(f"{home}|{title}".encode()).hexdigest()[:24]
    return f"urn:distributor:item:{digest}"


# ------------------------------------------------------------------------- text
def _body_from_entry(entry: Any) -> str:
    contents = [
        c
        for c in entry.get("content", []) or []
        if (c.get("type") or "text/html") in ("text/html", "application/xhtml+xml")
    ]
    if contents:
        return str(max(contents, key=lambda c: len(c.get("value") or "")).get("value") or "")
    return ""


def _declared_language(entry: Any, item: RawItem | None, feed_language: str | None) -> str | None:
    """The language the item itself declares (never the channel's)."""
    if item is not None:
        return item.language
    # No XML view of the item: feedparser's values, minus what the feed itself declared
    # (feedparser passes a feed-level xml:lang down to every entry and content).
    candidates = [c.get("language") for c in entry.get("content", []) or []]
    candidates.append(entry.get("language"))
    return next((c for c in candidates if c and c != feed_language), None)


# ------------------------------------------------------------------------- authors
_IN_PLACE = re.compile(r" in [A-Z][\w'’. -]*?(?:, [A-Z][\w'’. -]*?)?(?= and |$)")
_JOB_WORDS = r"(?:editor|correspondent|reporter|writer|columnist|critic|analyst|producer|presenter)"
_JOB_TITLE = re.compile(r"^(?P<name>\S+ \S+) .*\b" + _JOB_WORDS + "$", re.IGNORECASE)
_ONLY_JOB = re.compile(r"^(?:[\w-]+ ){0,3}" + _JOB_WORDS + "$", re.IGNORECASE)
_WITH_AGENCIES = re.compile(r"^(?P<name>[A-Z]\S* [A-Z].*?) (?:with|and) agenc(?:y|ies)$")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")


def split_creator(text: str) -> list[str]:
    """Names in one byline field: "A in Washington and B in Paris" -> A, B; job titles,
    places and "(earlier)" notes dropped; "Staff and agencies" kept whole."""
    names: list[str] = []
    art = _ART_CREDIT.match(normalise_space(text))
    if art:
        text = art.group("name")  # "Jane Doe, illustration by Li Wei": the art is not a byline
    for segment in re.split(r"\s*[\n\t;]+\s*", text.strip()):
        part = _IN_PLACE.sub("", _PARENTHESIS.sub("", normalise_space(segment)))
        agencies = _WITH_AGENCIES.match(part)
        if agencies and "staff" not in part.lower():
            part = agencies.group("name")  # "Jane Doe with agencies": the agencies are not named
        candidates = split_names(part) if ("," in part or " and " in part) else [part]
        for candidate in candidates:
            name = normalise_space(candidate).strip(" ,.")
            if _ONLY_JOB.match(name):
                continue  # "Environment Correspondent" on its own line
            job = _JOB_TITLE.match(name)
            if job:
                name = job.group("name")  # "Jason Burke Africa correspondent"
            name = title_case_if_shouting(name)
            if name and name not in names:
                names.append(name)
    return names


def _authors_for(entry: Any, item: RawItem | None, feed_authors: tuple[str, ...]) -> list[str]:
    if item is not None:
        creators: list[str] = []
        for creator in item.creators:
            if creator.is_list:
                creators.extend(split_creator(creator.text))
            else:
                creators.append(creator.text)
        if creators:
            return creators
    names: list[str] = []
    for detail in entry.get("authors", []) or []:
        name = plain_text(detail.get("name"))
        if name:
            names.extend(split_creator(name))
    return names or list(feed_authors)


# ------------------------------------------------------------------------- images
def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 6 else None


def _media_image(media: RawMedia, base: str | None) -> Image | None:
    url = safe_url(media.url, base)
    if url is None:
        return None
    if media.medium and media.medium != "image":
        return None
    if not media.medium and media.mime_type and not media.mime_type.startswith("image/"):
        return None
    if "gravatar.com/avatar" in url:
        return None  # an author's avatar (WordPress.com feeds), not a photo of the story
    caption = media.fields.get("caption")
    credit = media.fields.get("credit")
    if caption and not credit:
        parts = split_caption(caption)
        caption, credit = parts.caption, parts.credit
    elif credit:
        # "Photograph: Jane Doe/Getty Images" in media:credit: keep the party only.
        parts = split_caption(credit)
        credit = parts.credit if parts.credit and not parts.caption else credit
    return Image(
        url=url,
        caption=caption or None,
        credit=credit or None,
        alt=media.fields.get("title") or None,
        width=_int(media.width),
        height=_int(media.height),
        mime_type=media.mime_type or None,
        copyright=media.fields.get("copyright") or None,
        is_lead=media.is_default,
    )


def _feed_images(
    entry: Any, item: RawItem | None, home: str | None, link: str
) -> tuple[Image, ...]:
    """The images the feed attaches to the item (Media RSS, image enclosures)."""
    images: list[Image] = []
    if item is not None:
        for media in item.media:
            image = _media_image(media, home)
            if image is not None:
                images.append(image)
        for enclosure in item.enclosures:
            url = safe_url(enclosure.url, home)
            if url:
                images.append(Image(url=url, mime_type=enclosure.mime_type))
        return tuple(images)
    for media in entry.get("media_content", []) or []:
        url = safe_url(media.get("url"), link)
        if url and (media.get("medium") in (None, "image")):
            images.append(
                Image(url=url, width=_int(media.get("width")), height=_int(media.get("height")))
            )
    return tuple(images)


# ------------------------------------------------------------------------- dates
def _dates(entry: Any, warnings: list[str]) -> tuple[datetime | None, datetime | None]:
    results: list[datetime | None] = []
    for key in ("published", "updated"):
        # Plain dict access: feedparser's own mapping falls back from updated to published
        # (with a DeprecationWarning), which would hide that there was no update time.
        value = _struct_to_datetime(dict.get(entry, f"{key}_parsed"))
        raw = dict.get(entry, key)
        if value is None and raw:
            value, zone_missing = parse_date(raw)
            if value is None:
                warnings.append(f"unreadable {key} date {raw!r}")
            elif zone_missing:
                warnings.append(f"{key} date {raw!r} has no time zone; read as UTC")
        results.append(value)
    published, updated = results
    if published is None and dict.get(entry, "created_parsed"):
        published = _struct_to_datetime(dict.get(entry, "created_parsed"))
    return published or updated, updated


def _struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError):
        return None


_FALLBACK_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d")


def parse_date(raw: str | None) -> tuple[datetime | None, bool]:
    """Parse a date feedparser gave up on; returns (aware UTC datetime, zone_was_missing)."""
    if not raw or not raw.strip():
        return None, False
    text = raw.strip()
    # "Wes, 18 Aug 2021 09:00:00 +0800": a misspelled weekday hides a good date.
    text_no_weekday = re.sub(r"^[A-Za-z]{2,9},\s*", "", text)
    parsed: datetime | None = None
    for candidate in (text, text_no_weekday):
        try:
            parsed = parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError):
            continue
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC), True
        return parsed.astimezone(UTC), False
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        for pattern in _FALLBACK_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)  # noqa: DTZ007 - zone added below
                break
            except ValueError:
                continue
    if parsed is None:
        return None, False
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), True
    return parsed.astimezone(UTC), False
