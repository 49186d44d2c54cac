"""Feeds (RSS 0.9x/1.0/2.0, Atom) to domain :class:`~distributor.domain.articles.Article`.

feedparser reads the document (it recovers from ill-formed XML, odd encodings and dates); lxml
reads the same bytes a second time for what feedparser flattens or mixes up: Media RSS
(``media:content`` with its own ``media:description``/``media:credit``/``media:copyright``, in
``media:group`` or not), ``dc:creator`` one by one, ``*:origLink`` canonical URLs, the RSS
``description`` as written, image enclosures and author bio extension elements.

Every item is checked on its own: one without a link or title is skipped with a reason in the
:class:`~distributor.ingest.report.IngestReport`; the rest go on. A document that is not a
feed raises :class:`~distributor.ingest.report.NotAFeedError`.

Pure: parses bytes in memory, never fetches (feedparser is given bytes, not URLs).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import feedparser
from lxml import etree

from distributor.domain.articles import Article, Author, Image
from distributor.domain.languages import language_tag_or_none
from distributor.ingest.credits import normalise_space, split_caption
from distributor.ingest.extract import (
    BioBlock,
    assign_bios,
    extract_body,
    split_names,
    title_case_if_shouting,
)
from distributor.ingest.languages import SAMPLE_CHARS, LanguageDecision, decide_language
from distributor.ingest.report import IngestReport, NotAFeedError
from distributor.ingest.sanitise import html_to_text, plain_text, safe_url
from distributor.ingest.strict_reader import read_strictly

MEDIA_NAMESPACES = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
CONTENT_NAMESPACE = "http://purl.org/rss/1.0/modules/content/"

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same characters as bytes: all ASCII, so UTF-8 text has one exactly where its bytes do.
_CONTROL_BYTES = bytes(code for code in range(128) if _CONTROL_CHARS.match(chr(code)))
_BARE_AMPERSAND = re.compile(r"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]{1,31};)")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TRACKING_PARAMS = re.compile(
    r"^(?:utm_[a-z]+|wt_mc|wt_zmc|fbclid|gclid|mc_cid|mc_eid|ncid)$", re.I
)
_ART_CREDIT = re.compile(
    r"^(?P<name>.+?),?\s+(?:with\s+)?(?:illustrations?|photos?|photographs?|graphics?|images?)"
    r"\s+by\s+.+$",
    re.IGNORECASE,
)
_EMAIL_NAME = re.compile(r"^\s*(?P<email>[^\s()<>@]+@[^\s()<>]+)\s*\((?P<name>[^)]+)\)\s*$")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_MAX_DEK_CHARS = 600


# ------------------------------------------------------------------- lxml side reading
@dataclass(slots=True)
class _RawItem:
    """What lxml read from one item/entry."""

    keys: tuple[str, ...]
    images: list[Image] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    author_bios: list[BioBlock] = field(default_factory=list)
    description_html: str | None = None
    orig_link: str | None = None
    rights: str | None = None
    territories_allow: tuple[str, ...] = ()
    territories_deny: tuple[str, ...] = ()
    language: str | None = None  # declared on the item itself, never inherited


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _namespace(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]


def _is_media(element: etree._Element) -> bool:
    return _namespace(element) in MEDIA_NAMESPACES


def _names(element: etree._Element) -> tuple[str, str]:
    """(:func:`_namespace`, :func:`_local`) of ``element``, splitting its tag once."""
    tag = element.tag
    if not isinstance(tag, str):
        return "", ""
    if not tag.startswith("{"):
        return "", tag.rsplit("}", 1)[-1]
    return tag[1:].split("}", 1)[0], tag.rsplit("}", 1)[-1]


def _text_of(element: etree._Element | None) -> str:
    if element is None:
        return ""
    if not len(element):
        # No children: the text is all itertext() would give, without building the iterator.
        own: str | None = element.text
        return normalise_space(own)
    return normalise_space("".join(element.itertext()))


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 6 else None


def _media_fields(element: etree._Element) -> dict[str, str | None]:
    """Caption/credit/copyright/title directly inside ``element`` (a content or a group)."""
    found: dict[str, str | None] = {}
    credits: list[tuple[str, str]] = []
    for child in element:
        namespace, name = _names(child)
        if namespace not in MEDIA_NAMESPACES:
            continue
        if name == "description":
            text = _text_of(child)
            # Captions are often escaped HTML ("Tom &amp; Jerry") even when typed "plain".
            if child.get("type") == "html" or "&" in text or "<" in text:
                text = html_to_text(text)
            found.setdefault("caption", text or None)
        elif name == "credit":
            text = _text_of(child)
            if text:
                credits.append(((child.get("role") or "").lower(), text))
        elif name == "copyright":
            found.setdefault("copyright", _text_of(child) or child.get("url") or None)
        elif name == "title":
            found.setdefault("title", html_to_text(_text_of(child)) or None)
    if credits:
        preferred = [text for role, text in credits if role in ("photographer", "author", "")]
        found["credit"] = "; ".join(dict.fromkeys(preferred or [text for _, text in credits]))
    return found


def _media_image(
    content: etree._Element, inherited: dict[str, str | None], base: str | None
) -> Image | None:
    medium = (content.get("medium") or "").lower()
    mime = (content.get("type") or "").lower()
    url = safe_url(content.get("url"), base)
    if url is None:
        return None
    if medium and medium != "image":
        return None
    if not medium and mime and not mime.startswith("image/"):
        return None
    if "gravatar.com/avatar" in url:
        return None  # an author's avatar (WordPress.com feeds), not a photo of the story
    own = _media_fields(content)
    merged = {**inherited, **{k: v for k, v in own.items() if v}}
    caption = merged.get("caption")
    credit = merged.get("credit")
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
        alt=merged.get("title") or None,
        width=_int(content.get("width")),
        height=_int(content.get("height")),
        mime_type=mime or None,
        copyright=merged.get("copyright") or None,
        is_lead=content.get("isDefault") == "true",
    )


def _read_raw_item(item: etree._Element, base: str | None) -> _RawItem:
    keys: list[str] = []
    raw = _RawItem(keys=(), language=item.get(XML_LANG) or None)
    item_media = _media_fields(item)
    contents: list[tuple[etree._Element, dict[str, str | None]]] = []
    enclosures: list[Image] = []
    children = [(child, *_names(child)) for child in item]
    direct_contents = [
        c for c, namespace, name in children if namespace in MEDIA_NAMESPACES and name == "content"
    ]
    for child, namespace, name in children:
        if namespace in MEDIA_NAMESPACES:
            if name == "group":
                group_fields = {
                    **item_media,
                    **{k: v for k, v in _media_fields(child).items() if v},
                }
                contents.extend(
                    (c, group_fields) for c in child if _is_media(c) and _local(c) == "content"
                )
            elif name == "content":
                # Item-level caption/credit describe the image only when it is the only one.
                inherited = item_media if len(direct_contents) == 1 else {}
                contents.append((child, inherited))
            elif name == "restriction" and (child.get("type") or "country") == "country":
                codes = tuple(_text_of(child).upper().split())
                if (child.get("relationship") or "allow") == "deny":
                    raw.territories_deny = codes
                else:
                    raw.territories_allow = codes
            elif name == "copyright":
                raw.rights = raw.rights or _text_of(child) or None
            continue
        if name in ("guid", "id"):
            keys.append(_text_of(child))
        elif name == "link" and namespace in ("", ATOM_NAMESPACE):
            keys.append(child.get("href") or _text_of(child))
        elif name in {"origLink", "origlink"}:
            raw.orig_link = _text_of(child) or None
        elif name == "language" and namespace == DC_NAMESPACE:
            raw.language = raw.language or _text_of(child) or None
        elif (
            name in ("content", "title", "summary")
            and namespace == ATOM_NAMESPACE
            and child.get(XML_LANG)
        ):
            # xml:lang on the entry's own content says what its text is in.
            if name == "content" or raw.language is None:
                raw.language = child.get(XML_LANG)
        elif name == "creator" and namespace == DC_NAMESPACE:
            text = _text_of(child)
            if text:
                raw.creators.extend(_split_creator(text))
        elif name == "author" and namespace in ("", ATOM_NAMESPACE):
            _read_author_element(child, raw)
        elif (name == "description" and namespace == "") or (
            name == "summary" and namespace == ATOM_NAMESPACE and child.get("type") != "xhtml"
        ):
            raw.description_html = "".join(child.itertext()).strip() or None
        elif name == "enclosure" and (child.get("type") or "").startswith("image/"):
            url = safe_url(child.get("url"), base)
            if url:
                enclosures.append(Image(url=url, mime_type=child.get("type")))
        elif name in ("authorBio", "authorbio", "author_bio"):
            text = _text_of(child)
            if text:
                raw.author_bios.append(BioBlock(text, child.get("name")))
        elif name in ("rights", "copyright") and namespace in ("", ATOM_NAMESPACE, DC_NAMESPACE):
            raw.rights = raw.rights or _text_of(child) or None
    for content, inherited in contents:
        image = _media_image(content, inherited, base)
        if image is not None:
            raw.images.append(image)
    raw.images.extend(enclosures)
    raw.keys = tuple(k for k in keys if k)
    return raw


def _read_author_element(element: etree._Element, raw: _RawItem) -> None:
    name_el = next((c for c in element if _local(c) == "name"), None)
    if name_el is not None:
        name = _text_of(name_el)
        if name:
            raw.creators.append(name)
        for child in element:
            if _local(child) in ("bio", "authorBio", "authorbio") and _text_of(child):
                raw.author_bios.append(BioBlock(_text_of(child), name or None))
        return
    text = _text_of(element)
    match = _EMAIL_NAME.match(text)
    if match:
        raw.creators.append(match.group("name").strip())
    elif text and "@" not in text:
        raw.creators.extend(_split_creator(text))


_IN_PLACE = re.compile(r" in [A-Z][\w'’. -]*?(?:, [A-Z][\w'’. -]*?)?(?= and |$)")
_JOB_WORDS = r"(?:editor|correspondent|reporter|writer|columnist|critic|analyst|producer|presenter)"
_JOB_TITLE = re.compile(r"^(?P<name>\S+ \S+) .*\b" + _JOB_WORDS + "$", re.IGNORECASE)
_ONLY_JOB = re.compile(r"^(?:[\w-]+ ){0,3}" + _JOB_WORDS + "$", re.IGNORECASE)
_WITH_AGENCIES = re.compile(r"^(?P<name>[A-Z]\S* [A-Z].*?) (?:with|and) agenc(?:y|ies)$")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")


def _split_creator(text: str) -> list[str]:
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


def _repair_for_lxml(data: bytes, encoding: str | None) -> bytes:
    """Make the bytes parseable: decode as feedparser did, drop control chars, escape bare &."""
    text = data.decode(encoding or "utf-8", errors="replace") if encoding else None
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("windows-1252", errors="replace")
    text = _XML_DECLARATION.sub("", text.lstrip("\ufeff").lstrip())
    text = _CONTROL_CHARS.sub("", text)
    text = _BARE_AMPERSAND.sub("&amp;", text)
    return text.encode("utf-8")


_XML_PARSER = etree.XMLParser(
    recover=True, resolve_entities=False, no_network=True, huge_tree=True, encoding="utf-8"
)


def _read_raw_items(data: bytes, encoding: str | None, base: str | None) -> list[_RawItem]:
    try:
        root = etree.fromstring(_repair_for_lxml(data, encoding), _XML_PARSER)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    return [_read_raw_item(item, base) for item in _items_of(root)]


def _has_control_characters(data: bytes) -> bool:
    """``_CONTROL_CHARS.search(data.decode("utf-8"))`` for UTF-8 ``data``, without decoding or
    a regex scan (a few times faster on a large feed)."""
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def _items_of(root: etree._Element) -> Iterable[etree._Element]:
    """Every ``item`` and ``entry`` element, in any namespace, in document order."""
    items: Iterable[etree._Element] = root.iter("{*}item", "{*}entry")
    return items


# ------------------------------------------------------------------- feedparser side
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


def _entry_keys(entry: Any) -> list[str]:
    keys = [entry.get("id"), entry.get("link")]
    keys.extend(link.get("href") for link in entry.get("links", []) or [])
    return [k for k in keys if k]


def _match_raw(entries: Sequence[Any], raws: Sequence[_RawItem]) -> list[_RawItem | None]:
    by_key: dict[str, _RawItem] = {}
    for raw in raws:
        for key in raw.keys:
            by_key.setdefault(key.strip(), raw)
    matched: list[_RawItem | None] = []
    for index, entry in enumerate(entries):
        found = next((by_key[k.strip()] for k in _entry_keys(entry) if k.strip() in by_key), None)
        if found is None and len(entries) == len(raws):
            found = raws[index]
        matched.append(found)
    return matched


def _body_from_entry(entry: Any) -> str:
    contents = [
        c
        for c in entry.get("content", []) or []
        if (c.get("type") or "text/html") in ("text/html", "application/xhtml+xml")
    ]
    if contents:
        return str(max(contents, key=lambda c: len(c.get("value") or "")).get("value") or "")
    return ""


def _authors_for(entry: Any, raw: _RawItem | None, feed_authors: Sequence[str]) -> list[str]:
    if raw is not None and raw.creators:
        return raw.creators
    names: list[str] = []
    for detail in entry.get("authors", []) or []:
        name = plain_text(detail.get("name"))
        if name:
            names.extend(_split_creator(name))
    return names or list(feed_authors)


def _item_label(index: int, entry: Any) -> str:
    ident = entry.get("id") or entry.get("link") or plain_text(entry.get("title"))[:60]
    return f"item {index + 1}" + (f" ({ident})" if ident else "")


def _dates(entry: Any, report: IngestReport, label: str) -> tuple[datetime | None, datetime | None]:
    results: list[datetime | None] = []
    for key in ("published", "updated"):
        # Plain dict access: feedparser's own mapping falls back from updated to published
        # (with a DeprecationWarning), which would hide that there was no update time.
        value = _struct_to_datetime(dict.get(entry, f"{key}_parsed"))
        raw = dict.get(entry, key)
        if value is None and raw:
            value, zone_missing = parse_date(raw)
            if value is None:
                report.warn(f"unreadable {key} date {raw!r}", label)
            elif zone_missing:
                report.warn(f"{key} date {raw!r} has no time zone; read as UTC", label)
        results.append(value)
    published, updated = results
    if published is None and dict.get(entry, "created_parsed"):
        published = _struct_to_datetime(dict.get(entry, "created_parsed"))
    return published or updated, updated


def _merge_images(first: Iterable[Image], second: Iterable[Image]) -> tuple[Image, ...]:
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


def parse_feed(
    data: bytes, source: str, base_url: str | None = None, *, strict_reader: bool = True
) -> tuple[list[Article], IngestReport]:
    """Read a feed document into articles plus a report of what was wrong.

    ``source`` names the document in messages (a URL or file name); ``base_url`` resolves
    relative links (default: the feed's own links). Raises :class:`NotAFeedError` when the
    bytes are not a feed at all. ``strict_reader=False`` always reads with feedparser (the
    equivalence tests compare both readers).
    """
    report = IngestReport(source=source)
    strict = read_strictly(data, base_url) if strict_reader else None
    if strict is not None:
        parsed: Any = {"version": strict.version, "feed": strict.feed, "encoding": "utf-8"}
        entries: list[Any] = strict.entries
    else:
        # Bytes from a file carry no HTTP headers; say "XML" so feedparser judges the
        # document, not the missing header (a declared encoding still wins, as in RFC 7303).
        headers = {"content-type": "application/xml"}
        if base_url:
            headers["content-location"] = base_url
        # feedparser's own sanitiser and URL resolver are slow and weaker than ours (nh3 does
        # both with the item link as base), so they are turned off.
        parsed = feedparser.parse(
            data, sanitize_html=False, resolve_relative_uris=False, response_headers=headers
        )
        entries = parsed.get("entries", [])
    version = parsed.get("version") or ""
    feed = parsed.get("feed", {})
    if not version and not entries and not feed.get("title"):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise NotAFeedError(
            f"{source}: not an RSS or Atom feed ({reason}); expected RSS 0.9x/1.0/2.0, Atom, "
            "or a JSON article list"
        )
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        line = getattr(exc, "getLineNumber", lambda: None)()
        where = f" at line {line}" if line else ""
        report.warn(f"ill-formed document{where}: {exc}; recovered what could be read")
    home = clean_link(feed.get("link"), base_url) or base_url
    feed_language = feed.get("language")
    if feed_language and language_tag_or_none(feed_language) is None:
        report.warn(
            f"channel language {feed_language!r} is not a BCP 47 language tag; each story's "
            "language comes from its own declaration or its text"
        )
        feed_language = None
    feed_authors: list[str] = []
    if version.startswith("atom"):
        for detail in feed.get("authors", []) or []:
            if plain_text(detail.get("name")):
                feed_authors.append(plain_text(detail.get("name")))
    feed_rights = plain_text(feed.get("rights")) or None
    context = _FeedContext(home, feed_language, tuple(feed_authors), feed_rights)
    if strict is not None and not (
        _BARE_AMPERSAND.search(strict.text) or _has_control_characters(data)
    ):
        # The strict tree is the tree the recovering read would build: read it once.
        raws = [_read_raw_item(item, home) for item in _items_of(strict.root)]
    else:
        raws = _read_raw_items(data, parsed.get("encoding"), home)
    matched = _match_raw(entries, raws)
    report.items_seen = len(entries)
    if not entries:
        report.warn("the feed has no items")
    articles: list[Article] = []
    seen_guids: set[str] = set()
    for index, entry in enumerate(entries):
        label = _item_label(index, entry)
        try:
            article = _entry_to_article(entry, matched[index], report, label, context)
        except Exception as exc:  # one strange item must never cost the others
            report.skip(f"could not be read: {type(exc).__name__}: {exc}", label)
            continue
        if article is None:
            continue
        if article.guid in seen_guids:
            report.skip(f"duplicate guid {article.guid!r} in the same feed", label)
            continue
        seen_guids.add(article.guid)
        articles.append(article)
    return articles, report


@dataclass(frozen=True, slots=True)
class _FeedContext:
    """Feed-level values items inherit."""

    home: str | None
    language: str | None
    authors: tuple[str, ...]
    rights: str | None


def _entry_to_article(
    entry: Any, raw: _RawItem | None, report: IngestReport, label: str, feed: _FeedContext
) -> Article | None:
    home, feed_language, feed_authors, feed_rights = (
        feed.home,
        feed.language,
        feed.authors,
        feed.rights,
    )
    title = plain_text(entry.get("title"))
    link_candidates = [
        raw.orig_link if raw else None,
        entry.get("feedburner_origlink"),
        entry.get("link"),
    ]
    link = next((cleaned for c in link_candidates if (cleaned := clean_link(c, home))), None)
    if not link:
        guid = entry.get("id") or ""
        if entry.get("guidislink") or guid.startswith(("http://", "https://")):
            link = clean_link(guid, home)
    if not title:
        report.skip("no title", label)
        return None
    if not link:
        report.skip("no link (or no absolute http/https link)", label)
        return None
    body_raw = _body_from_entry(entry)
    summary_raw = (
        (raw.description_html if raw and raw.description_html else None)
        or entry.get("summary")
        or ""
    )
    if not body_raw:
        body_raw, summary_raw = summary_raw, ""
    extracted = extract_body(body_raw, link, title)
    dek = html_to_text(summary_raw) or None
    if dek and len(dek) > _MAX_DEK_CHARS:
        dek = dek[: _MAX_DEK_CHARS - 1].rsplit(" ", 1)[0] + "…"
    names = _authors_for(entry, raw, feed_authors) or list(extracted.byline_names)
    authors = tuple(Author(name=name) for name in dict.fromkeys(names))
    bios = list(raw.author_bios if raw else []) + list(extracted.bios)
    authors = assign_bios(authors, bios)
    media_images = raw.images if raw else []
    if not media_images and not raw:
        for media in entry.get("media_content", []) or []:
            url = safe_url(media.get("url"), link)
            if url and (media.get("medium") in (None, "image")):
                media_images.append(
                    Image(url=url, width=_int(media.get("width")), height=_int(media.get("height")))
                )
    images = _merge_images(media_images, extracted.images)
    published, updated = _dates(entry, report, label)
    tags = tuple(
        dict.fromkeys(
            plain_text(tag.get("term"))
            for tag in entry.get("tags", []) or []
            if plain_text(tag.get("term"))
        )
    )
    language = _item_language(entry, raw, title, extracted.body_html, feed_language)
    if language.problem:
        report.warn(language.problem, label)
    rights = (raw.rights if raw else None) or plain_text(entry.get("rights")) or feed_rights
    return Article(
        guid=_stable_guid(entry, link, title, home),
        title=title,
        canonical_url=link,
        body_html=extracted.body_html,
        dek=dek,
        language=language.tag,
        sections=extracted.sections,
        tags=tags,
        authors=authors,
        images=images,
        notes=extracted.notes,
        published_at=published,
        updated_at=updated,
        rights=rights,
        territories_allow=raw.territories_allow if raw else (),
        territories_deny=raw.territories_deny if raw else (),
    )


# Plain text of this much HTML usually gives a language sample's worth of letters; when markup
# (figures, long URLs) eats it, a larger prefix is read once more.
_LANGUAGE_SAMPLE_HTML = 2000
_TAG = re.compile(r"<[^>]*>?")


def _sample_text(body_html: str, size: int) -> str:
    """Rough plain text of the start of a (sanitised) body: enough to tell its language,
    many times cheaper than a full HTML-to-text conversion."""
    return " ".join(html.unescape(_TAG.sub(" ", body_html[:size])).split())


def _item_language(
    entry: Any, raw: _RawItem | None, title: str, body_html: str, feed_language: str | None
) -> LanguageDecision:
    """The item's own language, else its text's, else the channel's (see ingest.languages)."""
    if raw is not None:
        item_language = raw.language
    else:
        # No lxml view of the item: feedparser's values, minus what the feed itself declared
        # (feedparser passes a feed-level xml:lang down to every entry and content).
        candidates = [c.get("language") for c in entry.get("content", []) or []]
        candidates.append(entry.get("language"))
        item_language = next((c for c in candidates if c and c != feed_language), None)
    text = title + "\n" + _sample_text(body_html, _LANGUAGE_SAMPLE_HTML)
    if len(text) < SAMPLE_CHARS * 2 and len(body_html) > _LANGUAGE_SAMPLE_HTML:
        text = title + "\n" + _sample_text(body_html, _LANGUAGE_SAMPLE_HTML * 4)
    return decide_language(text, item_language=item_language, channel_language=feed_language)
