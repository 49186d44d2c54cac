"""Stage 1 of the feed pipeline: bytes -> :class:`FeedDocument` (one reader entry point).

A well-formed UTF-8 RSS 2.0 or Atom 1.0 document is read once, by the strict reader
(:mod:`distributor.ingest.strict_reader`); anything else goes through feedparser, which
recovers from ill-formed XML, odd encodings and dates. Either way the result carries the
feed-level fields and one feedparser-style mapping per entry, plus the lxml ``item``/``entry``
elements of the same document: feedparser flattens what the later stages need as written
(Media RSS, ``dc:creator`` one by one, the RSS ``description``), so those are read from the
tree in the next stage (:mod:`distributor.ingest.raw_entries`).

A document that is not a feed raises :class:`~distributor.ingest.report.NotAFeedError`; an
ill-formed one that could be recovered is a warning in the report.

Pure: parses bytes in memory, never fetches (feedparser is given bytes, not URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import feedparser
from lxml import etree

from distributor.ingest.report import IngestReport, NotAFeedError
from distributor.ingest.strict_reader import StrictDocument, read_strictly

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same characters as bytes: all ASCII, so UTF-8 text has one exactly where its bytes do.
_CONTROL_BYTES = bytes(code for code in range(128) if _CONTROL_CHARS.match(chr(code)))
_BARE_AMPERSAND = re.compile(r"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]{1,31};)")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

_XML_PARSER = etree.XMLParser(
    recover=True, resolve_entities=False, no_network=True, huge_tree=True, encoding="utf-8"
)


@dataclass(slots=True)
class FeedDocument:
    """One feed document as read: feed-level fields, entries, and their XML elements."""

    version: str
    feed: dict[str, Any]
    entries: list[Any]
    report: IngestReport
    # The same items as lxml elements, in document order (see :func:`item_elements`).
    elements: list[etree._Element] = field(default_factory=list)


def read_feed(
    data: bytes, source: str, base_url: str | None = None, *, strict_reader: bool = True
) -> FeedDocument:
    """Read ``data`` with the strict reader, else feedparser (always, if ``strict_reader`` is
    False); raise :class:`NotAFeedError` when it is not an RSS or Atom feed."""
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
    return FeedDocument(
        version=version,
        feed=feed,
        entries=entries,
        report=report,
        elements=item_elements(data, strict, parsed.get("encoding")),
    )


def item_elements(
    data: bytes, strict: StrictDocument | None, encoding: str | None
) -> list[etree._Element]:
    """Every ``item`` and ``entry`` element of the document, in any namespace, in document
    order: from the strict reader's tree when it is the tree a recovering parse would build,
    else from a recovering lxml parse of the repaired bytes (empty when even that fails)."""
    if strict is not None and not (
        _BARE_AMPERSAND.search(strict.text) or _has_control_characters(data)
    ):
        return list(_items_of(strict.root))
    try:
        root = etree.fromstring(_repair_for_lxml(data, encoding), _XML_PARSER)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    return list(_items_of(root))


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


def _has_control_characters(data: bytes) -> bool:
    """``_CONTROL_CHARS.search(data.decode("utf-8"))`` for UTF-8 ``data``, without decoding or
    a regex scan (a few times faster on a large feed)."""
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def _items_of(root: etree._Element) -> Iterable[etree._Element]:
    """Every ``item`` and ``entry`` element, in any namespace, in document order."""
    items: Iterable[etree._Element] = root.iter("{*}item", "{*}entry")
    return items
