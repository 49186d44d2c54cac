"""Arabic and Persian issues in a real headless Chromium at phone (375 px) and desktop (800 px)
widths: the text runs right to left and lines start on the right (computed styles), nothing
scrolls sideways, and screenshots go to tests/artifacts/ for a person to look at.

As in test_email_layout.py, images are answered with a generated PNG and every other request
is refused, so the page can fetch nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distributor.adapters.browser_screenshots import CHROMIUM_ARGS, DESKTOP_WIDTH, MOBILE_WIDTH
from distributor.rendering.email import Recipient, personalise, render_issue
from tests.factories.email_stories import branding
from tests.factories.images import solid_png
from tests.unit.rendering.email_lang_stories import issue_in, story

pytestmark = pytest.mark.browser

RECIPIENT = Recipient(
    email="reader@example.org",
    first_name="Ada",
    unsubscribe_url="https://news.example.org/unsubscribe/tok",
    preferences_url="https://news.example.org/preferences/tok",
    web_url="https://news.example.org/archive/web",
)
PHOTO = solid_png(1600, 1000)

# What a reader reads, found by what it is: paragraphs of the stories, the headline, the
# subject, the byline, the photo caption and credit, the bio, the note and the footer lines.
_MEASURE = """
() => {
  const style = (element) => {
    const computed = getComputedStyle(element);
    return {direction: computed.direction, align: computed.textAlign,
            lang: element.closest('[lang]').getAttribute('lang'),
            text: (element.textContent || '').trim().slice(0, 40)};
  };
  const pick = (selector) => Array.from(document.querySelectorAll(selector)).map(style);
  const footer = Array.from(document.querySelectorAll('.f p'));
  return {
    root: getComputedStyle(document.documentElement).direction,
    paragraphs: pick('div[lang] > p:not(.k)'),
    headings: pick('h1, div[lang] > h2'),
    bylines: pick('div[lang] > p.k'),
    captions: pick('div[lang]:not(:has(h2)) > p'),
    bios: pick('table[lang] td p'),
    footer: footer.map(style),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  };
}
"""


def _measure(html: str, chromium_path: Path, shots: Path) -> dict[int, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    found: dict[int, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            for width in (MOBILE_WIDTH, DESKTOP_WIDTH):
                page = browser.new_page(viewport={"width": width, "height": 900})

                def answer(route: Any) -> None:
                    if route.request.url.endswith(".jpg"):
                        route.fulfill(status=200, content_type="image/png", body=PHOTO)
                    else:
                        route.abort()

                page.route("**/*", answer)
                page.set_content(html, wait_until="load")
                found[width] = page.evaluate(_MEASURE)
                page.screenshot(path=str(shots / f"{width}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    return found


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_a_right_to_left_issue_reads_from_the_right(
    language: str, chromium_path: Path, artifacts_dir: Path
) -> None:
    html, _text = personalise(render_issue(issue_in(language), branding()), RECIPIENT, "")
    shots = artifacts_dir / f"email-rtl-{language}"
    measured = _measure(html, chromium_path, shots)
    for width, page in measured.items():
        assert page["root"] == "rtl", width
        assert page["scrollWidth"] <= page["clientWidth"], (width, page["scrollWidth"])
        for kind in ("paragraphs", "headings", "bylines", "captions", "bios", "footer"):
            elements = page[kind]
            assert elements, (width, kind)
            for element in elements:
                assert element["direction"] == "rtl", (width, kind, element)
                # "start" in a right-to-left block is the right edge: both count as right.
                assert element["align"] in ("right", "start", "-webkit-right"), (
                    width,
                    kind,
                    element,
                )
        assert (shots / f"{width}.png").stat().st_size > 10_000


def test_a_left_to_right_story_in_an_arabic_issue_keeps_its_own_direction(
    chromium_path: Path, artifacts_dir: Path
) -> None:
    content = issue_in("ar", articles=(story("ar"), story("en")))
    html, _text = personalise(render_issue(content, branding()), RECIPIENT, "")
    measured = _measure(html, chromium_path, artifacts_dir / "email-rtl-mixed")
    for width, page in measured.items():
        english = [p for p in page["paragraphs"] if p["lang"] == "en"]
        arabic = [p for p in page["paragraphs"] if p["lang"] == "ar"]
        assert english, width
        assert arabic, width
        assert all(p["direction"] == "ltr" and p["align"] == "left" for p in english), english
        assert all(p["direction"] == "rtl" for p in arabic), arabic


def test_a_traditional_chinese_issue_with_long_latin_words_fits_a_phone(
    chromium_path: Path, artifacts_dir: Path
) -> None:
    from dataclasses import replace

    from distributor.adapters.browser_screenshots import render_in_chromium

    long_url = "https://example.org/" + "a" * 120
    article = replace(
        story("zh-Hant"),
        notes=(f"*資料來源：{long_url}",),
        title="港邊的修船師傅，" + "Supercalifragilisticexpialidocious" * 2,
    )
    content = issue_in("zh-Hant", articles=(article, story("zh-Hant", 1)))
    html, _text = personalise(render_issue(content, branding()), RECIPIENT, "")
    reports = render_in_chromium(
        html,
        screenshot_dir=artifacts_dir / "email-zh-Hant",
        chromium=chromium_path,
        image_body=PHOTO,
    )
    for report in reports:
        assert not report.scrolls_horizontally, (report.width, report.scroll_width)
        assert report.overflowing_images == ()
