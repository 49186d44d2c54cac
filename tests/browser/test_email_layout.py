"""The email in a real headless Chromium at phone (375 px) and desktop (800 px) widths.

Images are answered with a generated 1600x1000 PNG and every other request is refused, so
the test needs no network and sees every request the email would make. Screenshots go to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from distributor.adapters.browser_screenshots import (
    DESKTOP_WIDTH,
    MOBILE_WIDTH,
    render_in_chromium,
)
from distributor.rendering.email import Recipient, personalise, render_issue, render_web_archive
from tests.factories.email_stories import branding, english_article, issue_content
from tests.factories.images import solid_png
from tests.unit.rendering.email_properties import allowed_image_urls

pytestmark = pytest.mark.browser

RECIPIENT = Recipient(
    email="ada@example.org",
    first_name="Ada",
    unsubscribe_url="https://news.example.org/unsubscribe/tok",
    preferences_url="https://news.example.org/preferences/tok",
    web_url="https://news.example.org/archive/web",
)
PHOTO = solid_png(1600, 1000)
CASES = [(1, "en"), (6, "zh-Hans"), (10, "en"), (10, "zh-Hans")]


@pytest.mark.parametrize(("count", "language"), CASES, ids=[f"{c}-{lang}" for c, lang in CASES])
def test_no_horizontal_scrolling_and_images_fit(
    count: int, language: str, chromium_path: Path, artifacts_dir: Path
) -> None:
    content = issue_content(count, language)
    house = branding()
    html, _text = personalise(render_issue(content, house), RECIPIENT, "reader")
    out = artifacts_dir / f"email-{count}-{language}"
    reports = render_in_chromium(html, screenshot_dir=out, chromium=chromium_path, image_body=PHOTO)
    assert [report.width for report in reports] == [DESKTOP_WIDTH, MOBILE_WIDTH]
    allowed = allowed_image_urls(content, house)
    for report in reports:
        assert not report.scrolls_horizontally, (
            f"{report.width}px: content is {report.scroll_width}px wide"
        )
        assert report.overflowing_images == ()
        assert report.images, "the story photos are on the page"
        assert set(report.requested_urls) <= allowed, "only story images may be fetched"
        leads = [image for image in report.images if image.src.endswith("-lead.jpg")]
        assert leads
        for image in leads:
            # A lead photo fills the column: nearly the viewport on a phone, 544 px on desktop.
            expected = min(544, report.client_width - 2 * 20)
            assert image.width >= expected - 20, (report.width, image)
            assert image.height > 0
        assert report.screenshot is not None
        assert report.screenshot.stat().st_size > 10_000


def test_long_unbroken_words_do_not_widen_the_phone_layout(
    chromium_path: Path, artifacts_dir: Path
) -> None:
    long_word = "Supercalifragilisticexpialidocious" * 3
    article = replace(
        english_article(0),
        title=f"A headline with {long_word} in it",
        notes=(f"https://example.org/{'a' * 120}",),
    )
    content = replace(issue_content(1), articles=(article,), subject=long_word)
    html, _ = personalise(render_issue(content, branding()), RECIPIENT, "reader")
    (report,) = render_in_chromium(
        html,
        [MOBILE_WIDTH],
        screenshot_dir=artifacts_dir / "email-long-words",
        chromium=chromium_path,
        image_body=PHOTO,
    )
    assert not report.scrolls_horizontally, report.scroll_width


def test_web_archive_renders_at_both_widths(chromium_path: Path, artifacts_dir: Path) -> None:
    page = render_web_archive(
        render_issue(issue_content(3, "zh-Hans"), branding()), RECIPIENT.web_url
    )
    reports = render_in_chromium(
        page, screenshot_dir=artifacts_dir / "archive-zh", chromium=chromium_path, image_body=PHOTO
    )
    for report in reports:
        assert not report.scrolls_horizontally
        assert report.overflowing_images == ()


def test_phone_stylesheet_keeps_the_small_kickers_small(chromium_path: Path) -> None:
    """The phone rule that shrinks headings must not blow the "From the editor" kicker up."""
    from playwright.sync_api import sync_playwright

    from distributor.adapters.browser_screenshots import CHROMIUM_ARGS

    content = issue_content(1)
    assert content.editor_note, "the fixture issue has an editor's note"
    html, _ = personalise(render_issue(content, branding()), RECIPIENT, "reader")
    sizes: dict[int, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            for width in (390, 1366):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="domcontentloaded")
                sizes[width] = page.eval_on_selector_all(
                    ".k", "nodes => nodes.map(n => getComputedStyle(n).fontSize)"
                )
                page.close()
        finally:
            browser.close()
    for width, found in sizes.items():
        assert len(found) >= 2, (width, found)  # the list title and "From the editor"
        assert set(found) == {"12px"}, (width, found)
