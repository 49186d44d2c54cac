"""The lxml helpers every extraction pass shares: block tags, cached text, removal."""

from __future__ import annotations

import html as html_lib
import threading

from lxml import etree

from distributor.domain.text import normalise_space
from distributor.ingest.forms import Hints, PhraseIndex, ingest_forms, scripts_of
from distributor.ingest.parsing import parse_fragment

BLOCK_TAGS = frozenset(
    {"p", "div", "section", "aside", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "ul", "ol", "figure", "table", "pre", "hr", "dl", "article", "nav"}
)  # fmt: skip
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _TextCache(threading.local):
    texts: dict[etree._Element, str]
    lowered: dict[str, str]
    # The bio and note hints narrowed to the story being read (see narrow_to_story).
    bio_hints: Hints | None
    note_phrases: PhraseIndex | None

    def __init__(self) -> None:
        self.texts = {}
        self.lowered = {}
        self.bio_hints = None
        self.note_phrases = None


_TEXT_CACHE = _TextCache()


def _text(element: etree._Element) -> str:
    """Normalised text of ``element``, cached for one :func:`extract_body` call (the passes
    read the same blocks several times; the tree only loses whole blocks in between)."""
    texts = _TEXT_CACHE.texts
    cached = texts.get(element)
    if cached is None:
        cached = normalise_space(
            etree.tostring(element, method="text", encoding="unicode", with_tail=False)
        )
        texts[element] = cached
    return cached


def narrow_to_story(root: etree._Element) -> None:
    """Leave out the bio and note hints in scripts the story below ``root`` does not use
    (Chinese, Arabic), for the rest of this :func:`extract_body` call: every block's text is
    part of the story's text (the passes only take blocks out of it), so a block cannot hold
    a hint in a script the whole story has no character of."""
    forms = ingest_forms()
    scripts = scripts_of(_string_value(root))
    _TEXT_CACHE.bio_hints = forms.bio_hints_by_scripts[scripts]
    _TEXT_CACHE.note_phrases = forms.note_phrases_by_scripts[scripts]


def forget_story() -> None:
    """Clear what one :func:`extract_body` call cached."""
    _TEXT_CACHE.texts.clear()
    _TEXT_CACHE.lowered.clear()
    _TEXT_CACHE.bio_hints = None
    _TEXT_CACHE.note_phrases = None


def _lowered(text: str) -> str:
    """``text.lower()``, computed once per text in an :func:`extract_body` call (the bio and
    note tests both read it)."""
    lowered = _TEXT_CACHE.lowered
    cached = lowered.get(text)
    if cached is None:
        cached = lowered[text] = text.lower()
    return cached


def _string_value(element: etree._Element) -> str:
    """All the text inside ``element``, as XPath ``string()`` (lxml's ``text_content()``) reads
    it, from libxml2 directly: several times faster than an XPath call per block."""
    text: str = etree.tostring(element, method="text", encoding="unicode", with_tail=False)
    return text


def _first_visible_char(element: etree._Element) -> str:
    """The first character of ``_text(element)`` ("" when it is empty), without normalising
    it (usually without reading more than the element's own text)."""
    own: str | None = element.text
    if own:
        stripped_own = own.lstrip()
        if stripped_own:
            return stripped_own[0]
    # One libxml2 call: cheaper than itertext()'s iterator even when the text is long.
    return _string_value(element).lstrip()[:1]


def _holds_image(element: etree._Element) -> bool:
    """``element.find(".//img") is not None``: an ``<img>`` below ``element``, looked for by
    libxml2 without ElementPath's Python-level matching (a few times cheaper)."""
    return next(element.iterdescendants("img"), None) is not None


def _classes(element: etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".strip()


def _remove(element: etree._Element) -> None:
    """Drop ``element`` but keep its tail text in the tree."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail and tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


# New elements (figures made from captioned images) are plain lxml elements, as the tree is.
_HTML_PARSER = etree.HTMLParser()


def _parse_fragment(markup: str) -> etree._Element:
    """``markup`` under a new ``<div>``, parsed as a browser parses it (see
    :func:`distributor.ingest.parsing.parse_fragment`)."""
    return parse_fragment(markup)


def _block_children(root: etree._Element) -> list[etree._Element]:
    """The top-level blocks of the story, looking through single wrapper divs."""
    current = root
    while True:
        children = [c for c in current if isinstance(c.tag, str)]
        if (
            len(children) == 1
            and children[0].tag in ("div", "article", "section", "main")
            and not ((current.text or "").strip())
        ):
            current = children[0]
            continue
        return children


def _inner_html(root: etree._Element) -> str:
    """The children of ``root`` as HTML, after its text (escaped: it is text, and "&lt;b&gt;"
    in a story must stay the words it shows)."""
    text = root.text
    root.text = None
    # One serialisation of the whole tree, not one per child: the same bytes, much less work.
    markup: str = etree.tostring(root, encoding="unicode", method="html")
    if markup.startswith("<div>") and markup.endswith("</div>"):
        markup = markup[5:-6]
    else:
        markup = "".join(etree.tostring(child, encoding="unicode", method="html") for child in root)
    return html_lib.escape(text, quote=False) + markup if text else markup
