"""The cheap tests extraction runs before reading a block's whole text never skip a match."""

from __future__ import annotations

import pytest

from distributor.ingest.extract import (
    _BIO_HEADING,
    _CHROME_START,
    _CHROME_TEXT,
    _may_hold_bio_heading,
    extract_body,
)

CHROME_LINES = [
    "Loading…", "加载中...", "Please wait...", "Share this story on Facebook", "Tweet",
    "EMAIL", "Print", "Copy link", "Follow us on Weibo", "Advertisement",
    "Sign up for our weekly newsletter", "Subscribe to the daily newsletter",
    "Continue reading…", "Read the full story »", "Read more", "ſhare",
    "The post X appeared first on Y.", "Previously on Distributor:",
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
