"""Parsing a story body the way a browser does.

:func:`parse_fragment` runs the WHATWG HTML parsing algorithm (lexbor, through ``selectolax``)
on a body as a browser parses ``div.innerHTML``: unclosed and misnested tags, stray end tags,
tables without closing tags, ``<p>`` breaking out of an unclosed ``<svg>`` or ``<math>`` all
end up where a browser puts them. The result is handed on as an lxml tree, which the
extraction passes read, reduced to what a reader of the story can see:

- **Scripting off.** A browser running scripts parses ``<noscript>`` content as text and
  hides it; a feed reader, an email client or a search engine runs none, so we parse as a
  browser with scripting disabled: ``<noscript>`` content is ordinary markup and is kept in
  place (the element itself goes). A ``<noscript>`` holding only the fallback of the lazily
  loaded image right before it is dropped, as that image is already in the story.
- **Foreign content.** ``<svg>`` and ``<math>`` become the text they display: the text of SVG
  ``<text>`` elements and the HTML inside ``<foreignObject>``, and the MathML text (not its
  annotations). Titles, descriptions, styles and scripts inside them go.
- **Inert content.** ``<template>`` content is not displayed by browsers and is dropped;
  comments and processing instructions too. A ``<template>`` never closed would hide the rest
  of the story: then its content is read as story.
- **Unclosed raw-text elements.** A ``<script>``, ``<style>``, ``<iframe>``, ``<noembed>`` or
  ``<noframes>`` left open runs to the end of the body in a browser, taking the rest of the
  story with it. The story is worth more than the browser's reading: from the first HTML tag
  inside such an element on, its text is parsed again as story markup (the sanitiser still
  removes the element itself).
- **Nesting depth.** Elements nested deeper than :data:`MAX_DEPTH` (Chromium's own limit) are
  placed beside each other at that depth, as Chromium does, so no later pass recurses
  without bound.

Pure: no I/O.
"""

from __future__ import annotations

import re

from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_DEPTH = 512

# What an lxml tree cannot hold (XML 1.0 excludes them); a browser shows none of them.
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_RAW_TEXT_RECOVERED = frozenset({"script", "style", "iframe", "noembed", "noframes"})
# Where the story starts again inside an unclosed raw-text element: the first HTML tag that
# opens story content.
_STORY_TAG = re.compile(
    r"<(?:p|div|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table|section|article|header|"
    r"footer|aside|main|pre|hr|br|img|a|span|strong|em|b|i)(?:[\s/][^<>]*)?>",
    re.IGNORECASE,
)
_MAX_RECOVERIES = 8  # each one parses the body again; bounded all the same

# How the text below a node is read.
_HTML = 0  # HTML content: elements built, text kept
_SVG = 1  # SVG graphics: no elements, text dropped
_SVG_TEXT = 2  # SVG <text> and the like: no elements, text kept
_MATH = 3  # MathML: no elements, text kept
_HIDDEN = 4  # not displayed: nothing kept

# The HTML elements (current and obsolete) the later passes know by name; any other element
# becomes a ``span`` (a browser shows an unknown element's content inline, but the sanitiser
# drops stray MathML names such as ``<mi>`` with their text). ``xmp``, ``listing`` and
# ``plaintext``, whose content a browser shows as written, become ``pre``.
_HTML_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b",
        "base", "basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br",
        "button", "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data",
        "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em",
        "embed", "fieldset", "figcaption", "figure", "font", "footer", "form", "frame",
        "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html",
        "i", "iframe", "image", "img", "input", "ins", "kbd", "keygen", "label", "legend", "li",
        "link", "main", "map", "mark", "marquee", "menu", "menuitem", "meta", "meter", "multicol",
        "nav", "nobr", "noembed", "noframes", "object", "ol", "optgroup", "option", "output", "p",
        "param", "picture", "q", "rb", "rp", "rt", "rtc", "ruby", "s", "samp", "script",
        "search", "section", "select", "slot", "small", "source", "spacer", "span", "strike",
        "strong", "style", "sub", "summary", "sup", "table", "tbody", "td", "textarea", "tfoot",
        "th", "thead", "time", "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr",
    }
)  # fmt: skip
_AS_WRITTEN_TAGS = frozenset({"xmp", "listing", "plaintext"})

_SVG_TEXT_TAGS = frozenset({"text", "tspan", "textpath"})
_FOREIGN_HIDDEN_TAGS = frozenset(
    {"title", "desc", "metadata", "style", "script", "annotation", "annotation-xml"}
)


def parse_fragment(markup: str) -> etree._Element:
    """``markup`` parsed as a browser parses the ``innerHTML`` of a ``<div>`` (WHATWG, scripting
    off), as a new lxml ``<div>`` holding what a reader sees (see the module doc)."""
    markup = _clean_input(markup)
    for attempt in range(_MAX_RECOVERIES + 1):
        root: etree._Element = etree.Element("div")
        repaired = _build_into(root, markup, repair=attempt < _MAX_RECOVERIES)
        if repaired is None:
            return root
        markup = repaired
    raise AssertionError("unreachable: the last attempt does not repair")  # pragma: no cover


def _clean_input(markup: str) -> str:
    if "\r" in markup:
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_INCOMPATIBLE.search(markup):
        # A form feed is white space in HTML; the others show nothing.
        markup = _XML_INCOMPATIBLE.sub(lambda found: " " * (found.group() == "\x0c"), markup)
    return markup


_Frame = tuple[LexborNode | None, etree._Element, int, int]


def _build_into(root: etree._Element, markup: str, *, repair: bool) -> str | None:
    """Parse ``markup`` into ``root``; or, when ``repair`` and an unclosed raw-text element
    holds story markup, stop and return ``markup`` with that element closed before it."""
    if not markup:
        return None
    # Frames: (next lexbor node to read, lxml parent, depth, mode). A stack, not recursion:
    # bodies can nest deeply.
    stack: list[_Frame] = [(LexborHTMLParser(markup, is_fragment=True).root, root, 0, _HTML)]
    # A <template> never closed hides the rest of the body in a browser: then its content is
    # read as story instead (see the module doc).
    open_template = "</template" not in markup.lower()
    while stack:
        node, parent, depth, mode = stack.pop()
        while node is not None:
            following = node.next
            if node.is_text_node:
                if mode not in (_SVG, _HIDDEN):
                    _append_text(parent, node.text_content or "")
                node = following
                continue
            if not node.is_element_node:  # comments, processing instructions
                node = following
                continue
            tag: str = node.tag or ""
            if mode != _HTML:
                # Foreign content: no elements, only the text it shows (see the module doc).
                stack.append((following, parent, depth, mode))
                stack.append((node.child, parent, depth, _foreign_mode(tag.lower(), mode)))
                if mode == _SVG and tag.lower() in _SVG_TEXT_TAGS:
                    _append_text(parent, " ")
                break
            if tag == "template" and open_template:
                stack.append((following, parent, depth, mode))
                stack.append((node.template_fragments()[0].child, parent, depth, _HTML))
                break
            if tag == "template" or (tag == "noscript" and _is_lazy_image_fallback(node)):
                node = following
                continue
            if tag in ("svg", "math", "noscript"):
                # The element goes, what it shows stays where it was.
                if tag != "noscript":
                    _append_text(parent, " ")
                stack.append((following, parent, depth, mode))
                child_mode = _SVG if tag == "svg" else (_MATH if tag == "math" else _HTML)
                stack.append((node.child, parent, depth, child_mode))
                break
            if tag not in _HTML_TAGS:
                tag = "pre" if tag in _AS_WRITTEN_TAGS else "span"
            element = _make_element(parent, tag, node.attributes)
            if repair and tag in _RAW_TEXT_RECOVERED:
                repaired = _close_unclosed(node, tag, markup)
                if repaired is not None:
                    return repaired
            stack.append((following, parent, depth, mode))
            if depth >= MAX_DEPTH:
                # Too deep: the children follow the element at this depth (Chromium's way).
                stack.append((node.child, parent, depth, mode))
            else:
                stack.append((node.child, element, depth + 1, mode))
            break
    return None


def _foreign_mode(tag: str, mode: int) -> int:
    """How the content of an SVG or MathML element ``tag`` (lower case) is read."""
    if mode == _HIDDEN or tag in _FOREIGN_HIDDEN_TAGS:
        return _HIDDEN
    if mode != _MATH and tag == "foreignobject":
        return _HTML
    if mode == _SVG and tag in _SVG_TEXT_TAGS:
        return _SVG_TEXT
    return mode


def _append_text(parent: etree._Element, text: str) -> None:
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _make_element(
    parent: etree._Element, tag: str, attributes: dict[str, str | None]
) -> etree._Element:
    """A child of ``parent``; an attribute lxml cannot hold (``"b"``) is left out."""
    element: etree._Element = etree.SubElement(parent, tag)
    for name, value in attributes.items():
        try:
            element.set(name, value or "")
        except ValueError:
            continue
    return element


def _is_lazy_image_fallback(noscript: LexborNode) -> bool:
    """A ``<noscript>`` that holds only images, right after an ``<img>``: the fallback of a
    lazily loaded image (``<img data-src=…><noscript><img src=…></noscript>``)."""
    previous = noscript.prev
    while (
        previous is not None and previous.is_text_node and not (previous.text_content or "").strip()
    ):
        previous = previous.prev
    if previous is None or previous.tag != "img":
        return False
    if noscript.text(deep=True).strip():
        return False
    return noscript.css_first("img") is not None


def _close_unclosed(node: LexborNode, tag: str, markup: str) -> str | None:
    """When the raw-text element ``node`` ran to the end of ``markup`` (its text ends the
    markup, right after its start tag): ``markup`` with it closed right before the first story
    tag inside it. None when it was closed or holds no story tag."""
    text = node.text(deep=True)
    if not text or not markup.endswith(text):
        return None
    opened = re.search(rf"<{tag}(?:[\s/][^<]*)?>$", markup[: len(markup) - len(text)], re.I)
    if opened is None:  # "<script>x</script>x": the text only looks like the end
        return None
    match = _STORY_TAG.search(text)
    if match is None:
        return None
    start = len(markup) - len(text) + match.start()
    return f"{markup[:start]}</{tag}>{markup[start:]}"
