"""Reading an article body: images and credits, bylines, bios, notes, and site chrome.

A CMS body is more than the story. :func:`extract_body` takes the raw body HTML and returns the
story (sanitised) plus what it found around it:

- **images** from ``<figure>``/``<figcaption>``, ``<img data-caption data-credit>``, a caption
  element after an image (``.image-desc``, ``.wp-caption-text``, ``.caption``), a caption box
  holding the image and then its caption text (``<div class="image-desc"><img> Caption |
  Credit</div>``) and the newsroom form "<p><img></p><p>Caption sentence. Credit: Who</p>"
  (an image block may also hold empty decoration such as ``<span> </span>``); each is turned
  into a figure.
  Tracking pixels and hidden images are dropped, not counted.
- the **byline** ("BY JANE DOE", "文｜张三", "作者：张三") near the top, removed from the body.
- **bios**: an "About the author" (or "About the writer", "关于作者", "作者简介") heading and the
  paragraphs after it, or an inline "About the author: …" paragraph, moved out of the body; the
  trailing Chinese credit block "本文作者：X / 作者简介：Y / 链接：Z" likewise.
- **notes** that must travel with the story ("*Names have been changed…", "Editor's note: …",
  "化名"), moved out of the body into ``notes``.
- **chrome**: "Loading…", share/newsletter/related boxes, "Continue reading…", "The post …
  appeared first on …", the section label before the byline, a repeated headline.

The body is parsed as a browser parses it (:mod:`distributor.ingest.parsing`) and the story
sanitised last (:mod:`distributor.ingest.sanitise`). Pure: lxml in memory, no I/O.
"""

from __future__ import annotations

import html as html_lib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from distributor.domain.articles import Author, Image
from distributor.ingest.credits import CaptionParts, normalise_space, split_caption
from distributor.ingest.parsing import parse_fragment
from distributor.ingest.sanitise import REMOVED_WITH_CONTENT, safe_url, sanitise_html

BLOCK_TAGS = frozenset(
    {"p", "div", "section", "aside", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "ul", "ol", "figure", "table", "pre", "hr", "dl", "article", "nav"}
)  # fmt: skip
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

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
_BYLINE = re.compile(r"^(?:by|words by|written by)\s+(?P<names>[^\n]{2,200})$", re.IGNORECASE)
_CHINESE_BYLINE = re.compile(
    r"^(?:文\s*[|｜/]|撰文\s*[|｜:：]|作者\s*[:：])\s*(?P<names>\S.{0,60})$"
)
_NAME_SPLIT = re.compile(r"\s*(?:,|;|、|，|\band\b|&)\s*", re.IGNORECASE)
_BIO_HEADING = re.compile(
    r"^(?:about the (?:authors?|writers?|reporters?|contributors?|journalists?|photographer)|"
    r"about (?:our|this) (?:author|writer|contributor)|author bio(?:graphy)?|"
    r"关于作者|作者简介|作者介绍)\s*[:：.]?$",
    re.IGNORECASE,
)
_BIO_INLINE = re.compile(
    r"^(?:about the (?:authors?|writers?|reporters?|contributors?)|author bio|关于作者|作者简介)"
    r"\s*[:：]\s*(?P<bio>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Every _BIO_HEADING and _BIO_INLINE form starts with one of these, lower-cased: whole words
# and the space after "about" (the texts are whitespace-normalised), as "about" alone is in
# many story paragraphs; "作者" is in each Chinese form. Keep them in step with the regexes.
_BIO_WORDS = ("about th", "about our", "author b", "作者")
# Notes that must travel with the story, wherever they sit in the body.
_NOTE = re.compile(
    r"^(?:editor[’']?s note\s*[:：]|correction\s*[:：]|clarification\s*[:：]|"
    r"编者注|编者按|更正\s*[:：])|"
    r"names? (?:has|have) been changed|not (?:his|her|their) real names?|"
    r"pseudonyms? (?:has|have) been used|均为化名|为化名|系化名|已作化名|姓名已更改",
    re.IGNORECASE,
)
# Every _NOTE form starts the text with one of these characters or holds one of these words,
# in the case-insensitive sense of the regex: every letter it matches in the words lower-cases
# to the letter itself, except the odd letters below (tested). A cheap test that spares running
# _NOTE (unanchored, so slow) on most paragraphs. Keep them in step with _NOTE.
_NOTE_STARTS = "eEcC编更"
# İ and ı match "i", ſ matches "s"; _may_be_note looks for their lower-case forms.
_NOTE_ODD_LETTERS = re.compile("[\u0130\u0131\u017f]")
_NOTE_WORDS = (
    "been changed", "not his real name", "not her real name", "not their real name", "pseudonym",
    "化名", "姓名已更改",
)  # fmt: skip
# Notes recognised only in the last blocks of a body (earlier they are part of the story).
_END_NOTE = re.compile(r"^(?:[*＊]+\s*\S|note\s*[:：]|注\s*[:：])", re.IGNORECASE)
_CN_CREDIT_LINE = re.compile(
    r"^(?P<label>本文作者|作者简介|作者|原文链接|链接|来源|出处)\s*[:：]\s*(?P<value>.*)$"
)
_PIXEL_URL = re.compile(
    r"(?:feedsportal|pheedo|doubleclick|/b/ss/|pixel|beacon|tracking|analytics|"
    r"feeds\.feedburner\.com/~r|stats\.wordpress\.com|gravatar\.com/avatar)",
    re.IGNORECASE,
)
# Every _PIXEL_URL form holds one of these, lower-cased; as for _NOTE_WORDS, the letters the
# case-insensitive regex also matches that do not lower-case to the letter (K for "k", İ and ı
# for "i", ſ for "s") send a URL to the regex whatever it holds (tested).
_PIXEL_WORDS = (
    "feedsportal", "pheedo", "doubleclick", "/b/ss/", "pixel", "beacon", "tracking", "analytics",
    "feeds.feedburner.com/~r", "stats.wordpress.com", "gravatar.com/avatar",
)  # fmt: skip
_PIXEL_ODD_LETTERS = re.compile("[\u0130\u0131\u017f\u212a]")
_CAPTION_CLASS = re.compile(
    r"(?:caption|image-desc|img-desc|imgdesc|photo-desc|wp-caption-text|figcaption|legend)",
    re.IGNORECASE,
)
_CREDIT_CLASS = re.compile(r"(?:credit|byline-photo|photographer|copyright)", re.IGNORECASE)
_INT = re.compile(r"^\s*(\d{1,5})\s*(?:px)?\s*$")


@dataclass(frozen=True, slots=True)
class BioBlock:
    """A bio found in the body; ``name`` is set when the block says whose it is."""

    text: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractedBody:
    """The story body and what was taken out of it."""

    body_html: str
    images: tuple[Image, ...] = ()
    bios: tuple[BioBlock, ...] = ()
    notes: tuple[str, ...] = ()
    byline_names: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- helpers
class _TextCache(threading.local):
    texts: dict[etree._Element, str]
    lowered: dict[str, str]

    def __init__(self) -> None:
        self.texts = {}
        self.lowered = {}


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


def _to_int(value: str | None) -> int | None:
    if not value:
        return None
    match = _INT.match(value)
    return int(match.group(1)) if match else None


def _image_src(img: etree._Element) -> str | None:
    src = (img.get("src") or "").strip()
    # Lazy-loading CMSs put a placeholder (often a data: URL) in src and the photo elsewhere.
    if not src or src.startswith("data:") or "placeholder" in src or "blank.gif" in src:
        for name in ("data-src", "data-lazy-src", "data-original", "data-orig-file"):
            if img.get(name):
                return str(img.get(name)).strip()
    return src or None


def _is_pixel(img: etree._Element, src: str) -> bool:
    width, height = _to_int(img.get("width")), _to_int(img.get("height"))
    if (width is not None and width <= 2) or (height is not None and height <= 2):
        return True
    style = (img.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or _is_pixel_url(src)


def _is_pixel_url(src: str) -> bool:
    """``_PIXEL_URL.search(src)``, skipped when no _PIXEL_WORDS can be in ``src``."""
    if not _PIXEL_ODD_LETTERS.search(src):
        lowered = src.lower()
        # A loop, not any() over a generator: several times cheaper for a few words.
        for word in _PIXEL_WORDS:
            if word in lowered:
                break
        else:
            return False
    return _PIXEL_URL.search(src) is not None


def title_case_if_shouting(name: str) -> str:
    """ "JANE DOE" -> "Jane Doe"; names already in mixed case are kept as written."""
    letters = [ch for ch in name if ch.isalpha() and ch.isascii()]
    # One all-caps word is an acronym ("AFP"), not a shouted name.
    if letters and all(ch.isupper() for ch in letters) and len(name.split()) > 1:
        return " ".join(part.capitalize() for part in name.split())
    return name


def split_names(text: str) -> list[str]:
    """Split a byline ("A, B and C", "甲、乙") into names; keeps "Staff and agencies" whole."""
    text = normalise_space(text).strip(" .。")
    parts = [part.strip(" .") for part in _NAME_SPLIT.split(text) if part.strip(" .")]
    if len(parts) > 1 and any(p[:1].islower() for p in parts):
        return [text]
    return parts


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


# ---------------------------------------------------------------------------- passes
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


def _image_from(
    img: etree._Element,
    base_url: str | None,
    caption_text: str | None,
    credit: str | None = None,
    caption_parts: CaptionParts | None = None,
    *,
    checked_src: str | None = None,
) -> Image | None:
    """The image ``img`` shows; ``caption_parts``, when given, is ``split_caption(caption_text)``
    already computed; ``checked_src``, when given, is the image's src, which
    :func:`_is_pixel` has already passed (so of the pixel tests only the URL's is left)."""
    src = checked_src or _image_src(img)
    if not src:
        return None
    url = safe_url(src, base_url)
    if url is None:
        return None
    if _is_pixel_url(url) if checked_src else _is_pixel(img, url):
        return None
    parts = caption_parts if caption_parts is not None else split_caption(caption_text)
    alt = normalise_space(img.get("alt")) or None
    caption = parts.caption
    if caption is None and credit is None and parts.credit is None and alt:
        caption = None  # alt alone is kept as alt, not promoted to a caption
    return Image(
        url=url,
        caption=caption,
        credit=credit or parts.credit,
        alt=alt if alt and alt != caption else None,
        width=_to_int(img.get("width")),
        height=_to_int(img.get("height")),
    )


def _figure_caption(figure: etree._Element) -> tuple[str | None, str | None]:
    caption_el = figure.find(".//figcaption")
    if caption_el is None:
        for candidate in figure.iter():
            if isinstance(candidate.tag, str) and _CAPTION_CLASS.search(_classes(candidate)):
                caption_el = candidate
                break
    if caption_el is None:
        return None, None
    credit: str | None = None
    for candidate in caption_el.iter():
        if (
            candidate is not caption_el
            and isinstance(candidate.tag, str)
            and _CREDIT_CLASS.search(_classes(candidate))
        ):
            credit = _text(candidate) or None
            text = _text(caption_el)
            if credit and text.endswith(credit):
                return text[: -len(credit)].strip() or None, split_caption(credit).credit or credit
    return _text(caption_el) or None, credit


def _collect_images(root: etree._Element, base_url: str | None) -> list[Image]:
    images: list[Image] = []
    handled: set[etree._Element] = set()
    for figure in list(root.iter("figure")):
        caption, credit = _figure_caption(figure)
        for img in figure.iter("img"):
            handled.add(img)
            image = _image_from(img, base_url, caption, credit)
            if image is not None:
                images.append(image)
    for img in list(root.iter("img")):
        if img in handled:
            continue
        src = _image_src(img)
        if src and _is_pixel(img, src):
            _remove(img)
            continue
        data_caption: str | None = img.get("data-caption")
        data_credit = normalise_space(img.get("data-credit")) or None
        box, inline = _inline_caption(img)
        if box is not None and not data_caption:
            image = _image_from(img, base_url, inline, data_credit, checked_src=src)
            if image is not None:
                images.append(image)
                _box_as_figure(box, img, inline)
            continue
        anchor = _anchor_block(img)
        caption_el, caption_parts = _following_caption(anchor)
        if caption_el is not None and not data_caption:
            data_caption = _text(caption_el)
        else:
            caption_parts = None  # they describe the caption element, not this caption
        image = _image_from(
            img, base_url, data_caption, data_credit, caption_parts, checked_src=src
        )
        if image is None:
            continue
        images.append(image)
        if caption_el is not None:
            _wrap_as_figure(anchor, caption_el)
    return images


def _inline_caption(img: etree._Element) -> tuple[etree._Element | None, str]:
    """A caption box (caption class) that holds this one image first and then the caption
    text (``<div class="image-desc"><img> Caption | Credit</div>``): the box and its text."""
    box = img.getparent()
    if box is None or box.getparent() is None or not _CAPTION_CLASS.search(_classes(box)):
        return None, ""
    if (box.text or "").strip() or img.getprevious() is not None:
        return None, ""
    text = _text(box)
    if not text or any(
        sibling.tag == "img" or _holds_image(sibling)
        for sibling in img.itersiblings(tag=etree.Element)
    ):
        return None, ""
    return box, text


def _box_as_figure(box: etree._Element, img: etree._Element, caption: str) -> None:
    """Replace the caption box of :func:`_inline_caption` by a figure of its image and text."""
    parent = box.getparent()
    if parent is None:
        return
    figure = _HTML_PARSER.makeelement("figure")
    figcaption = _HTML_PARSER.makeelement("figcaption")
    figcaption.text = caption
    img.tail = None
    figure.append(img)
    figure.append(figcaption)
    figure.tail = box.tail
    parent.replace(box, figure)


def _is_decoration(element: etree._Element) -> bool:
    """An element that shows nothing: no text and no image (``<span> </span>``, ``<br>``)."""
    return element.tag != "img" and not _text(element) and not _holds_image(element)


def _anchor_block(img: etree._Element) -> etree._Element:
    """The block that holds only this image (``<p><a><img></a></p>``, also beside empty
    decoration such as ``<span> </span>``), or the image."""
    node = img
    while True:
        parent = node.getparent()
        if parent is None or parent.getparent() is None:
            return node
        if _text(parent):
            return node
        for child in parent.iterchildren(tag=etree.Element):
            if child is not node and not _is_decoration(child):
                return node
        node = parent


def _following_caption(
    anchor: etree._Element,
) -> tuple[etree._Element | None, CaptionParts | None]:
    """A caption element right after the image's :func:`_anchor_block`: a caption class, or a
    credit-ending line (then also its text split, to spare splitting it again)."""
    sibling = anchor.getnext()
    if sibling is None or not isinstance(sibling.tag, str):
        return None, None
    if anchor.tail and anchor.tail.strip():
        return None, None
    text = _text(sibling)
    if not text or _holds_image(sibling):
        return None, None
    if _CAPTION_CLASS.search(_classes(sibling)) or sibling.tag == "figcaption":
        return sibling, None
    if sibling.tag in ("p", "div", "span", "small", "em", "i") and len(text) < 400:
        parts = split_caption(text)
        if parts.credit and parts.caption:
            return sibling, parts
    return None, None


def _wrap_as_figure(anchor: etree._Element, caption_el: etree._Element) -> None:
    """Turn "<p><img></p><p>Caption. Credit: X</p>" into one figure so outputs keep them;
    ``anchor`` is the image's :func:`_anchor_block`."""
    parent = anchor.getparent()
    if parent is None:
        return
    figure = _HTML_PARSER.makeelement("figure")
    figcaption = _HTML_PARSER.makeelement("figcaption")
    figcaption.text = _text(caption_el)
    parent.replace(anchor, figure)
    figure.append(anchor)
    anchor.tail = None
    figure.append(figcaption)
    _remove(caption_el)


def _take_byline(blocks: list[etree._Element], title: str | None) -> tuple[list[str], list[str]]:
    """Remove a byline (and chrome before it) from the first blocks; return names, sections."""
    names: list[str] = []
    sections: list[str] = []
    for index, block in enumerate(blocks[:6]):
        text = _text(block)
        match = _BYLINE.match(text) or _CHINESE_BYLINE.match(text)
        if not match or _holds_image(block) or not _looks_like_names(match.group("names")):
            continue
        names = [title_case_if_shouting(n) for n in split_names(match.group("names"))]
        for earlier in blocks[:index]:
            earlier_text = _text(earlier)
            if _holds_image(earlier) or len(earlier_text) > 200:
                continue
            if title and normalise_space(title).casefold() == earlier_text.casefold():
                _remove(earlier)
            elif (
                earlier_text
                and len(earlier_text) <= 40
                and not re.search(r"[.!?。！？]$", earlier_text)
            ):
                sections.append(earlier_text)
                _remove(earlier)
        _remove(block)
        break
    if not names and blocks and title:
        first = blocks[0]
        if (
            _text(first).casefold() == normalise_space(title).casefold()
            and first.tag in HEADING_TAGS
        ):
            _remove(first)
    return names, sections


def _looks_like_names(text: str) -> bool:
    """ "Jane Doe and Li Wei" yes; "2020, the city had grown." no."""
    text = text.strip()
    if len(text) > 100 or any(ch.isdigit() for ch in text) or re.search(r"[.!?。！？]$", text):
        return False
    return all(len(name.split()) <= 5 for name in split_names(text))


def _take_bios(blocks: list[etree._Element]) -> list[BioBlock]:
    bios: list[BioBlock] = []
    for index, block in enumerate(blocks):
        if block.getparent() is None:
            continue
        text = _text(block)
        if not _may_hold_bio_heading(text, _lowered(text)):
            continue  # no inline bio, no bio heading, no box holding one
        inline = _BIO_INLINE.match(text)
        if inline and not _BIO_HEADING.match(text):
            bios.append(BioBlock(normalise_space(inline.group("bio"))))
            _remove(block)
            continue
        heading = None
        if _BIO_HEADING.match(text):
            heading = block
        else:
            # A bio box: <div class="author-bio"><h3>About the author</h3><p>…</p></div>
            for child in block:
                if isinstance(child.tag, str) and _BIO_HEADING.match(_text(child)):
                    heading = child
                    break
        if heading is None:
            continue
        paragraphs: list[str] = []
        if heading is block:
            for follower in blocks[index + 1 :]:
                if follower.getparent() is None:
                    continue
                if follower.tag in HEADING_TAGS or _is_note(_text(follower)):
                    break
                if _text(follower):
                    paragraphs.append(_text(follower))
                _remove(follower)
        else:
            for child in list(block):
                if child is not heading and isinstance(child.tag, str) and _text(child):
                    paragraphs.append(_text(child))
            tail_text = normalise_space(heading.tail)
            if tail_text:
                paragraphs.insert(0, tail_text)
        _remove(block)
        bios.extend(BioBlock(p) for p in paragraphs)
    return _merge_bio_paragraphs(bios)


def _may_hold_bio_heading(text: str, lowered: str | None = None) -> bool:
    """False when no part of ``text`` can match _BIO_HEADING or _BIO_INLINE (each form starts
    with one of _BIO_WORDS; the letters the regexes match in them all lower-case to themselves,
    tested); ``lowered`` is ``text.lower()`` when the caller has it."""
    if lowered is None:
        lowered = text.lower()
    for word in _BIO_WORDS:  # noqa: SIM110 - runs for every block; any() over a generator is slower
        if word in lowered:
            return True
    return False


def _merge_bio_paragraphs(bios: list[BioBlock]) -> list[BioBlock]:
    """Paragraphs of one bio are joined; a new bio starts only when a paragraph names someone
    already seen in a byline (decided later by :func:`assign_bios`), so keep them apart here."""
    return bios


def _take_chinese_credit_block(
    blocks: list[etree._Element],
) -> tuple[list[str], list[BioBlock], list[str]]:
    """The reprint block "本文作者：X<br>作者简介：Y<br>链接：Z" at the end of a body."""
    for block in reversed(blocks[-4:]):
        # Every label that counts contains 作者, so a block without it cannot be the credit.
        if block.getparent() is None or "作者" not in _text(block):
            continue
        lines = [
            normalise_space(line)
            for line in re.split(r"\n", _block_lines(block))
            if normalise_space(line)
        ]
        found = [(_CN_CREDIT_LINE.match(line), line) for line in lines]
        labels = {m.group("label") for m, _ in found if m}
        if not labels & {"本文作者", "作者", "作者简介"}:
            continue
        names: list[str] = []
        bios: list[BioBlock] = []
        notes: list[str] = []
        for match, line in found:
            if match and match.group("label") in ("本文作者", "作者"):
                names.append(match.group("value").strip())
            elif match and match.group("label") == "作者简介":
                bios.append(BioBlock(match.group("value").strip(), names[0] if names else None))
            else:
                notes.append(line)
        _remove(block)
        return names, bios, notes
    return [], [], []


def _block_lines(block: etree._Element) -> str:
    """Text of a block with <br> as newlines, and "作者简介：" starting its own line."""
    pieces: list[str] = []
    for node in block.iter():
        if node.tag == "br" or (
            isinstance(node.tag, str) and node.tag in BLOCK_TAGS and node is not block
        ):
            pieces.append("\n")
        if node is not block and node.tag == "br" and node.tail:
            pieces.append(node.tail)
            continue
        if isinstance(node.tag, str) and node.text and node.tag != "br":
            pieces.append(node.text)
        if node is not block and node.tail and node.tag != "br":
            pieces.append(node.tail)
    text = "".join(pieces)
    return re.sub(r"\s*(作者简介|链接|原文链接)\s*[:：]", r"\n\1：", text)


def _may_be_note(text: str, lowered: str | None = None) -> bool:
    """False when ``text`` cannot match _NOTE (see _NOTE_STARTS); ``lowered`` is
    ``text.lower()`` when the caller has it."""
    if text[:1] in _NOTE_STARTS:
        return True
    if lowered is None:
        lowered = text.lower()
    # The odd letters, looked for in ``lowered``: ı and ſ lower-case to themselves, İ to "i̇".
    if "ı" in lowered or "ſ" in lowered or "\u0307" in lowered:
        return True
    for word in _NOTE_WORDS:  # noqa: SIM110 - runs for every block; any() over a generator is slower
        if word in lowered:
            return True
    return False


def _is_note(text: str) -> bool:
    return _may_be_note(text, _lowered(text)) and _NOTE.search(text) is not None


def _take_notes(blocks: list[etree._Element]) -> list[str]:
    notes: list[str] = []
    last = {id(block) for block in blocks[-4:]}
    for block in blocks:
        if block.getparent() is None or block.tag in HEADING_TAGS:
            continue
        text = _text(block)
        if not text or len(text) > 400:
            continue
        if (_is_note(text) or (id(block) in last and _END_NOTE.match(text))) and (
            not _holds_image(block)
        ):
            notes.append(text)
            _remove(block)
    return notes


# ---------------------------------------------------------------------------- public
def extract_body(
    markup: str | None, base_url: str | None = None, title: str | None = None
) -> ExtractedBody:
    """Split a raw CMS body into story, images, byline, bios, notes (see module doc)."""
    if not markup or not markup.strip():
        return ExtractedBody(body_html="")
    _TEXT_CACHE.texts.clear()
    _TEXT_CACHE.lowered.clear()
    try:
        return _extract(markup, base_url, title)
    finally:
        _TEXT_CACHE.texts.clear()
        _TEXT_CACHE.lowered.clear()


def _extract(markup: str, base_url: str | None, title: str | None) -> ExtractedBody:
    root = _parse_fragment(markup)
    for comment in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _remove(comment)
    _strip_chrome(root)
    _TEXT_CACHE.texts.clear()  # chrome removal changed the text of the containers
    blocks = _block_children(root)
    names, sections = _take_byline(blocks, title)
    blocks = _block_children(root)
    bios = _take_bios(blocks)
    blocks = _block_children(root)
    credit_names, credit_bios, credit_notes = _take_chinese_credit_block(blocks)
    blocks = _block_children(root)
    notes = _take_notes(blocks) + credit_notes
    images = _collect_images(root, base_url)
    body = _inner_html(root)
    return ExtractedBody(
        body_html=sanitise_html(body, base_url),
        images=tuple(images),
        bios=tuple(bios + credit_bios),
        notes=tuple(dict.fromkeys(notes)),
        byline_names=tuple(names or credit_names),
        sections=tuple(sections),
    )


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


def assign_bios(authors: Sequence[Author], bios: Sequence[BioBlock]) -> tuple[Author, ...]:
    """Attach extracted bios to authors; a bio given as a field always wins.

    A bio naming an author (its ``name``, or its text starting with the author's name) goes
    to that author; otherwise a single bio goes to a single author, and several bio paragraphs
    with one author are joined into one bio.
    """
    if not bios:
        return tuple(authors)
    found: dict[int, list[str]] = {}
    unassigned: list[str] = []
    for bio in bios:
        target = None
        for index, author in enumerate(authors):
            key = author.name.casefold()
            if (bio.name and bio.name.casefold() == key) or bio.text.casefold().startswith(key):
                target = index
                break
        if target is None:
            unassigned.append(bio.text)
        else:
            found.setdefault(target, []).append(bio.text)
    if unassigned:
        if len(authors) == 1:
            found.setdefault(0, []).extend(unassigned)
        elif found:
            # Paragraphs after a named bio continue it.
            last = max(found)
            found[last].extend(unassigned)
    result = []
    for index, author in enumerate(authors):
        if author.bio or index not in found:
            result.append(author)
        else:
            result.append(
                Author(
                    name=author.name,
                    bio="\n\n".join(found[index]),
                    avatar_url=author.avatar_url,
                    profile_url=author.profile_url,
                    email=author.email,
                )
            )
    return tuple(result)
