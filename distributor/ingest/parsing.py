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
- **Speed.** Most bodies are plain HTML: their WHATWG tree, serialised by lexbor, is read back
  by libxml2 and kept when it serialises to the same markup (the same tree); the others are
  built by a walk over lexbor's tree, which applies the rules above.
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

# The fast path (see _plain_tree): elements built as they are, no raw text, no foreign or
# inert content; fewer start tags than libxml2's depth limit (so never too deep for it).
_START_TAG = re.compile(r"<([A-Za-z][^\s/>]*)")
_PLAIN_MAX_TAGS = 250
_LIBXML2_HTML = etree.HTMLParser(no_network=True)

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
# The elements built as they are: the HTML ones, but those read in their own way.
_PLAIN_HTML_TAGS = _HTML_TAGS - {"template", "noscript"}
_PLAIN_TAGS = _PLAIN_HTML_TAGS - _RAW_TEXT_RECOVERED - {
    "textarea", "title", "html", "head", "body", "frameset", "frame", "select", "option",
    "optgroup", "form", "button", "nobr", "meta", "link", "base",
}  # fmt: skip

_SVG_TEXT_TAGS = frozenset({"text", "tspan", "textpath"})
_FOREIGN_HIDDEN_TAGS = frozenset(
    {"title", "desc", "metadata", "style", "script", "annotation", "annotation-xml"}
)


def parse_fragment(markup: str) -> etree._Element:
    """``markup`` parsed as a browser parses the ``innerHTML`` of a ``<div>`` (WHATWG, scripting
    off), as a new lxml ``<div>`` holding what a reader sees (see the module doc)."""
    markup = _clean_input(markup)
    if not markup:
        return etree.Element("div")
    plain = _plain_tree(markup)
    if plain is not None:
        return plain
    for attempt in range(_MAX_RECOVERIES + 1):
        root = _build(markup, repair=attempt < _MAX_RECOVERIES)
        if not isinstance(root, str):
            return root
        markup = root
    raise AssertionError("unreachable: the last attempt does not repair")  # pragma: no cover


def _plain_tree(markup: str) -> etree._Element | None:
    """The tree of ``markup`` when its WHATWG tree holds only plain HTML elements and is not
    deep (most bodies), else None: lexbor's serialisation of that tree read by libxml2, which
    builds it a few times faster than a walk in Python. Kept only when it serialises back to
    exactly that markup, i.e. it is the same tree."""
    serialised = LexborHTMLParser(markup, is_fragment=True).html or ""
    names = _START_TAG.findall(serialised)
    if len(names) >= _PLAIN_MAX_TAGS or not _PLAIN_TAGS.issuperset(names):
        return None
    document = etree.fromstring(f"<div>{serialised}</div>", _LIBXML2_HTML)
    body = document.find("body")
    root = body[0] if body is not None and len(body) == 1 else None
    if root is None or root.tag != "div" or (body is not None and (body.text or "").strip()):
        return None
    body.remove(root)
    root.tail = None
    # libxml2 builds some trees its own way (a block inside an inline element closes it):
    # the tree is the WHATWG one only when it serialises back to the same markup.
    if etree.tostring(root, encoding="unicode", method="html") != f"<div>{serialised}</div>":
        return None
    if "<!--" in serialised:
        etree.strip_elements(root, etree.Comment, with_tail=False)
    return root


def _clean_input(markup: str) -> str:
    if "\r" in markup:
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_INCOMPATIBLE.search(markup):
        # A form feed is white space in HTML; the others show nothing.
        markup = _XML_INCOMPATIBLE.sub(lambda found: " " * (found.group() == "\x0c"), markup)
    return markup


# (next lexbor node, the element to end before reading it or None, depth, mode)
_Frame = tuple[LexborNode | None, str | None, int, int]


def _build(markup: str, *, repair: bool) -> etree._Element | str:
    """``markup`` parsed under a ``<div>``; or, when ``repair`` and an unclosed raw-text
    element holds story markup, ``markup`` with that element closed before the story."""
    builder = etree.TreeBuilder()  # lxml's C-level builder keeps text and tails in place
    builder.start("div", {})
    # A <template> never closed hides the rest of the body in a browser: then its content is
    # read as story instead (see the module doc).
    open_template = "</template" not in markup.lower()
    node: LexborNode | None = LexborHTMLParser(markup, is_fragment=True).root if markup else None
    depth, mode = 0, _HTML
    # Where to go on when the children of a node are done. A stack, not recursion: bodies can
    # nest deeply.
    stack: list[_Frame] = []
    # Bound once: this loop runs for every node of every body.
    push, pop, start, end, data = stack.append, stack.pop, builder.start, builder.end, builder.data
    while True:
        if node is None:
            if not stack:
                break
            node, ending, depth, mode = pop()
            if ending is not None:
                end(ending)
            continue
        tag = node.tag
        following = node.next
        if tag == "-text":
            if mode != _SVG and mode != _HIDDEN:  # noqa: PLR1714 - the cheaper test, per text
                data(node.text_content or "")
            node = following
            continue
        if not tag or tag[0] == "-":  # comments, processing instructions
            node = following
            continue
        if mode == _HTML and tag in _PLAIN_HTML_TAGS:  # the usual case, first
            attributes = node.attributes
            try:
                start(tag, attributes)  # a None value or an odd name raises: see _start
            except (TypeError, ValueError):
                _start(builder, tag, attributes)
            if repair and tag in _RAW_TEXT_RECOVERED:
                repaired = _close_unclosed(node, tag, markup)
                if repaired is not None:
                    return repaired
            child = node.child
            if child is None:
                end(tag)
            elif depth < MAX_DEPTH:
                push((following, tag, depth, mode))
                node, depth = child, depth + 1
                continue
            else:  # too deep: the children follow the element at this depth (as Chromium)
                end(tag)
                push((following, None, depth, mode))
                node = child
                continue
            node = following
            continue
        if mode != _HTML:
            # Foreign content: no elements, only the text it shows (see the module doc).
            lowered = tag.lower()
            if mode == _SVG and lowered in _SVG_TEXT_TAGS:
                builder.data(" ")
            stack.append((following, None, depth, mode))
            node, mode = node.child, _foreign_mode(lowered, mode)
            continue
        if tag == "template" and open_template:
            stack.append((following, None, depth, mode))
            node = node.template_fragments()[0].child
            continue
        if tag == "template" or (tag == "noscript" and _is_lazy_image_fallback(node)):
            node = following
            continue
        if tag in ("svg", "math", "noscript"):
            # The element goes, what it shows stays where it was.
            if tag != "noscript":
                builder.data(" ")
            stack.append((following, None, depth, mode))
            node, mode = node.child, (_SVG if tag == "svg" else _MATH if tag == "math" else _HTML)
            continue
        # Any other name: an unknown element (a browser shows its content inline) or one whose
        # content a browser shows as written.
        name = "pre" if tag in _AS_WRITTEN_TAGS else "span"
        _start(builder, name, node.attributes)
        if depth < MAX_DEPTH:
            stack.append((following, name, depth, mode))
            depth += 1
        else:
            builder.end(name)
            stack.append((following, None, depth, mode))
        node = node.child
    builder.end("div")
    root: etree._Element = builder.close()
    return root


def _start(builder: etree.TreeBuilder, tag: str, attributes: dict[str, str | None]) -> None:
    """Start ``tag`` with ``attributes``: a value-less one (``<td nowrap>``) as "", one whose
    name lxml cannot hold (``"b"``) left out."""
    kept = {}
    for name, value in attributes.items():
        try:
            etree.Element("a", {name: ""})  # is the name one lxml can hold?
        except ValueError:
            continue
        kept[name] = value or ""
    builder.start(tag, kept)


def _foreign_mode(tag: str, mode: int) -> int:
    """How the content of an SVG or MathML element ``tag`` (lower case) is read."""
    if mode == _HIDDEN or tag in _FOREIGN_HIDDEN_TAGS:
        return _HIDDEN
    if mode != _MATH and tag == "foreignobject":
        return _HTML
    if mode == _SVG and tag in _SVG_TEXT_TAGS:
        return _SVG_TEXT
    return mode


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
