"""Reading well-formed RSS 2.0 and Atom 1.0 documents with one lxml parse, as feedparser would.

feedparser reads a document through a SAX pipeline that costs about a millisecond per item, and
:mod:`distributor.ingest.raw_entries` then reads the same bytes again with lxml. For the common
case, a well-formed UTF-8 RSS 2.0 or Atom 1.0 document, :func:`read_strictly` parses once with
lxml and builds, for every item, the mapping of the fields the pipeline reads from a feedparser
entry
(title, link, links, id, guidislink, content, summary, authors, dates, tags, language, rights,
feedburner_origlink) following feedparser's own rules: which element wins when several carry a
field (the shallowest, else the last), a second ``<description>`` or a ``media:description``
after a summary becoming content, ``guid`` standing in for a missing link, relative links
resolved against the document base, and its text repairs (UTF-8 read as Latin-1, Windows-1252
control codes). Dates and URL joins follow feedparser's rules (tested against its functions
over the corpus).

Whatever is not modelled here makes :func:`read_strictly` decline (return None) and the caller
uses feedparser: other encodings, a DOCTYPE, ``xml:base``, XHTML or base64 content, markup
inside text elements, RSS 0.9x/1.0 and elements feedparser gives a meaning to that are not
modelled (``source``, ``image`` in items, GeoRSS, licences...). The equivalence test
(tests/unit/ingest/test_strict_reader_equivalence.py) keeps the two paths equal on every feed
we have.

Pure: parses bytes in memory.
"""

from __future__ import annotations

import contextlib
import html.entities
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

import feedparser
from feedparser.urls import make_safe_absolute_uri
from lxml import etree

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
_XML_NAMESPACE = "{http://www.w3.org/XML/1998/namespace}"
_XML_LANG = _XML_NAMESPACE + "lang"
_XML_BASE = _XML_NAMESPACE + "base"

# Namespace URIs feedparser knows, and the prefix it files their elements under ("" = core).
FEEDPARSER_PREFIXES: dict[str, str] = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://example.com/newformat#": "",
    "http://example.com/necho": "",
    "http://purl.org/echo/": "",
    "uri/of/echo/namespace#": "",
    "http://purl.org/pie/": "",
    "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/aggregation/": "ag",
    "http://purl.org/rss/1.0/modules/annotate/": "annotate",
    "http://media.tangent.org/rss/1.0/": "audio",
    "http://backend.userland.com/blogchannelmodule": "blogChannel",
    "http://creativecommons.org/ns#license": "cc",
    "http://web.resource.org/cc/": "cc",
    "http://cyber.law.harvard.edu/rss/creativecommonsrssmodule.html": "creativeCommons",
    "http://backend.userland.com/creativecommonsrssmodule": "creativeCommons",
    "http://purl.org/rss/1.0/modules/company": "co",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://my.theinfo.org/changed/1.0/rss/": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/email/": "email",
    "http://purl.org/rss/1.0/modules/event/": "ev",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://freshmeat.net/rss/fm/": "fm",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://postneo.com/icbm/": "icbm",
    "http://purl.org/rss/1.0/modules/image/": "image",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://purl.org/rss/1.0/modules/link/": "l",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://madskills.com/public/xml/rss/module/pingback/": "pingback",
    "http://prismstandard.org/namespaces/1.2/basic/": "prism",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://purl.org/rss/1.0/modules/reference/": "ref",
    "http://purl.org/rss/1.0/modules/richequiv/": "reqv",
    "http://purl.org/rss/1.0/modules/search/": "search",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap",
    "http://purl.org/rss/1.0/modules/servicestatus/": "ss",
    "http://hacks.benhammersley.com/rss/streaming/": "str",
    "http://purl.org/rss/1.0/modules/subscription/": "sub",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://schemas.pocketsoap.com/rss/mydescmodule/": "szf",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://purl.org/rss/1.0/modules/textinput/": "ti",
    "http://madskills.com/public/xml/rss/module/trackback/": "trackback",
    "http://wellformedweb.org/commentapi/": "wfw",
    "http://purl.org/rss/1.0/modules/wiki/": "wiki",
    "http://www.w3.org/1999/xhtml": "xhtml",
    "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/xml/1998/namespace": "xml",
    "http://podlove.org/simple-chapters": "psc",
}

# Element names (feedparser's "prefix_local") modelled below, by what they do.
_TITLES = frozenset({"title", "dc_title"})
_DESCRIPTIONS = frozenset({"description", "dc_description", "media_description"})
_SUMMARIES = frozenset({"summary", "itunes_summary"})
_CONTENTS = frozenset({"content_encoded", "fullitem"})
_AUTHORS = frozenset({"author", "dc_author", "dc_creator", "itunes_author", "managingeditor"})
_PUBLISHED = frozenset({"published", "pubdate", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_CREATED = frozenset({"created", "dcterms_created"})
_CATEGORIES = frozenset({"category", "keywords", "dc_subject", "media_category"})
_SPLIT_TAGS = frozenset({"media_keywords", "itunes_keywords", "tags"})
_LANGUAGES = frozenset({"language", "dc_language"})
_RIGHTS = frozenset({"rights", "copyright", "dc_rights"})
_AUTHOR_PARTS = frozenset({"name", "email", "url", "uri", "homepage"})
_IMAGE_PARTS = frozenset({"title", "link", "url", "width", "height", "description"})
_MODELLED = (
    _TITLES
    | _DESCRIPTIONS
    | _SUMMARIES
    | _CONTENTS
    | _AUTHORS
    | _PUBLISHED
    | _UPDATED
    | _CREATED
    | _CATEGORIES
    | _SPLIT_TAGS
    | _LANGUAGES
    | _RIGHTS
    | _AUTHOR_PARTS
    | {"media_title", "abstract", "content", "link", "guid", "id", "enclosure", "itunes_category"}
    | {"media_content", "media_group", "item", "entry", "channel", "feed", "rss"}
)
# Handlers feedparser has that only fill keys the pipeline never reads: walked, values ignored.
_HARMLESS = frozenset(
    {
        "contributor", "dc_contributor", "dc_publisher", "webmaster", "subtitle", "tagline",
        "itunes_subtitle", "info", "feedburner_browserfriendly", "generator", "cloud",
        "expirationdate", "dcterms_valid", "width", "height", "media_credit",
        "media_restriction", "media_license", "media_rating", "media_thumbnail",
        "media_player", "itunes_image", "itunes_link", "itunes_block", "itunes_explicit",
        "itunes_owner", "itunes_name", "itunes_email",
    }
)  # fmt: skip
# Every element feedparser handles (feedparser 6.0). Handled names outside _MODELLED and
# _HARMLESS (source, image, textinput, body, GeoRSS, licences, ...) make the reader decline.
FEEDPARSER_HANDLED = frozenset(
    {
        "abstract", "author", "body", "category", "cc_license", "channel", "cloud", "content",
        "content_encoded", "contributor", "copyright", "created", "creativeCommons_license",
        "creativecommons_license", "dc_author", "dc_contributor", "dc_creator", "dc_date",
        "dc_description", "dc_language", "dc_publisher", "dc_rights", "dc_subject", "dc_title",
        "dcterms_created", "dcterms_issued", "dcterms_modified", "dcterms_valid",
        "description", "email", "enclosure", "entry", "expirationdate", "feed",
        "feedburner_browserfriendly", "fullitem", "generator", "geom", "georss_box",
        "georss_line", "georss_point", "georss_polygon", "georss_where", "georssgeom",
        "gml_exterior", "gml_linearring", "gml_linestring", "gml_point", "gml_polygon",
        "gml_pos", "gml_poslist", "guid", "height", "homepage", "id", "image", "info", "issued",
        "item", "itunes_author", "itunes_block", "itunes_category", "itunes_email",
        "itunes_explicit", "itunes_image", "itunes_keywords", "itunes_link", "itunes_name",
        "itunes_owner", "itunes_subtitle", "itunes_summary", "keywords", "language",
        "lastbuilddate", "link", "managingeditor", "media_category", "media_content",
        "media_credit", "media_description", "media_group", "media_keywords", "media_license",
        "media_player", "media_rating", "media_restriction", "media_thumbnail", "media_title",
        "modified", "name", "newlocation", "psc_chapter", "psc_chapters", "pubdate",
        "published", "rights", "rss", "source", "subtitle", "summary", "tagline", "tags",
        "textInput", "textinput", "title", "updated", "uri", "url", "webmaster", "where",
        "width", "xhtml_body",
    }
)  # fmt: skip
# Entry keys the pipeline reads: an unmodelled element stored under one of them means decline.
_READ_KEYS = frozenset(
    {
        "title", "link", "links", "id", "guidislink", "content", "summary", "authors", "author",
        "published", "updated", "created", "published_parsed", "updated_parsed",
        "created_parsed", "tags", "language", "rights", "media_content", "feedburner_origlink",
    }
)  # fmt: skip
# feedparser files some element names under another key ("guid" is "id").
_KEY_ALIASES = {
    "guid": "id",
    "date": "updated",
    "modified": "updated",
    "issued": "published",
    "copyright": "rights",
    "description": "summary",
    "url": "href",
}
_CAN_BE_RELATIVE = frozenset(
    {"comments", "docs", "href", "icon", "id", "link", "logo", "url", "wfw_comment"}
    | {"wfw_commentrss"}
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
_ENTITY_IN_LINK = re.compile(r"&([A-Za-z0-9_]+);")
_EMAIL_IN_AUTHOR = re.compile(
    r"(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"
    r"([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"
)
_CLOSING_TAG = re.compile(r"</(\w+)>")
_ANY_ENTITY = re.compile(r"&#?\w+;")
_ANY_TAG = re.compile(r"</?(\w+)")
_NAMED_ENTITY = re.compile(r"&(\w+);")
# The HTML elements feedparser's sanitiser accepts (feedparser 6.0), by which it tells HTML
# from plain text; a test checks the set against feedparser's own.
_HTML_ELEMENTS = frozenset(
    {"a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "big",
     "blockquote", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
     "colgroup", "command", "datagrid", "datalist", "dd", "del", "details", "dfn", "dialog",
     "dir", "div", "dl", "dt", "em", "event-source", "fieldset", "figcaption", "figure",
     "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
     "input", "ins", "kbd", "keygen", "label", "legend", "li", "m", "map", "menu", "meter",
     "multicol", "nav", "nextid", "noscript", "ol", "optgroup", "option", "output", "p", "pre",
     "progress", "q", "s", "samp", "section", "select", "small", "sound", "source", "spacer",
     "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "textarea", "tfoot",
     "th", "thead", "time", "tr", "tt", "u", "ul", "var", "video"}
)  # fmt: skip
_C1_CONTROLS = re.compile("[\x80-\x9f]")
_C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")  # _C1_CONTROLS in UTF-8
# C1 control codes that are Windows-1252 printables (text typed on Windows read as Latin-1).
_WINDOWS_1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}

# Comments and processing instructions stay in the tree, as in the recovering parse of
# ``reading.item_elements``, so both read the same tree.
_STRICT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class _Declined(Exception):  # noqa: N818 - control flow, not an error to report
    """The document uses something this reader does not model; feedparser must read it."""


# Extra slashes after "scheme://" are dropped before a join, as feedparser does.
_URI_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")


def _join_url(base: str, uri: str) -> str:
    """``uri`` against ``base`` by feedparser's rule ("" when the join fails)."""
    uri = _URI_SLASHES.sub(r"\1\3", uri)
    try:
        return urllib.parse.urljoin(base, uri)
    except ValueError:
        return ""


def _feedparser_date(value: str) -> time.struct_time | None:
    """feedparser's date for ``value``, through its public ``parse`` of a one-item feed."""
    document = f"<rss version='2.0'><channel><item><pubDate>{escape(value)}</pubDate></item>"
    entries = feedparser.parse(document.encode() + b"</channel></rss>").entries
    parsed: time.struct_time | None = entries[0].get("published_parsed") if entries else None
    return parsed


_DAY_NAMES = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# The two date forms feeds use almost always (RFC 822 in RSS, RFC 3339 or a bare date in Atom
# and dc:date);
# any other form goes through feedparser's public parse (slow, and rare), whose many date
# handlers then decide.
_RFC822_DATE = re.compile(
    r"^(?:([A-Za-z]{3}),\s*)?"
    r"(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? "
    r"(GMT|UTC|UT|Z|[+-]\d{4})$"
)
_RFC3339_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$"
)


def _parse_date(value: str) -> time.struct_time | None:
    """``value`` as feedparser parses it (a UTC struct_time; None for no value): the RFC 822
    and RFC 3339 forms here, any other through feedparser (tested over the corpus)."""
    if not value:
        return None
    fields: tuple[str, ...]
    if match := _RFC822_DATE.match(value):
        day_name, day, month_name, year, hour, minute, second, zone = match.groups()
        if day_name and day_name.lower() not in _DAY_NAMES:
            return None  # feedparser gives no date for a misspelt day ("Wes, 18 Aug 2021 …")
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return _feedparser_date(value)
        fields = (year, str(month), day, hour, minute, second or "0")
        zone = "+0000" if zone in ("GMT", "UTC", "UT", "Z") else zone
    elif match := _RFC3339_DATE.match(value):
        *date_fields, zone = match.groups()
        fields = tuple(part or "0" for part in date_fields)
        zone = "+0000" if zone in (None, "Z") else zone.replace(":", "")
    else:
        return _feedparser_date(value)
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    year_, month_, day_, hour_, minute_, second_ = (int(part) for part in fields)
    try:
        moment = datetime(
            year_, month_, day_, hour_, minute_, second_,
            tzinfo=timezone(-offset if zone[0] == "-" else offset),
        )  # fmt: skip
    except ValueError:  # feedparser's answer for impossible dates is its own
        return _feedparser_date(value)
    return moment.astimezone(UTC).utctimetuple()


@dataclass(slots=True)
class StrictDocument:
    """What feedparser would have returned, for the parts the pipeline reads."""

    version: str
    feed: dict[str, Any]
    entries: list[dict[str, Any]]
    items: list[etree._Element]
    root: etree._Element
    text: str = field(repr=False, default="")


def read_strictly(data: bytes, base_url: str | None = None) -> StrictDocument | None:
    """The feed read strictly, or None when feedparser must read it (see module doc)."""
    try:
        return _read(data, base_url)
    except _Declined:
        return None


def _read(data: bytes, base_url: str | None) -> StrictDocument:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if body[:2] in (b"\xfe\xff", b"\xff\xfe") or body[:1] in (b"\x00", b"\x4c"):
        raise _Declined("not UTF-8")
    declared = _XML_ENCODING.match(body)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise _Declined("declared encoding is not UTF-8")
    try:
        text = body.decode("utf-8")
        root = etree.fromstring(body, _STRICT_PARSER)
    except (UnicodeDecodeError, etree.XMLSyntaxError, ValueError) as exc:
        raise _Declined("not well-formed UTF-8") from exc
    if root.getroottree().docinfo.doctype:
        raise _Declined("DOCTYPE")
    base = make_safe_absolute_uri("", base_url or "") or make_safe_absolute_uri(base_url or "")
    reader = _Reader(base or "")
    if root.tag == "rss":
        version = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}.get(
            root.get("version", "")
        ) or ("rss20" if root.get("version", "").startswith("2.") else "rss")
        reader.version = version
        reader.read_root(root)
    elif root.tag == "{" + ATOM_NAMESPACE + "}feed":
        reader.version = "atom10"
        reader.read_root(root)
    else:
        raise _Declined("neither RSS 2.0 nor Atom 1.0")
    return StrictDocument(reader.version, reader.feed, reader.entries, reader.items, root, text)


def _feedparser_name(element: etree._Element) -> str:
    """The name feedparser files ``element`` under: "dc_creator", "media_content", "title"."""
    tag = element.tag
    if not isinstance(tag, str):
        raise _Declined("entity or other non-element node")
    if tag[0] != "{":
        return tag.lower()
    namespace, local = tag[1:].split("}", 1)
    lowered = namespace.lower()
    if "backend.userland.com/rss" in lowered:
        lowered = "http://backend.userland.com/rss"
    prefix = FEEDPARSER_PREFIXES.get(lowered)
    if prefix is None:
        # An unknown namespace: feedparser uses the prefix the document declared for it.
        declared = next((p for p, uri in element.nsmap.items() if uri == namespace and p), None)
        if declared is None:
            return local.lower()
        prefix = declared
    return f"{prefix}_{local.lower()}" if prefix else local.lower()


def _repair_text(value: str) -> str:
    """feedparser's text repairs: UTF-8 that was read as Latin-1, then Windows-1252 codes."""
    if not value.isascii():
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("iso-8859-1").decode("utf-8")
        if _has_c1_controls(value):
            value = value.translate(_WINDOWS_1252)
    return value


def _has_c1_controls(value: str) -> bool:
    """``_C1_CONTROLS.search(value)``, on the UTF-8 bytes: U+0080-U+009F are exactly the byte
    pairs C2 80 to C2 9F there, which a literal-prefixed search finds much faster."""
    return _C1_BYTES.search(value.encode("utf-8", "surrogatepass")) is not None


def _looks_like_html(text: str) -> bool:
    """feedparser's guess for RSS text typed as plain: a closing tag or an entity, and only
    known HTML tags and entities."""
    if not (_CLOSING_TAG.search(text) or _ANY_ENTITY.search(text)):
        return False
    if any(tag.lower() not in _HTML_ELEMENTS for tag in _ANY_TAG.findall(text)):
        return False
    return all(name in html.entities.entitydefs for name in _NAMED_ENTITY.findall(text))


_SHORT_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html"}


def _content_type(value: str) -> str:
    lowered = value.lower()
    return _SHORT_CONTENT_TYPES.get(
        lowered, "application/xhtml+xml" if lowered == "xhtml" else lowered
    )


def _is_base64(attributes: dict[str, str], content_type: str) -> bool:
    if attributes.get("mode", "") == "base64":
        return True
    return not (
        content_type.startswith("text/")
        or content_type.endswith("+xml")
        or content_type.endswith("/xml")
    )


def _attributes(element: etree._Element) -> dict[str, str]:
    """Attributes as feedparser sees them: names lowercased, ``rel``/``type`` values too."""
    found: dict[str, str] = {}
    for qualified, value in element.items():
        if qualified == _XML_BASE or qualified.lower() == "base":
            raise _Declined("xml:base")
        key = qualified
        if qualified.startswith("{"):
            # feedparser files a namespaced attribute under "prefix:local" (known namespaces)
            # and under its bare local name.
            namespace, key = qualified[1:].split("}", 1)
            prefix = FEEDPARSER_PREFIXES.get(namespace.lower())
            if prefix:
                found[f"{prefix}:{key}".lower()] = value
        key = key.lower()
        found[key] = value.lower() if key in ("rel", "type") else value
    return found


class _Reader:
    """Walks the tree doing what feedparser's handlers do, for the modelled elements."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.version = ""
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.items: list[etree._Element] = []
        self.entry: dict[str, Any] | None = None
        self.depths: dict[str, int] = {}
        self.has_content = False
        self.summary_key: str | None = None
        self.title_depth = -1
        self.guid_is_link = False
        self.in_author = False
        self.in_contributor = False

    # ------------------------------------------------------------------ walking
    def read_root(self, root: etree._Element) -> None:
        lang = self._lang(root, None)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        _attributes(root)
        self.walk_children(root, 1, lang)

    def walk_children(self, element: etree._Element, depth: int, lang: str | None) -> None:
        for child in element:
            if isinstance(child.tag, str):
                self.walk(child, depth + 1, lang)

    @staticmethod
    def _lang(element: etree._Element, inherited: str | None) -> str | None:
        value = element.get(_XML_LANG)
        if value is None:
            for name, candidate in element.items():
                if name.lower() == "lang":
                    value = candidate
                    break
        if value is None:
            return inherited
        return value or None

    def walk(self, element: etree._Element, depth: int, inherited: str | None) -> None:
        name = _feedparser_name(element)
        if element.keys():
            attributes = _attributes(element)
            lang = self._lang(element, inherited)
        else:  # most elements: what the two calls give for no attributes, without them
            attributes = {}
            lang = inherited
        if name in ("item", "entry"):
            self.read_item(element, depth, lang, attributes)
        elif name in ("channel", "feed", "rss"):
            if self.entry is not None or depth != 2 or name != "channel":
                raise _Declined("nested channel")
            if "lastmod" in attributes or "href" in attributes:
                raise _Declined("CDF channel attributes")
            self.walk_children(element, depth, lang)
        elif name == "image" and self.entry is None:
            self.check_channel_image(element)
        elif name == "image":
            self.read_item_image(element, depth, lang)
        elif name == "source" and self.entry is not None:
            # RSS 2.0 <source url="...">Name</source>: fills only ``entry.source``.
            self.text_of(element)
            self.title_depth = -1
        elif name in _MODELLED:
            self.read_modelled(name, element, depth, lang, attributes)
        elif name in _HARMLESS:
            self.walk_children(element, depth, lang)
        elif name in FEEDPARSER_HANDLED:
            raise _Declined(f"<{name}> is not modelled")
        else:
            key = _KEY_ALIASES.get(name, name)
            if key in _READ_KEYS and key != "feedburner_origlink":
                raise _Declined(f"unknown element stored as {key!r}")
            if key == "feedburner_origlink":
                if attributes or len(element):
                    raise _Declined("feedburner:origLink with attributes or children")
                self.store(key, self.finish(key, element), depth)
            self.walk_children(element, depth, lang)

    @staticmethod
    def check_channel_image(element: etree._Element) -> None:
        """A channel ``<image>`` fills only feedparser's ``feed.image``, if it holds only the
        usual children (others would end feedparser's "in image" state early)."""
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if _feedparser_name(child) not in _IMAGE_PARTS or len(child):
                raise _Declined("unusual channel image")

    def read_item_image(self, element: etree._Element, depth: int, lang: str | None) -> None:
        """An ``<image>`` in an item: its title may become the item's (the shallowest title
        wins), its link is ignored; feedparser forgets which title it saw."""
        self.title_depth = -1
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _feedparser_name(child)
            if name not in _IMAGE_PARTS or name == "description" or len(child):
                raise _Declined("unusual item image")
            if name == "link" and {"href", "url", "uri"} & set(_attributes(child)):
                raise _Declined("item image link with href")
            if name == "title":
                self.read_title(name, child, depth + 1, self._lang(child, lang), _attributes(child))

    def read_item(
        self, element: etree._Element, depth: int, lang: str | None, attributes: dict[str, str]
    ) -> None:
        expected = 3 if self.version != "atom10" else 2
        if self.entry is not None or depth != expected:
            raise _Declined("item outside the channel")
        if "rdf:about" in attributes or "lastmod" in attributes or "href" in attributes:
            raise _Declined("RDF/CDF item attributes")
        self.entry = {}
        self.entries.append(self.entry)
        self.items.append(element)
        self.depths = {}
        self.guid_is_link = False
        self.title_depth = -1
        self.walk_children(element, depth, lang)
        self.entry = None
        self.has_content = False

    # ------------------------------------------------------------------ values
    def context(self) -> dict[str, Any]:
        return self.entry if self.entry is not None else self.feed

    @staticmethod
    def text_of(element: etree._Element) -> str:
        """Character data of a text element (comments skipped, as feedparser does)."""
        if not len(element):
            return element.text or ""
        pieces = [element.text or ""]
        for child in element:
            if isinstance(child.tag, str):
                raise _Declined("markup inside a text element")
            pieces.append(child.tail or "")
        return "".join(pieces)

    def finish(self, key: str, element: etree._Element, *, expecting_text: bool = True) -> str:
        """The text of ``element`` after feedparser's processing of element ``key``."""
        output = self.text_of(element).strip()
        if not expecting_text:
            return output
        if key in _CAN_BE_RELATIVE and output and (key != "id" or self.guid_is_link):
            output = _join_url(self.base, output)
        return _repair_text(output)

    def store(self, key: str, value: Any, depth: int) -> None:
        """feedparser's rule: in an entry, a value from a deeper element never replaces one."""
        if self.entry is None:
            self.feed[_KEY_ALIASES.get(key, key) if key != "description" else "subtitle"] = value
            return
        key = _KEY_ALIASES.get(key, key)
        old = self.depths.get(key)
        if old is None or depth <= old:
            self.depths[key] = depth
            self.entry[key] = value

    def content_params(
        self, attributes: dict[str, str], default_type: str, lang: str | None
    ) -> dict[str, Any]:
        content_type = _content_type(attributes.get("type", default_type))
        if content_type == "application/xhtml+xml" or _is_base64(attributes, content_type):
            raise _Declined("XHTML or base64 content")
        language = lang.replace("_", "-") if lang else lang
        return {"type": content_type, "language": language, "base": self.base}

    # ------------------------------------------------------------------ handlers
    def read_modelled(
        self,
        name: str,
        element: etree._Element,
        depth: int,
        lang: str | None,
        attributes: dict[str, str],
    ) -> None:
        if name in _TITLES or name == "media_title":
            self.read_title(name, element, depth, lang, attributes)
        elif name in _DESCRIPTIONS or name in _SUMMARIES or name == "abstract":
            self.read_description(name, element, depth, lang, attributes)
        elif name in _CONTENTS or name == "content":
            self.read_content(name, element, depth, lang, attributes)
        elif name in _AUTHORS:
            self.read_author(element, depth, lang)
        elif name in _AUTHOR_PARTS:
            self.read_author_part(name, element, depth)
        elif name in _PUBLISHED or name in _UPDATED or name in _CREATED:
            key = (
                "published" if name in _PUBLISHED else "updated" if name in _UPDATED else "created"
            )
            value = self.finish(key, element)
            self.store(key, value, depth)
            self.context()[f"{key}_parsed"] = _parse_date(value)
        elif name in _CATEGORIES or name == "itunes_category":
            self.read_category(name, element, attributes)
        elif name in _SPLIT_TAGS:
            if attributes:
                raise _Declined("keywords with attributes")
            value = self.finish(name, element)
            if name == "media_keywords":
                self.store(name, value, depth)
            scheme = "http://www.itunes.com/" if name == "itunes_keywords" else None
            for term in value.split(","):
                if term.strip():
                    self.add_tag(term.strip(), scheme, None)
        elif name in _LANGUAGES:
            self.store("language", self.finish("language", element), depth)
        elif name in _RIGHTS:
            self.content_params(attributes, "text/plain", lang)
            self.store("rights", self.finish("rights", element), depth)
        elif name == "link":
            self.read_link(element, depth, attributes)
        elif name in ("guid", "id"):
            self.read_guid(element, depth, attributes)
        elif name == "enclosure":
            link = self.with_href(dict(attributes))
            link["rel"] = "enclosure"
            self.context().setdefault("links", []).append(link)
            self.walk_children(element, depth, lang)
        elif name == "media_content":
            self.context().setdefault("media_content", []).append(dict(attributes))
            self.walk_children(element, depth, lang)
        else:  # media_group: its children are read as if they were the item's
            self.walk_children(element, depth, lang)

    def read_title(
        self,
        name: str,
        element: etree._Element,
        depth: int,
        lang: str | None,
        attributes: dict[str, str],
    ) -> None:
        self.content_params(attributes, "text/plain", lang)
        value = self.finish("title", element)
        saved_depth = self.title_depth
        if not (-1 < self.title_depth <= depth):
            self.store("title", value, depth)
        if value:
            self.title_depth = depth
        if name == "media_title":
            self.title_depth = saved_depth

    def read_description(
        self,
        name: str,
        element: etree._Element,
        depth: int,
        lang: str | None,
        attributes: dict[str, str],
    ) -> None:
        context = self.context()
        if name != "abstract" and "summary" in context and not self.has_content:
            # feedparser: a second summary-like element is the content.
            self.read_content("content", element, depth, lang, attributes)
            return
        if self.entry is None and name in _SUMMARIES:
            raise _Declined("feed-level summary")
        default = "text/html" if name in _DESCRIPTIONS else "text/plain"
        self.content_params(attributes, default, lang)
        key = "summary" if name in _SUMMARIES else "description"
        self.store(key, self.finish(key, element), depth)

    def read_content(
        self,
        name: str,
        element: etree._Element,
        depth: int,
        lang: str | None,
        attributes: dict[str, str],
    ) -> None:
        if self.entry is None:
            raise _Declined("feed-level content")
        self.has_content = True
        params = self.content_params(
            attributes, "text/plain" if name == "content" else "text/html", lang
        )
        if attributes.get("src"):
            params["src"] = attributes["src"]
        value = self.finish("content", element)
        copy_to_summary = params["type"] in ("text/plain", "text/html")
        # feedparser: in RSS, "plain text" that looks like HTML is HTML.
        if (
            params["type"] == "text/plain"
            and not self.version.startswith("atom")
            and _looks_like_html(self.text_of(element).strip())
        ):
            params["type"] = "text/html"
        params["value"] = value
        self.entry.setdefault("content", []).append(params)
        if copy_to_summary:
            self.entry.setdefault("summary", value)

    def read_author(self, element: etree._Element, depth: int, lang: str | None) -> None:
        if self.in_author or self.in_contributor:
            raise _Declined("nested author")
        context = self.context()
        authors: list[dict[str, Any]] = context.setdefault("authors", [])
        authors.append({})
        self.in_author = True
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _feedparser_name(child)
            if name not in _AUTHOR_PARTS and (name in FEEDPARSER_HANDLED or child.attrib):
                raise _Declined("unexpected element in an author")
            self.walk(child, depth + 1, lang)
        text = (element.text or "") + "".join(child.tail or "" for child in element)
        self.in_author = False
        self.store("author", _repair_text(text.strip()), depth)
        self.sync_author(context)

    def read_author_part(self, name: str, element: etree._Element, depth: int) -> None:
        if name in {"name", "email"}:
            value = self.finish(name, element, expecting_text=False)
        else:
            value = self.finish("href", element)
            self.store("href", value, depth)
            name = "href"
        if not self.in_author:
            return
        context = self.context()
        context.setdefault("author_detail", {})[name] = value
        self.sync_author(context)
        context.setdefault("authors", [{}])[-1][name] = value

    @staticmethod
    def sync_author(context: dict[str, Any]) -> None:
        """feedparser's ``_sync_author_detail``: "Name (email)" <-> name and email."""
        detail = context.get("authors", [{}])[-1]
        if detail:
            name, email = detail.get("name"), detail.get("email")
            if name and email:
                context["author"] = f"{name} ({email})"
            elif name or email:
                context["author"] = name or email
            return
        author = context.get("author")
        if not author:
            return
        email = None
        match = _EMAIL_IN_AUTHOR.search(author)
        if match:
            email = match.group(0)
            author = author.replace(email, "").replace("()", "").replace("<>", "")
            author = author.replace("&lt;&gt;", "").strip()
            if author and author[0] == "(":
                author = author[1:]
            if author and author[-1] == ")":
                author = author[:-1]
            author = author.strip()
        if author or email:
            context.setdefault("author_detail", detail)
        if author:
            detail["name"] = author
        if email:
            detail["email"] = email

    def add_tag(self, term: str | None, scheme: str | None, label: str | None) -> None:
        tags: list[dict[str, Any]] = self.context().setdefault("tags", [])
        if not term and not scheme and not label:
            return
        tag = {"term": term, "scheme": scheme, "label": label}
        if tag not in tags:
            tags.append(tag)

    def read_category(self, name: str, element: etree._Element, attributes: dict[str, str]) -> None:
        if name == "itunes_category":
            self.add_tag(attributes.get("text"), "http://www.itunes.com/", None)
            self.walk_children_as_categories(element)
        else:
            if name == "media_category":
                attributes.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
            scheme = attributes.get("scheme", attributes.get("domain"))
            self.add_tag(attributes.get("term"), scheme, attributes.get("label"))
        value = self.finish("category", element) if name != "itunes_category" else ""
        if not value:
            return
        tags = self.context()["tags"]
        if tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        else:
            self.add_tag(value, None, None)

    def walk_children_as_categories(self, element: etree._Element) -> None:
        if len(element) or (element.text or "").strip():
            raise _Declined("nested iTunes categories")

    @staticmethod
    def with_href(attributes: dict[str, str]) -> dict[str, str]:
        href = attributes.get("url", attributes.get("uri", attributes.get("href")))
        if href:
            attributes.pop("url", None)
            attributes.pop("uri", None)
            attributes["href"] = href
        return attributes

    def read_link(self, element: etree._Element, depth: int, attributes: dict[str, str]) -> None:
        attributes.setdefault("rel", "alternate")
        default_type = "application/atom+xml" if attributes["rel"] == "self" else "text/html"
        attributes.setdefault("type", default_type)
        attributes = self.with_href(attributes)
        if "href" in attributes:
            attributes["href"] = _join_url(self.base, attributes["href"])
        context = self.context()
        links: list[dict[str, Any]] = context.setdefault("links", [])
        links.append(attributes)
        if "href" in attributes:
            if len(element) or (element.text or "").strip():
                raise _Declined("link with both href and text")
            if (
                attributes["rel"] == "alternate"
                and _content_type(attributes.get("type", "")) in _HTML_TYPES
            ):
                context["link"] = attributes["href"]
            return
        output = self.finish("link", element)
        if self.entry is not None:
            output = _ENTITY_IN_LINK.sub(r"&\1", output.replace("&amp;", "&"))
            self.entry["link"] = output
            if output:
                links[-1]["href"] = output
        else:
            output = _ENTITY_IN_LINK.sub(r"&\1", output)
            context["link"] = output
            links[-1]["href"] = output

    def read_guid(self, element: etree._Element, depth: int, attributes: dict[str, str]) -> None:
        self.guid_is_link = attributes.get("ispermalink", "true") == "true"
        value = self.finish("id", element)
        self.store("id", value, depth)
        context = self.context()
        context.setdefault("guidislink", self.guid_is_link and "link" not in context)
        if self.guid_is_link:
            context.setdefault("link", value)
