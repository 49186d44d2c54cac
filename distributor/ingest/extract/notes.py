"""Notes that travel with the story ("Editor's note: …", "*Names have been changed", "化名")."""

from __future__ import annotations

import re

from lxml import etree

from distributor.ingest.extract.markup import (
    HEADING_TAGS,
    _holds_image,
    _lowered,
    _remove,
    _text,
)

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
