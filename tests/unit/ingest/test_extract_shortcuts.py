"""The cheap tests extraction runs before reading a block's whole text never skip a match."""

from __future__ import annotations

import re

import pytest

from distributor.ingest.extract import extract_body
from distributor.ingest.extract.bios import _BIO_HEADING, _BIO_INLINE, _may_hold_bio_heading
from distributor.ingest.extract.chrome import _CHROME_START, _CHROME_TEXT
from distributor.ingest.extract.notes import _NOTE, _NOTE_ODD_LETTERS, _NOTE_WORDS, _may_be_note

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
    assert _NOTE.search(line)
    assert _may_be_note(line)
    later = f"Some text before. {line}"  # the forms _NOTE finds anywhere, not only at the start
    if _NOTE.search(later):
        assert _may_be_note(later)


@pytest.mark.slow
def test_the_cheap_note_test_knows_every_letter_the_regex_folds() -> None:
    every_character = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    letters = {ch for word in _NOTE_WORDS for ch in word if ch.isascii() and ch.isalpha()}
    for letter in letters:
        for matched in set(re.findall(letter, every_character, re.IGNORECASE)):
            assert matched.lower() == letter or _NOTE_ODD_LETTERS.match(matched), (letter, matched)


def test_a_paragraph_mentioning_a_real_name_is_not_a_note() -> None:
    text = "She asked that her real name not be used."
    assert not _may_be_note(text)
    assert not _NOTE.search(text)


INLINE_BIOS = [
    "About the author: Jane Doe writes about ports.", "ABOUT THE WRITERS： A and B.",
    "Author bio: Li Wei is a reporter.", "关于作者：张三", "作者简介：李四，记者。",
    "About the contributor: X",
]  # fmt: skip


@pytest.mark.parametrize("line", INLINE_BIOS)
def test_every_inline_bio_passes_the_substring_test(line: str) -> None:
    assert _BIO_INLINE.match(line)
    assert _may_hold_bio_heading(line)


@pytest.mark.slow
def test_the_bio_substring_test_knows_every_letter_the_regexes_fold() -> None:
    every_character = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    for letter in set("aboutauthor"):
        for matched in set(re.findall(letter, every_character, re.IGNORECASE)):
            assert matched.lower() == letter, (letter, matched)
