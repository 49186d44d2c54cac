"""The cheap tests extraction runs before reading a block's whole text never skip a match."""

from __future__ import annotations

import pytest

from distributor.ingest.extract import extract_body
from distributor.ingest.extract.bios import _may_hold_bio_heading
from distributor.ingest.extract.chrome import _CHROME_START, _CHROME_TEXT
from distributor.ingest.extract.notes import _is_note
from distributor.ingest.forms import ingest_forms

FORMS = ingest_forms()
_BIO_HEADING = FORMS.bio_heading
_BIO_INLINE = FORMS.bio_inline


def _plain_note(text: str) -> bool:
    """A note by its patterns alone, without the cheap tests."""
    return bool(FORMS.note_start.match(text) or FORMS.note_phrases.every.search(text))


CHROME_LINES = [
    "Loading…", "加载中...", "Please wait...", "Share this story on Facebook", "Tweet",
    "EMAIL", "Print", "Copy link", "Follow us on Weibo", "Advertisement",
    "Sign up for our weekly newsletter", "Subscribe to the daily newsletter",
    "Continue reading…", "Read the full story »", "Read more", "ſhare",
    "The post X appeared first on Y.", "Previously on Distributor:",
]  # fmt: skip
NOTE_LINES = [
    "Editor's note: this story was updated.", "EDITOR’S NOTE: x", "Correction: a date.",
    "Clarification： y", "编者注：本文", "编者按 z", "更正：日期", "*Names have been changed.",
    "Some NAMES HAVE BEEN CHANGED to protect them.", "Li is not her real name.",
    "Wang is NOT THEIR REAL NAMES", "Pseudonyms have been used.", "张三、李四均为化名。",
    "王五系化名", "赵六已作化名", "受访者姓名已更改", "Not hİs real name",
    "Names have been changed", "Not hıs real name", "Pſeudonyms have been used.",
]  # fmt: skip
BIO_HEADINGS = ["About the author", "ABOUT OUR WRITER:", "Author biography", "关于作者", "作者介绍"]


@pytest.mark.parametrize("line", CHROME_LINES)
def test_every_chrome_line_passes_the_first_character_test(line: str) -> None:
    assert _CHROME_TEXT.match(line)
    assert _CHROME_START.match(line[0])


@pytest.mark.parametrize("heading", BIO_HEADINGS)
def test_every_bio_heading_passes_the_substring_test(heading: str) -> None:
    assert _BIO_HEADING.match(heading)
    assert _may_hold_bio_heading(f"{heading} Jane Doe is a reporter.")


def test_chrome_inside_markup_is_still_found() -> None:
    extracted = extract_body(
        "<p>  <span> </span><em>Continue</em> reading…</p><p>Story text.</p>",
        "https://example.org/a",
    )
    assert "Continue" not in extracted.body_html
    assert "Story text." in extracted.body_html


@pytest.mark.parametrize("line", NOTE_LINES)
def test_every_note_passes_the_cheap_note_test(line: str) -> None:
    assert _plain_note(line)
    assert _is_note(line)
    later = f"Some text before. {line}"  # the phrases are found anywhere, not only at the start
    assert _is_note(later) == _plain_note(later)


def test_a_paragraph_mentioning_a_real_name_is_not_a_note() -> None:
    text = "She asked that her real name not be used."
    assert not _is_note(text)
    assert not _plain_note(text)


INLINE_BIOS = [
    "About the author: Jane Doe writes about ports.", "ABOUT THE WRITERS： A and B.",
    "Author bio: Li Wei is a reporter.", "关于作者：张三", "作者简介：李四，记者。",
    "About the contributor: X",
]  # fmt: skip


@pytest.mark.parametrize("line", INLINE_BIOS)
def test_every_inline_bio_passes_the_substring_test(line: str) -> None:
    assert _BIO_INLINE.match(line)
    assert _may_hold_bio_heading(line)
