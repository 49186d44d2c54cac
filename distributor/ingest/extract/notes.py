"""Notes that travel with the story ("Editor's note: …", "*Names have been changed", "化名",
"Les prénoms ont été modifiés", "تم تغيير الأسماء"); the forms are each language's ``[note]``
table (:mod:`distributor.ingest.forms`)."""

from __future__ import annotations

from lxml import etree

from distributor.ingest.extract.markup import (
    _TEXT_CACHE,
    HEADING_TAGS,
    _holds_image,
    _lowered,
    _remove,
    _text,
)
from distributor.ingest.forms import ingest_forms


def _is_note(text: str) -> bool:
    """Whether ``text`` starts with a note label or holds a note phrase anywhere."""
    forms = ingest_forms()
    if text[:1] in forms.note_first and forms.note_start.match(text):
        return True
    phrases = _TEXT_CACHE.note_phrases or forms.note_phrases
    return phrases.search(text, _lowered(text))


def _take_notes(blocks: list[etree._Element]) -> list[str]:
    notes: list[str] = []
    end_note = ingest_forms().end_note
    last = {id(block) for block in blocks[-4:]}
    for block in blocks:
        if block.getparent() is None or block.tag in HEADING_TAGS:
            continue
        text = _text(block)
        if not text or len(text) > 400:
            continue
        if (_is_note(text) or (id(block) in last and end_note.match(text))) and (
            not _holds_image(block)
        ):
            notes.append(text)
            _remove(block)
    return notes
