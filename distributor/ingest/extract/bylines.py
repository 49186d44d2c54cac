"""The byline near the top of a body ("BY JANE DOE", "文｜张三", "Por Ana Ruiz", "بقلم سارة")
and the names in it; the forms are each language's ``[byline]`` table
(:mod:`distributor.ingest.forms`)."""

from __future__ import annotations

import re

from lxml import etree

from distributor.domain.text import normalise_space
from distributor.ingest.extract.markup import (
    HEADING_TAGS,
    _holds_image,
    _remove,
    _text,
)
from distributor.ingest.forms import ingest_forms

# A byline that ends as a sentence does is a sentence.
_SENTENCE_END = re.compile(r"[.!?。！？؟]$")


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
    name_split = ingest_forms().name_split
    parts = [part.strip(" .") for part in name_split.split(text) if part.strip(" .")]
    if len(parts) > 1 and any(p[:1].islower() for p in parts):
        return [text]
    return parts


def _take_byline(blocks: list[etree._Element], title: str | None) -> tuple[list[str], list[str]]:
    """Remove a byline (and chrome before it) from the first blocks; return names, sections."""
    names: list[str] = []
    sections: list[str] = []
    forms = ingest_forms()
    for index, block in enumerate(blocks[:6]):
        text = _text(block)
        match = forms.byline.match(text) or forms.byline_labelled.match(text)
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
                earlier_text and len(earlier_text) <= 40 and not _SENTENCE_END.search(earlier_text)
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
    if len(text) > 100 or any(ch.isdigit() for ch in text) or _SENTENCE_END.search(text):
        return False
    return all(len(name.split()) <= 5 for name in split_names(text))
