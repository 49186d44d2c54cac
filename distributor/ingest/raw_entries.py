"""Stage 2 of the feed pipeline: :class:`~distributor.ingest.reading.FeedDocument` ->
:class:`RawEntry` per item.

Each entry keeps the reader's feedparser-style mapping and, beside it, what its XML element
says as written (:class:`RawItem`), which feedparser flattens or mixes up: Media RSS
(``media:content`` with its own ``media:description``/``media:credit``/``media:copyright``, in
``media:group`` or not), ``dc:creator`` one by one, ``*:origLink`` canonical URLs, the RSS
``description`` as written, image enclosures, author bio extension elements, rights, territory
restrictions and the item's own language. Nothing is resolved or judged here: URLs stay as
written and bylines unsplit; :mod:`distributor.ingest.normalise` does that.

Pure: reads an lxml tree in memory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from distributor.domain.text import normalise_space
from distributor.ingest.extract import BioBlock
from distributor.ingest.reading import FeedDocument
from distributor.ingest.sanitise import html_to_text, plain_text

MEDIA_NAMESPACES = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_EMAIL_NAME = re.compile(r"^\s*(?P<email>[^\s()<>@]+@[^\s()<>]+)\s*\((?P<name>[^)]+)\)\s*$")


@dataclass(frozen=True, slots=True)
class RawMedia:
    """One ``media:content`` as written, with the caption/credit/copyright/title that apply
    to it (its own over its group's over its item's)."""

    url: str | None
    medium: str
    mime_type: str
    width: str | None
    height: str | None
    is_default: bool
    fields: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class RawEnclosure:
    """One image ``enclosure`` as written."""

    url: str | None
    mime_type: str


@dataclass(frozen=True, slots=True)
class RawCreator:
    """A byline field as written; ``is_list`` when it may name several people ("A and B")."""

    text: str
    is_list: bool


@dataclass(slots=True)
class RawItem:
    """What the XML element of one item/entry says, as written."""

    keys: tuple[str, ...]
    media: list[RawMedia] = field(default_factory=list)
    enclosures: list[RawEnclosure] = field(default_factory=list)
    creators: list[RawCreator] = field(default_factory=list)
    author_bios: list[BioBlock] = field(default_factory=list)
    description_html: str | None = None
    orig_link: str | None = None
    rights: str | None = None
    territories_allow: tuple[str, ...] = ()
    territories_deny: tuple[str, ...] = ()
    language: str | None = None  # declared on the item itself, never inherited


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One item: the reader's mapping (``entry``), its XML reading (``item``, None when it
    could not be matched) and the label that names it in the report."""

    index: int
    label: str
    entry: Any
    item: RawItem | None


def raw_entries(document: FeedDocument) -> list[RawEntry]:
    """One :class:`RawEntry` per entry of ``document``, in order."""
    items = [read_item(element) for element in document.elements]
    matched = _match(document.entries, items)
    return [
        RawEntry(index, _item_label(index, entry), entry, matched[index])
        for index, entry in enumerate(document.entries)
    ]


def _item_label(index: int, entry: Any) -> str:
    ident = entry.get("id") or entry.get("link") or plain_text(entry.get("title"))[:60]
    return f"item {index + 1}" + (f" ({ident})" if ident else "")


def _entry_keys(entry: Any) -> list[str]:
    keys = [entry.get("id"), entry.get("link")]
    keys.extend(link.get("href") for link in entry.get("links", []) or [])
    return [k for k in keys if k]


def _match(entries: Sequence[Any], items: Sequence[RawItem]) -> list[RawItem | None]:
    """The XML reading of each entry: by GUID or link, else by position when the counts
    agree."""
    by_key: dict[str, RawItem] = {}
    for item in items:
        for key in item.keys:
            by_key.setdefault(key.strip(), item)
    matched: list[RawItem | None] = []
    for index, entry in enumerate(entries):
        found = next((by_key[k.strip()] for k in _entry_keys(entry) if k.strip() in by_key), None)
        if found is None and len(entries) == len(items):
            found = items[index]
        matched.append(found)
    return matched


# ------------------------------------------------------------------- one element
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


def _raw_media(content: etree._Element, inherited: dict[str, str | None]) -> RawMedia:
    own = _media_fields(content)
    return RawMedia(
        url=content.get("url"),
        medium=(content.get("medium") or "").lower(),
        mime_type=(content.get("type") or "").lower(),
        width=content.get("width"),
        height=content.get("height"),
        is_default=content.get("isDefault") == "true",
        fields={**inherited, **{k: v for k, v in own.items() if v}},
    )


def read_item(item: etree._Element) -> RawItem:
    """What one ``item``/``entry`` element says (see module doc)."""
    keys: list[str] = []
    raw = RawItem(keys=(), language=item.get(XML_LANG) or None)
    item_media = _media_fields(item)
    contents: list[tuple[etree._Element, dict[str, str | None]]] = []
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
                raw.creators.append(RawCreator(text, is_list=True))
        elif name == "author" and namespace in ("", ATOM_NAMESPACE):
            _read_author_element(child, raw)
        elif (name == "description" and namespace == "") or (
            name == "summary" and namespace == ATOM_NAMESPACE and child.get("type") != "xhtml"
        ):
            raw.description_html = "".join(child.itertext()).strip() or None
        elif name == "enclosure" and (child.get("type") or "").startswith("image/"):
            raw.enclosures.append(RawEnclosure(child.get("url"), child.get("type") or ""))
        elif name in ("authorBio", "authorbio", "author_bio"):
            text = _text_of(child)
            if text:
                raw.author_bios.append(BioBlock(text, child.get("name")))
        elif name in ("rights", "copyright") and namespace in ("", ATOM_NAMESPACE, DC_NAMESPACE):
            raw.rights = raw.rights or _text_of(child) or None
    raw.media = [_raw_media(content, inherited) for content, inherited in contents]
    raw.keys = tuple(k for k in keys if k)
    return raw


def _read_author_element(element: etree._Element, raw: RawItem) -> None:
    name_el = next((c for c in element if _local(c) == "name"), None)
    if name_el is not None:
        name = _text_of(name_el)
        if name:
            raw.creators.append(RawCreator(name, is_list=False))
        for child in element:
            if _local(child) in ("bio", "authorBio", "authorbio") and _text_of(child):
                raw.author_bios.append(BioBlock(_text_of(child), name or None))
        return
    text = _text_of(element)
    match = _EMAIL_NAME.match(text)
    if match:
        raw.creators.append(RawCreator(match.group("name").strip(), is_list=False))
    elif text and "@" not in text:
        raw.creators.append(RawCreator(text, is_list=True))
