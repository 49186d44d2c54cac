"""Site chrome in a body ("Loading…", share and newsletter boxes, "Continue reading…")."""

from __future__ import annotations

import re

from lxml import etree

from distributor.ingest.extract.markup import (
    BLOCK_TAGS,
    _first_visible_char,
    _holds_image,
    _remove,
    _text,
)
from distributor.ingest.sanitise import REMOVED_WITH_CONTENT

_CHROME_CLASS = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|newsletter|subscribe|signup|sign-up|"
    r"advert|advertisement|ads?|adsbygoogle|promo|sponsor(?:ed)?|related|jp-relatedposts|"
    r"loading|loader|spinner|skeleton|comments?|print-button|tags-list|breadcrumbs?|"
    r"more-from|read-more|recommended|outbrain|taboola|vdb_player)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CHROME_TEXT = re.compile(
    r"^(?:loading(?:\s*(?:…|\.\.\.|\.))?|加载中\s*(?:…|\.\.\.)*|please wait(?:…|\.\.\.)?|"
    r"share(?: this(?: story| article)?)?(?: on (?:facebook|twitter|x|whatsapp|linkedin|email))?|"
    r"tweet|email|print|copy link|follow us.*|advertisement|"
    r"sign up (?:for|to) (?:our|the) .*newsletter.*|subscribe to (?:our|the) .*newsletter.*|"
    r"continue reading\W*|read (?:the )?full (?:article|story)\W*|read more\W*|"
    r"the post .+ appeared first on .+|previously on \w+\W*)$",
    re.IGNORECASE,
)
# Every _CHROME_TEXT alternative starts with one of these (same case rules): a cheap test that
# spares reading the whole text of most blocks. Keep the two in step.
_CHROME_START = re.compile(r"[lpstecfar加]", re.IGNORECASE)
# The characters _CHROME_START matches (ſ matches "s"; tested over every code point): a set
# lookup for the first character of every element, cheaper than a regex call.
_CHROME_FIRST = frozenset("lpstecfarLPSTECFAR\u017f加")

_CHROME_TEXT_TAGS = BLOCK_TAGS | {"span", "a", "button", "strong", "em"}


def _strip_chrome(root: etree._Element) -> None:
    """Remove chrome below ``root``, in document order; a removed element's descendants are
    not looked at (whatever they are, they are gone)."""
    pending = list(reversed(root))  # a stack, not recursion: bodies can nest deeply
    while pending:
        element = pending.pop()
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in REMOVED_WITH_CONTENT:
            _remove(element)
            continue
        class_value = element.get("class")
        id_value = element.get("id")
        if class_value is not None or id_value is not None:
            classes = f"{class_value or ''} {id_value or ''}".strip()
            if classes and _CHROME_CLASS.search(classes) and tag not in ("img", "figure"):
                _remove(element)
                continue
        children = len(element)
        if tag in _CHROME_TEXT_TAGS and children < 4:
            own = element.text  # _first_visible_char, its usual case inlined
            first = own.lstrip()[:1] if own else ""
            if not first:
                first = _first_visible_char(element)
        else:
            first = ""
        if first in _CHROME_FIRST:  # _CHROME_START.match(first); "" is not in the set
            text = _text(element)
            if text and len(text) < 160 and _CHROME_TEXT.match(text) and not _holds_image(element):
                _remove(element)
                continue
        if children:
            pending.extend(reversed(element))
