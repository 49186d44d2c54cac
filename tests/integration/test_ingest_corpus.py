"""Every real-world feed in ../shared/corpus/feeds is taken in without a crash, with the counts
the files really contain.

How the expected numbers were counted (independently of the ingest code):
- items: ``grep -o '<item[ >]\\|<entry[ >]'`` per file, and the same with a bare lxml
  ``XMLParser(recover=True)`` walk counting ``item``/``entry`` elements (both agree).
- authors: distinct persons among the ``dc:creator``/``author``/``atom:author`` texts read with
  that lxml walk, split by hand where one field names several people
  ("Jon Phillips, Alaina Yee"), with places, job titles, "(earlier)" notes and
  "with agencies" removed ("David Smith in Washington" is David Smith), and a bare job title
  ("Staff Writer") not counted as a person. Atom feeds with only a feed-level author count 1
  (it is inherited). jiangxinlingdu names 8 writers only in its bodies ("本文作者：…" / "作者：…").
- images with credits: ``media:credit`` elements read with lxml: guardian-us 110 and
  guardian-world 108, two renditions (140 px / 460 px) of one photo per item, so 55 and 54
  photos; huffpost has 10 ``media:credit`` of which 8 are non-empty (the lead photo of item 1
  also appears in its body with ``data-credit``, same photo). geekpark: 34, read from the
  bodies with a bare lxml walk and by eye: 26 captions end in a "| X" / "｜X" credit (inside
  the image's ``.image-desc`` box, or in the block right after the image), of which one sits
  after a block of two images and so belongs to neither (25); and 9 image captions end
  "（来源：X）" (the other "来源" parentheses there close ordinary paragraphs).
  la-grange: two figcaptions end "…, Aly Song, Reuters ©.". dapenti: one image followed by
  "（来源：上海市卫健委网站）".
- bios: only jiangxinlingdu has one ("作者简介：美团外卖活动业务负责人").
- lecerclepsy: one of its 10 items has no ``<title>`` text, so 9 are taken in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distributor.ingest.pipeline import parse_feed
from tests.conftest import SHARED_DIR, require_service

# Exhaustive or process-spawning: left out of `make test-fast`.
pytestmark = pytest.mark.slow

CORPUS = SHARED_DIR / "corpus" / "feeds"

# file: (items in the file, articles taken in, distinct authors, images with a credit, bios)
EXPECTED: dict[str, tuple[int, int, int, int, int]] = {
    "aktuality-sk-2021.rss": (30, 30, 0, 0, 0),
    "dapenti-2021-zh.xml": (30, 30, 1, 1, 0),
    "geekpark-2020-zh.xml": (30, 30, 0, 34, 0),
    "golem-de-2018-latin1.xml": (40, 40, 0, 0, 0),
    "guardian-us-2018.rss": (55, 55, 46, 55, 0),
    "guardian-world-2022-broken.rss": (54, 54, 43, 54, 0),
    "heise-developer-2016.atom": (15, 15, 1, 0, 0),
    "huffpost-canada-2017.xml": (2, 2, 2, 8, 0),
    "jiangxinlingdu-2020-zh-broken.xml": (10, 10, 8, 0, 1),
    "kc0011-2020-zh-gb2312.rss": (20, 20, 17, 0, 0),
    "la-grange-2013.atom": (34, 34, 1, 2, 0),
    "lecerclepsy-2018-latin1-nodecl.xml": (10, 9, 0, 0, 0),
    "livemint-2019.xml": (25, 25, 6, 0, 0),
    "macworld-2017.rss": (30, 30, 17, 0, 0),
    "manrepeller-2020.xml": (10, 10, 7, 0, 0),
    "oschina-news-2020-zh-broken.xml": (50, 50, 0, 0, 0),
    "reuters-mostread-2020-truncated.xml": (0, 0, 0, 0, 0),
    "rue89-2013.xml": (25, 25, 20, 0, 0),
    "techcrunch-2011.xml": (20, 20, 8, 0, 0),
    "washingtonpost-wellness-2012.xml": (29, 29, 4, 0, 0),
}


def _corpus_file(name: str) -> Path:
    require_service(CORPUS.is_dir(), f"the shared feed corpus at {CORPUS}")
    return CORPUS / name


def test_every_corpus_file_is_covered() -> None:
    require_service(CORPUS.is_dir(), f"the shared feed corpus at {CORPUS}")
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix in (".xml", ".rss", ".atom")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_counts(name: str) -> None:
    articles, report = parse_feed(_corpus_file(name).read_bytes(), name)
    items, taken, authors, credited, bios = EXPECTED[name]
    assert report.items_seen == items
    assert len(articles) == taken
    assert len(report.skipped) == items - taken
    assert len({a.name for article in articles for a in article.authors}) == authors
    credited_images = sum(1 for article in articles for image in article.images if image.credit)
    assert credited_images == credited
    assert sum(1 for article in articles for a in article.authors if a.bio) == bios


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_articles_are_clean(name: str) -> None:
    articles, _ = parse_feed(_corpus_file(name).read_bytes(), name)
    for article in articles:
        assert article.canonical_url.startswith(("http://", "https://"))
        assert article.title
        assert "<" not in article.title
        lowered = article.body_html.lower()
        assert "<script" not in lowered
        assert "<iframe" not in lowered
        assert "javascript:" not in lowered
        assert " on" + "error=" not in lowered
        for image in article.images:
            assert image.url.startswith(("http://", "https://"))


def test_broken_documents_are_reported_not_fatal() -> None:
    _, report = parse_feed(_corpus_file("guardian-world-2022-broken.rss").read_bytes(), "g")
    assert any("ill-formed" in p.reason and "line" in p.reason for p in report.problems)
    _, truncated = parse_feed(_corpus_file("reuters-mostread-2020-truncated.xml").read_bytes(), "r")
    assert any("no items" in p.reason for p in truncated.problems)


def test_known_corpus_credits_and_bio_are_exact() -> None:
    articles, _ = parse_feed(_corpus_file("la-grange-2013.atom").read_bytes(), "la-grange")
    credited = [i for a in articles for i in a.images if i.credit]
    assert {i.credit for i in credited} == {"Aly Song, Reuters"}
    articles, _ = parse_feed(_corpus_file("jiangxinlingdu-2020-zh-broken.xml").read_bytes(), "j")
    bios = [(a.name, a.bio) for article in articles for a in article.authors if a.bio]
    assert bios == [("景小财", "美团外卖活动业务负责人")]
    articles, _ = parse_feed(_corpus_file("guardian-us-2018.rss").read_bytes(), "guardian")
    names = {a.name for article in articles for a in article.authors}
    assert "David Smith" in names
    assert "David Smith in Washington" not in names
    assert all(
        i.credit and not i.credit.startswith("Photograph") for a in articles for i in a.images
    )
