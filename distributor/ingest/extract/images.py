"""Images in a body and their captions and credits, each turned into a figure; pixels dropped."""

from __future__ import annotations

import re

from lxml import etree

from distributor.domain.articles import Image
from distributor.domain.text import normalise_space
from distributor.ingest.credits import CaptionParts, split_caption
from distributor.ingest.extract.markup import (
    _HTML_PARSER,
    _classes,
    _holds_image,
    _remove,
    _text,
)
from distributor.ingest.sanitise import safe_url

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
