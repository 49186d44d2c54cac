"""The public entry point: :func:`extract_story` runs the passes in order over one body;
:func:`extract_body` also sanitises the story (what the feed pipeline does in its next stage)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lxml import etree

from distributor.domain.articles import Image
from distributor.ingest.extract.bios import (
    BioBlock,
    _take_bios,
)
from distributor.ingest.extract.bylines import _take_byline
from distributor.ingest.extract.chinese_credits import _take_chinese_credit_block
from distributor.ingest.extract.chrome import _strip_chrome
from distributor.ingest.extract.images import _collect_images
from distributor.ingest.extract.markup import (
    _TEXT_CACHE,
    _block_children,
    _inner_html,
    _parse_fragment,
    _remove,
    forget_story,
    narrow_to_story,
)
from distributor.ingest.extract.notes import _take_notes
from distributor.ingest.sanitise import sanitise_html


@dataclass(frozen=True, slots=True)
class ExtractedBody:
    """The story body and what was taken out of it. ``body_html`` is the story's markup as
    the passes left it (:func:`extract_story`) or sanitised (:func:`extract_body`)."""

    body_html: str
    images: tuple[Image, ...] = ()
    bios: tuple[BioBlock, ...] = ()
    notes: tuple[str, ...] = ()
    byline_names: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()


def extract_body(
    markup: str | None, base_url: str | None = None, title: str | None = None
) -> ExtractedBody:
    """Split a raw CMS body into story, images, byline, bios, notes (see package doc), the
    story sanitised."""
    story = extract_story(markup, base_url, title)
    return replace(story, body_html=sanitise_html(story.body_html, base_url))


def extract_story(
    markup: str | None, base_url: str | None = None, title: str | None = None
) -> ExtractedBody:
    """Split a raw CMS body into story, images, byline, bios, notes; the story markup is not
    sanitised yet (see package doc)."""
    if not markup or not markup.strip():
        return ExtractedBody(body_html="")
    forget_story()
    try:
        return _extract(markup, base_url, title)
    finally:
        forget_story()


def _extract(markup: str, base_url: str | None, title: str | None) -> ExtractedBody:
    root = _parse_fragment(markup)
    for comment in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _remove(comment)
    _strip_chrome(root)
    _TEXT_CACHE.texts.clear()  # chrome removal changed the text of the containers
    narrow_to_story(root)
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
        body_html=body,
        images=tuple(images),
        bios=tuple(bios + credit_bios),
        notes=tuple(dict.fromkeys(notes)),
        byline_names=tuple(names or credit_names),
        sections=tuple(sections),
    )
