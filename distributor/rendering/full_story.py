"""A whole story for the full-layout email: its paragraphs, subheadings and photos in body order
(pure).

The body's running text is read as :func:`~distributor.rendering.excerpts.iter_body_paragraphs`
reads it (no site chrome, no "About the author" block, no caption or credit lines: those belong
to the photos), and each photo of the story is placed where the body shows it. Photos the body
does not show (a lead photo given as a field) come after the text; the lead photo is not repeated
(the email shows it above the headline).
"""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html
from lxml import etree

from distributor.domain.articles import Article, Image
from distributor.domain.text import normalise_space
from distributor.rendering.excerpts import (
    CREDIT_LINE,
    HEADINGS,
    STOP_HEADINGS,
    inside_skipped_container,
)


@dataclass(frozen=True, slots=True)
class StoryBlock:
    """One block of a story: a paragraph, a subheading, or a photo (``image`` set)."""

    text: str = ""
    heading: bool = False
    image: Image | None = None


def _is_caption_line(text: str, captions: tuple[str, ...]) -> bool:
    # "<caption>. Credit: <who>" under a photo repeats what the photo block already carries.
    return any(text == caption or text.startswith(caption) for caption in captions)


def story_blocks(article: Article) -> tuple[StoryBlock, ...]:
    """Every paragraph, subheading and photo of ``article`` in reading order."""
    lead = article.lead_image
    by_url = {image.url: image for image in article.images}
    placed: set[str] = set()
    blocks: list[StoryBlock] = []
    root = None
    if article.body_html.strip():
        try:
            root = lxml.html.fragment_fromstring(article.body_html, create_parent="div")
        except (etree.ParserError, ValueError):
            root = None
    if root is not None:
        captions = tuple(
            caption
            for caption in (normalise_space(image.caption or "") for image in article.images)
            if caption
        )
        notes = {normalise_space(note) for note in article.notes}
        for element in root.iter("p", "blockquote", "li", "img", *HEADINGS):
            tag = str(element.tag).lower()
            if tag == "img":
                image = by_url.get((element.get("src") or "").strip())
                if image is not None and image.url not in placed:
                    placed.add(image.url)
                    if image is not lead:
                        blocks.append(StoryBlock(image=image))
                continue
            text = normalise_space(element.text_content())
            if tag in HEADINGS:
                if text.lower() in STOP_HEADINGS:
                    break
                if text:
                    blocks.append(StoryBlock(text=text, heading=True))
                continue
            if tag != "p" and element.find(".//p") is not None:
                continue  # its paragraphs are visited on their own
            if inside_skipped_container(element):
                continue
            if (
                not text
                or text.strip("*· ") == ""
                or text in notes
                or CREDIT_LINE.match(text)
                or _is_caption_line(text, captions)
            ):
                continue
            blocks.append(StoryBlock(text=text))
        if not any(block.image is None for block in blocks):
            text = normalise_space(root.text_content())
            if text:
                blocks.insert(0, StoryBlock(text=text))
    if not any(block.image is None for block in blocks) and article.dek:
        blocks.insert(0, StoryBlock(text=normalise_space(article.dek)))
    blocks.extend(
        StoryBlock(image=image)
        for image in article.images
        if image.url not in placed and image is not lead
    )
    return tuple(blocks)


def story_size(article: Article) -> int:
    """A rough size of the whole story (characters of body and captions): the longest stories
    are the first to be shown as excerpts when a full issue is too large for an email."""
    return len(article.body_html) + sum(len(image.caption or "") for image in article.images)
