"""The cheap tests that spare a regex scan give the answer the regex gives."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from distributor.ingest.extract.images import (
    _PIXEL_ODD_LETTERS,
    _PIXEL_URL,
    _PIXEL_WORDS,
    _is_pixel_url,
)
from distributor.ingest.reading import _CONTROL_CHARS, _has_control_characters
from distributor.ingest.sanitise import join_url
from distributor.ingest.strict_reader import _C1_CONTROLS, _has_c1_controls

# Every character from U+0800 up is three or four bytes in UTF-8, none of them ASCII or C2: the
# first 2,048 (and a few others) cover every case of the byte-level checks.
SHORT_CHARACTERS = [chr(code) for code in (*range(0x800), 0xD800, 0xDFFF, 0xFFFF, 0x1F600)]


def test_c1_controls_are_found_in_utf8_exactly_where_the_regex_finds_them() -> None:
    for character in SHORT_CHARACTERS:
        text = f"a{character}b"
        assert _has_c1_controls(text) == bool(_C1_CONTROLS.search(text)), hex(ord(character))


def test_control_characters_are_found_in_the_bytes_exactly_where_the_regex_finds_them() -> None:
    for character in SHORT_CHARACTERS:
        if 0xD800 <= ord(character) < 0xE000:
            continue  # not in UTF-8 documents
        text = f"<rss>{character}</rss>"
        expected = bool(_CONTROL_CHARS.search(text))
        assert _has_control_characters(text.encode("utf-8")) == expected, hex(ord(character))


@pytest.mark.slow
def test_the_pixel_url_words_know_every_letter_the_regex_folds() -> None:
    every_character = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    letters = {ch for word in _PIXEL_WORDS for ch in word if ch.isalpha()}
    for letter in letters:
        for matched in set(re.findall(letter, every_character, re.IGNORECASE)):
            assert matched.lower() == letter or _PIXEL_ODD_LETTERS.match(matched), matched


@pytest.mark.parametrize(
    "url",
    [
        "https://feeds.feedburner.com/~r/site/~4/abc", "http://example.org/PIXEL.gif",
        "https://stats.wordpress.com/b.gif?x=1", "https://x.doubleclick.net/a",
        "https://www.gravatar.com/avatar/abc", "https://example.org/TRACKING/1.gif",
        "https://example.org/tracKing.gif", "https://example.org/analytİcs.gif",
        "https://example.org/photo.jpg", "https://img.example.org/2025/harbour.png",
        "https://example.org/Beacon", "https://example.org/b/ss/x",
    ],
)  # fmt: skip
def test_pixel_url_check_agrees_with_the_regex(url: str) -> None:
    assert _is_pixel_url(url) == bool(_PIXEL_URL.search(url))


def test_join_url_is_urljoin() -> None:
    bases = [
        "https://example.org/a/b", "http://example.org", "https://Example.ORG:8443/x/y/?q=1#f",
        "HTTPS://example.org/a/", "https://user@example.org/a", "https://[::1]/a",
        "https:/no-host", "ftp://example.org/a", "https://example.org/a;p?q", "mailto:x@y",
        "https://[bad/a", "//example.org/a", "https://例子.中国/路径/",
    ]  # fmt: skip
    urls = [
        "/images/1.jpg", "/a/../b.jpg", "/./c.jpg", "/x.jpg?w=1", "/x.jpg#top", "/x;v=1.jpg",
        "/.well-known/x", "/路径/图.jpg", "/a b.jpg", "/a\tb.jpg", "/a%20b.jpg", "/", "/..",
        "/a/.", "images/1.jpg", "../up.jpg", "?q=1", "#frag", "//cdn.example.org/x.jpg",
        "/\\evil", "/a\x7fb", "/a:b", "/@x", "/~user/x",
    ]  # fmt: skip
    for base in bases:
        for url in urls:
            try:
                expected: str | type[Exception] = urljoin(base, url)
            except ValueError:
                expected = ValueError
            try:
                got: str | type[Exception] = join_url(base, url)
            except ValueError:
                got = ValueError
            assert got == expected, (base, url)
