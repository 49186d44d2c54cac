"""Author bios in a body ("About the author", "作者简介") and giving them to the authors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from distributor.domain.articles import Author
from distributor.domain.text import normalise_space
from distributor.ingest.extract.markup import (
    HEADING_TAGS,
    _lowered,
    _remove,
    _text,
)
from distributor.ingest.extract.notes import _is_note

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


@dataclass(frozen=True, slots=True)
class BioBlock:
    """A bio found in the body; ``name`` is set when the block says whose it is."""

    text: str
    name: str | None = None


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
