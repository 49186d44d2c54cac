"""The shared text rules (distributor.domain.text), each checked where it could differ."""

from __future__ import annotations

import re

import pytest

from distributor.domain.text import normalise_space, stored_html_text
from distributor.ingest.sanitise import html_to_text, sanitise_html
from tests.unit.ingest.test_sanitise_hostile import HOSTILE

EVERY_CHARACTER = [chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000]
SPACES = [ch for ch in EVERY_CHARACTER if ch.isspace()]
_REGEX_SPACE = re.compile(r"\s+")


def _split_and_join(text: str) -> str:
    return " ".join(text.split())


def _regex_collapse(text: str) -> str:
    """The rule rendering wrote for itself before: runs of ``\\s`` to one space, trimmed."""
    return _REGEX_SPACE.sub(" ", text).strip()


# ------------------------------------------------------------------ normalise_space
def test_the_only_printable_space_is_the_ascii_space() -> None:
    """What the shortcut of normalise_space (a printable text is left as it is) rests on."""
    assert [ch for ch in SPACES if ch.isprintable()] == [" "]


@pytest.mark.parametrize("space", SPACES)
def test_normalise_space_collapses_every_space_as_split_and_the_regex_do(space: str) -> None:
    for text in (
        f"a{space}b", f"{space}a", f"a{space}", f"a {space}b", f"a{space}{space}b", space,
        f"“quoted”{space}三环路", f"a{space} b", f" {space} ",
    ):  # fmt: skip
        assert normalise_space(text) == _split_and_join(text) == _regex_collapse(text), repr(text)


@pytest.mark.slow
def test_normalise_space_keeps_other_characters_as_split_does() -> None:
    for ch in EVERY_CHARACTER[:0x3100]:
        for text in (f"a{ch}b", f"{ch}", f"a  {ch}", f"{ch} b "):
            assert normalise_space(text) == _split_and_join(text), repr(text)
            assert normalise_space(text) == _regex_collapse(text), repr(text)


def test_normalise_space_of_nothing_is_empty() -> None:
    assert normalise_space(None) == ""
    assert normalise_space("") == ""
    assert normalise_space(" \u00a0\n\u3000 ") == ""


# ------------------------------------------------------------------ stored_html_text
def test_stored_html_text_is_the_visible_text_whitespace_normalised() -> None:
    html = "<p>One\u00a0 <b>two</b></p>\n<p>&amp; <i>three</i>\t</p>"
    assert stored_html_text(html) == "One two & three"
    assert stored_html_text("  \n ") == ""
    assert type(stored_html_text("<p>x</p>")) is str


@pytest.mark.parametrize("markup", HOSTILE)
def test_stored_html_text_agrees_with_ingest_on_sanitised_markup(markup: str) -> None:
    """On what ingest stores, the fast parse gives the text a browser's parse gives."""
    stored = sanitise_html(markup, "https://example.org/story")
    assert stored_html_text(stored) == html_to_text(stored)
