"""The ingest fast paths give what the plain code they stand in for gives.

Each shortcut is checked on its own (over every code point where that is the question), and
the whole of extraction and feed reading is run twice, once with the shortcuts swapped for the
plain code (``_plain_code``), on every corpus feed, our fixtures, the hostile-HTML cases and
random mixes of story blocks: the articles, bodies and reports must be equal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from distributor.domain.articles import Image
from distributor.ingest import credits, normalise, raw_entries
from distributor.ingest.credits import _first_colon
from distributor.ingest.extract import (
    bios,
    bylines,
    chinese_credits,
    chrome,
    extract_body,
    images,
    markup,
    notes,
)
from distributor.ingest.extract.bios import _may_hold_bio_heading
from distributor.ingest.extract.chrome import _CHROME_FIRST, _CHROME_START
from distributor.ingest.extract.markup import _holds_image, _parse_fragment
from distributor.ingest.forms import ingest_forms
from distributor.ingest.pipeline import parse_feed
from tests.conftest import SHARED_DIR
from tests.unit.ingest.test_sanitise_hostile import HOSTILE

# Exhaustive or process-spawning: left out of `make test-fast`.
pytestmark = pytest.mark.slow

CORPUS = SHARED_DIR / "corpus" / "feeds"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
BASE = "https://fixture.example.org/stories/1"
EVERY_CHARACTER = [chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000]
FORMS = ingest_forms()
_BIO_HEADING = FORMS.bio_heading
_BIO_INLINE = FORMS.bio_inline
_LABELLED = FORMS.credit_labelled
_LABEL_REACH = FORMS.label_reach


# ------------------------------------------------------------------ the plain code
def _plain_normalise_space(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _plain_may_hold_bio_heading(text: str, lowered: str | None = None) -> bool:
    return True  # every block is matched against the bio patterns


def _plain_is_note(text: str) -> bool:
    """Every paragraph searched with every note pattern."""
    return bool(FORMS.note_start.match(text) or FORMS.note_phrases.every.search(text))


def _plain_holds_image(element: etree._Element) -> bool:
    return element.find(".//img") is not None


_IMAGE_FROM = images._image_from


def _plain_image_from(*arguments: Any, checked_src: str | None = None) -> Image | None:
    """Without ``checked_src``: src read again and every pixel test run again."""
    return _IMAGE_FROM(*arguments)


@contextmanager
def _plain_code() -> Iterator[None]:
    """Every shortcut replaced by the code it stands in for (restored on exit)."""
    patch = pytest.MonkeyPatch()
    try:
        # Each extraction pass module holds its own reference to the helpers it imports.
        for module in (
            credits,
            raw_entries,
            normalise,
            bios,
            bylines,
            chinese_credits,
            images,
            markup,
        ):
            patch.setattr(module, "normalise_space", _plain_normalise_space)
        patch.setattr(bios, "_may_hold_bio_heading", _plain_may_hold_bio_heading)
        patch.setattr(bios, "_is_note", _plain_is_note)
        patch.setattr(notes, "_is_note", _plain_is_note)
        for module in (bylines, chrome, images, notes):
            patch.setattr(module, "_holds_image", _plain_holds_image)
        patch.setattr(images, "_image_from", _plain_image_from)
        patch.setattr(credits, "_label_reach", lambda: 10**9)  # every caption search from 0
        yield
    finally:
        patch.undo()


def _both(function: Callable[[], Any]) -> tuple[Any, Any]:
    with _plain_code():
        plain = function()
    return plain, function()


# ------------------------------------------------------------------ chrome
def test_the_chrome_first_characters_are_what_the_regex_matches() -> None:
    matched = {ch for ch in EVERY_CHARACTER if _CHROME_START.match(ch)}
    assert matched == _CHROME_FIRST
    assert "" not in _CHROME_FIRST


# ------------------------------------------------------------------ bio words
BIO_FORMS = [
    *(f"about the {who}" for who in (
        "author", "authors", "writer", "writers", "reporter", "reporters", "contributor",
        "contributors", "journalist", "journalists", "photographer",
    )),
    *(f"about {whose} {who}" for whose in ("our", "this")
      for who in ("author", "writer", "contributor")),
    "author bio", "author biography", "关于作者", "作者简介", "作者介绍",
]  # fmt: skip


@pytest.mark.parametrize("form", BIO_FORMS)
def test_every_bio_form_holds_a_bio_word(form: str) -> None:
    assert _BIO_HEADING.match(form)
    for text in (form, form.upper(), form.title(), f"{form}:", f"{form}: Jane Doe writes."):
        if _BIO_HEADING.match(text) or _BIO_INLINE.match(text):
            assert _may_hold_bio_heading(f"Some story text. {text}"), text


def test_a_paragraph_about_something_else_is_not_a_bio_candidate() -> None:
    assert not _may_hold_bio_heading("She earns about 500 yuan; the mayor of the town agreed.")


# ------------------------------------------------------------------ caption searches
LABELS = [
    "credit", "Credits", "image credit", "Image Credits", "photo credit", "PHOTOGRAPH CREDITS",
    "photograph credits", "Photo", "photos", "Photograph", "picture", "Pictures", "image",
    "Images", "illustration", "Graphic", "graphics", "Source", "photographcredit",
    "图片来源", "图片提供", "图片", "摄影", "摄影师", "图", "来源", "供图",
]  # fmt: skip


def _caption_lines() -> Iterator[str]:
    rng = random.Random(7)
    heads = ["", "A street at dusk.", "Text", "x", "Riders — at dawn", "说明", "Note: one"]
    for head in heads:
        for opening in ("", "(", "[", "（", "【"):
            for label in LABELS:
                for before, after in (("", ""), (" ", ""), ("", " "), (" ", " ")):
                    for colon in (":", "："):
                        space = rng.choice(["", " "])
                        joiner = rng.choice([" ", "", ".", ",", "|"])
                        yield credits.normalise_space(
                            f"{head}{joiner}{opening}{space}{label}{before}{colon}{after}"
                            f"Jane Doe{rng.choice(['', ')', '.', '】', ': more'])}"
                        )


def test_the_label_searches_start_late_enough_to_find_the_first_match() -> None:
    checked = 0
    for line in _caption_lines():
        start = max(_first_colon(line) - _LABEL_REACH, 0)
        for pattern in (_LABELLED,):
            full = pattern.search(line)
            late = pattern.search(line, start)
            assert (full and full.span()) == (late and late.span()), (line, pattern.pattern)
            checked += bool(full)
    assert checked > 1000  # the lines do hold credits


def test_the_longest_label_is_the_label_reach() -> None:
    from distributor.ingest.forms import read_tables

    longest = max((f for t in read_tables() for f in t.get("credit", "labels")), key=len)
    line = f"Text. ( {longest} : Jane Doe"
    match = _LABELLED.search(line)
    assert match is not None
    assert _first_colon(line) - match.start() == _LABEL_REACH


# ------------------------------------------------------------------ the whole pipeline
def _corpus_and_fixture_feeds() -> list[Path]:
    paths = sorted(CORPUS.iterdir()) + sorted(FIXTURES.iterdir())
    return [path for path in paths if path.suffix in (".xml", ".rss", ".atom")]


@pytest.mark.parametrize("path", _corpus_and_fixture_feeds(), ids=lambda path: path.name)
def test_feeds_read_the_same_with_and_without_the_shortcuts(path: Path) -> None:
    data = path.read_bytes()

    def read() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        articles, report = parse_feed(data, path.name, BASE)
        return [article.as_dict() for article in articles], report.as_dict()

    plain, fast = _both(read)
    assert fast == plain


@pytest.mark.parametrize("markup", HOSTILE)
def test_hostile_bodies_extract_the_same(markup: str) -> None:
    plain, fast = _both(lambda: extract_body(markup, BASE, "Title"))
    assert fast == plain


BLOCKS = [
    "<p>Loading…</p>", "<div class='share'>Share this</div>", "<p>Stories</p>",
    "<p>BY JANE DOE AND LI WEI</p>", "<p>文｜张三</p>", "<p>作者：李四</p>",
    "<p>“We had no choice,” said Chen Lin*, who earns about 500 yuan a week.</p>",
    "<p>She asked that her real name not be used.</p>", "<p>Plain\u00a0text  with\tspaces\n</p>",
    "<p>\u3000Ideographic\u2003spaces\u200a here </p>", "<p>\x0bcontrol\x1fspaces\x0c</p>",
    "<p><img src='/a.jpg'></p>", "<p>Workers wait in the rain. Credit: Collective 2</p>",
    "<p><img src='/b.jpg' data-caption='A caption' data-credit=' Jane  Doe '></p>",
    "<figure><img src='/c.jpg'><figcaption>Dusk. Photo: AP</figcaption></figure>",
    "<p>A street. ( Photograph credits : Jane Doe</p>", "<p>河边。图片来源：视觉中国</p>",
    "<p>*Names have been changed to protect sources</p>", "<p>Editor’s note: updated.</p>",
    "<p>Li is not her real name.</p>", "<p>张三为化名。</p>", "<h3>About the author</h3>",
    "<h3>ABOUT OUR WRITER:</h3>", "<p>Author biography</p>", "<h2>关于作者</h2>",
    "<p>About the author: Jane Doe writes about ports.</p>", "<p>作者简介：李四，记者。</p>",
    "<div class='author-bio'><h4>About the author</h4><p>Jane Doe is a reporter.</p></div>",
    "<p>Jane Doe is a reporter in Taipei.</p>",
    "<p>本文作者：王五<br>作者简介：记者<br>链接：x</p>",
    "<p>About  the\u00a0author</p>", "<p>about them all</p>", "<p>AUTHOR B</p>",
    "<p>Note: a last word</p>", "<p>The post X appeared first on Y.</p>", "<p> </p>",
    "<p>İstanbul, ſhare, ı</p>", "<h2>Title</h2>",
    # Every shipped language's forms (and their scripts, which decide which hints are tried).
    "<p>文／林怡君</p>", "<h3>關於作者</h3>", "<p>作者簡介：林怡君，自由撰稿人。</p>",
    "<p>應受訪者要求，文中人名皆為化名。</p>", "<p>清晨的漁港。攝影：王小明</p>",
    "<p>Por Lucía Fernández y Marcos Ibáñez</p>", "<h3>Sobre la autora</h3>",
    "<p>*Los nombres han sido cambiados.</p>", "<p>La lonja. Foto de EFE</p>",
    "<p>Par Camille Durand</p>", "<h3>À propos de l’autrice</h3>",
    "<p>Les prénoms ont été modifiés.</p>", "<p>Le port. Crédit photo\u00a0: Léa Martin</p>",
    "<p>بقلم سارة المنصوري</p>", "<h3>عن الكاتبة</h3>", "<p>تم تغيير الأسماء لحماية المصادر.</p>",
    "<p>قوارب الصيد. تصوير: محمد عادل</p>", "<p>نوشته‌ی مریم احمدی</p>",
    "<h3>درباره‌ی نویسنده</h3>", "<p>نام‌ها تغییر کرده‌اند.</p>", "<p>اسامي تغيير كرده اند.</p>",
    "<p>بندر در سحر. عکس: علی رضایی</p>", "<p>سارة صحفية. مريم روزنامه‌نگار است.</p>",
]  # fmt: skip


def _random_bodies(count: int) -> Iterator[str]:
    rng = random.Random(2025)
    for _ in range(count):
        blocks = rng.choices(BLOCKS, k=rng.randint(1, 14))
        body = "".join(blocks)
        yield f"<div>{body}</div>" if rng.random() < 0.2 else body


# The second base makes every relative image URL a tracking-pixel URL once resolved.
@pytest.mark.parametrize("base", [BASE, "https://tracking.example.org/stories/1", None])
def test_random_block_mixes_extract_the_same(base: str | None) -> None:
    bodies = list(_random_bodies(600))
    plain, fast = _both(lambda: [extract_body(body, base, "Title") for body in bodies])
    assert fast == plain
    assert sum(bool(extracted.bios) for extracted in fast) > 100  # the mixes do hold bios


def test_holds_image_is_the_element_path_search() -> None:
    bodies = [*_random_bodies(200), *HOSTILE, "<p><img></p>", "<img><p>x</p>", "<IMG SRC=x>"]
    bodies += ["<div><p><span><img src=a></span></p><p>b</p></div>", "<p><!-- <img> -->x</p>"]
    seen = 0
    for body in bodies:
        for element in _parse_fragment(body).iter():
            assert _holds_image(element) == _plain_holds_image(element), body
            seen += _holds_image(element)
    assert seen > 100
