"""The strict reader's own date parsing, URL joining and HTML element list give what
feedparser's private functions give, over every date and link in the corpus feeds.

feedparser's private names are used here only as the oracle; the reader does not import them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from feedparser.datetimes import _parse_date as feedparser_parse_date
from feedparser.sanitizer import _HTMLSanitizer
from feedparser.urls import _urljoin as feedparser_urljoin
from lxml import etree

from distributor.ingest.strict_reader import _HTML_ELEMENTS, _join_url, _parse_date
from tests.conftest import SHARED_DIR

CORPUS = SHARED_DIR / "corpus" / "feeds"
DATE_ELEMENTS = {"pubDate", "published", "updated", "date", "lastBuildDate", "modified", "issued"}
EXTRA_DATES = [
    "", "Sat, 01 Nov 2025 08:00:00 +0000", "1 Nov 2025 08:00 GMT",
    "Wes, 18 Aug 2021 09:17:00 +0800", "Mon, 31 Dec 2018 23:59:59 -0830",
    "sat, 01 nov 2025 08:00:00 UT", "2025-11-01T08:00:00Z", "2025-11-01T08:00Z",
    "2020-01-03", "2020-01",
    "2025-11-01T08:00:00.123+05:30", "2020-02-29T23:30:00-01:00", "2021-02-29T10:00:00Z",
    "Sat, 01 Foo 2025 08:00:00 GMT", "2025/11/1 08:00:00", "2016-12-31T23:59:60Z",
]  # fmt: skip
EXTRA_LINKS = [
    "", "/a/b", "../c", "https:///example.org/x", "http:////example.org/y?q=1#f", "//cdn.x/i.png",
    "mailto:a@b.c", "https://[::1/broken", "?page=2", "#frag", "relative path/with space",
]  # fmt: skip


def _corpus_trees() -> list[etree._Element]:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    trees = []
    for path in sorted(Path(CORPUS).iterdir()):
        if path.suffix in (".rss", ".xml", ".atom"):
            root = etree.parse(str(path), parser).getroot()
            if root is not None:
                trees.append(root)
    return trees


def _corpus_dates() -> list[str]:
    dates = []
    for root in _corpus_trees():
        for element in root.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname in DATE_ELEMENTS:
                dates.append((element.text or "").strip())
    return sorted(set(dates))


def _corpus_links() -> list[str]:
    links = []
    for root in _corpus_trees():
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            links.extend(
                value for name, value in element.attrib.items() if name in ("href", "url", "src")
            )
            if etree.QName(element).localname in ("link", "guid", "id") and element.text:
                links.append(element.text.strip())
    return sorted(set(links))


def test_the_corpus_has_dates_and_links_to_compare() -> None:
    assert len(_corpus_dates()) > 100
    assert len(_corpus_links()) > 100


@pytest.mark.parametrize("value", [*_corpus_dates(), *EXTRA_DATES])
def test_a_date_is_parsed_as_feedparser_parses_it(value: str) -> None:
    assert _parse_date(value) == feedparser_parse_date(value)


def test_the_usual_date_forms_are_not_left_to_feedparser() -> None:
    usual = [
        value
        for value in _corpus_dates()
        if re.match(
            r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d "
            r"(?:GMT|[+-]\d{4})|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$",
            value,
        )
    ]
    assert len(usual) > 50
    for value in usual:
        assert _parse_date(value) == feedparser_parse_date(value), value


@pytest.mark.parametrize(
    "base", ["https://example.org/feed/", "http://news.example.com/a/b.html", ""]
)
def test_links_are_joined_as_feedparser_joins_them(base: str) -> None:
    for link in [*_corpus_links(), *EXTRA_LINKS]:
        assert _join_url(base, link) == feedparser_urljoin(base, link), (base, link)


def test_the_html_elements_are_those_of_feedparsers_sanitiser() -> None:
    assert frozenset(_HTMLSanitizer.acceptable_elements) == _HTML_ELEMENTS
