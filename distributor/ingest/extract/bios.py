"""Author bios in a body ("About the author", "作者简介", "關於作者", "عن الكاتبة") and giving
them to the authors; the headings are each language's ``[bio]`` table
(:mod:`distributor.ingest.forms`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from distributor.domain.articles import Author
from distributor.domain.text import normalise_space
from distributor.ingest.extract.markup import (
    _TEXT_CACHE,
    HEADING_TAGS,
    _lowered,
    _remove,
    _text,
)
from distributor.ingest.extract.notes import _is_note
from distributor.ingest.forms import ingest_forms


@dataclass(frozen=True, slots=True)
class BioBlock:
    """A bio found in the body; ``name`` is set when the block says whose it is."""

    text: str
    name: str | None = None


def _take_bios(blocks: list[etree._Element]) -> list[BioBlock]:
    bios: list[BioBlock] = []
    forms = ingest_forms()
    heading_form = forms.bio_heading
    for index, block in enumerate(blocks):
        if block.getparent() is None:
            continue
        text = _text(block)
        if not _may_hold_bio_heading(text, _lowered(text)):
            continue  # no inline bio, no bio heading, no box holding one
        inline = forms.bio_inline.match(text)
        if inline and not heading_form.match(text):
            bios.append(BioBlock(normalise_space(inline.group("bio"))))
            _remove(block)
            continue
        heading = None
        if heading_form.match(text):
            heading = block
        else:
            # A bio box: <div class="author-bio"><h3>About the author</h3><p>…</p></div>
            for child in block:
                if isinstance(child.tag, str) and heading_form.match(_text(child)):
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
    """False when no part of ``text`` can match a bio heading or an inline bio (each holds one
    of the bio hints, see :class:`distributor.ingest.forms.Hints`); ``lowered`` is
    ``text.lower()`` when the caller has it."""
    hints = _TEXT_CACHE.bio_hints or ingest_forms().bio_hints
    return hints.may_hold(text.lower() if lowered is None else lowered)


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
