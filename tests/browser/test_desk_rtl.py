"""The desk right to left, in a real Chromium.

An editor who chose Arabic on the account page gets a mirrored desk at 390 and 1366 px: the
page's computed direction is rtl, the navigation starts on the right, table cells and headings
are aligned right, nothing scrolls sideways, and axe-core finds no serious or critical problem.
An editor with an English desk who opens a Persian story sees its title, standfirst, body and
caption fields right to left, and its title isolated in the English article table. Screenshots
go to ``tests/artifacts/desk-rtl/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distributor.db import models
from distributor.db.session import engine_for, unit_of_work
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, CHROMIUM_ARGS, SeededDesk
from tests.browser.test_desk_pages import AXE, _axe, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"phone": (390, 844), "laptop": (1366, 800)}
ZWNJ = "\u200c"
PERSIAN_TITLE = f"شب{ZWNJ}کاری در بندر: کارگران اسکله از دستمزدها می{ZWNJ}گویند"
PERSIAN_DEK = f"گزارشی از نوبت شب در بندر و خانواده{ZWNJ}هایی که منتظرند."
PERSIAN_BODY = (
    f"<p>کارگران اسکله هر شب تا صبح کار می{ZWNJ}کنند و دستمزدشان ماه{ZWNJ}هاست ثابت مانده است.</p>"
)


def _database_url(tmp_path: Path) -> str:
    """The seeded desk's database (the fixture keeps it under this test's tmp_path)."""
    return f"sqlite:///{(tmp_path / 'var' / 'distributor.db').as_posix()}"


def _make_story_persian(tmp_path: Path, article_id: int) -> None:
    url = _database_url(tmp_path)
    with unit_of_work(url) as db:
        article = db.get(models.Article, article_id)
        assert article is not None
        article.language = "fa"
        article.title = PERSIAN_TITLE
        article.dek = PERSIAN_DEK
        article.body_html = PERSIAN_BODY
    engine_for(url).dispose()


def _sign_in(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/login")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("#new-issue")).to_be_visible()


def _choose_language(page: Any, base: str, tag: str) -> None:
    """Choose the desk's language on the account page, as an editor does."""
    page.goto(base + "/account")
    page.locator("#language-choice").select_option(tag)
    page.locator("#language-save").click()
    page.wait_for_load_state("load")


def _style(page: Any, selector: str, prop: str) -> str:
    return page.eval_on_selector(  # type: ignore[no-any-return]
        selector, f"(el) => getComputedStyle(el).getPropertyValue('{prop}')"
    )


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.eval_on_selector(  # type: ignore[no-any-return]
        selector,
        "(el) => { const r = el.getBoundingClientRect();"
        " return {left: r.left, right: r.right, width: r.width}; }",
    )


def _problems_here(page: Any, where: str, shot: Path) -> list[str]:
    found = []
    measured = _overflow(page)
    if measured["scrollWidth"] > measured["innerWidth"]:
        found.append(f"{where}: scrolls sideways {measured}")
    page.screenshot(path=str(shot), full_page=True)
    found.extend(f"{where}: {problem}" for problem in _axe(page))
    return found


def test_the_desk_in_arabic_is_mirrored_at_phone_and_laptop_sizes(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make system-deps' (npm ci --prefix tests/browser)")
    shots = artifacts_dir / "desk-rtl"
    shots.mkdir(parents=True, exist_ok=True)
    base = seeded_desk.base_url
    problems: list[str] = []
    pages = {
        "home": "/",
        "articles": "/articles",
        "article": f"/articles/{seeded_desk.article_id}",
        "issues": "/issues",
        "issue": f"/issues/{seeded_desk.draft_issue_id}",
        "account": "/account",
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        for size, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="en-US",
                bypass_csp=True,  # axe-core is injected as a script of its own
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            _sign_in(page, base)
            _choose_language(page, base, "ar")
            expect(page.locator("html")).to_have_attribute("lang", "ar")
            expect(page.locator("h1")).to_have_text("حسابك")
            for name, path in pages.items():
                answer = page.goto(base + path)
                assert answer is not None
                assert answer.ok, f"{path}: HTTP {answer.status}"
                page.wait_for_load_state("load")
                assert _style(page, "html", "direction") == "rtl", path
                assert _style(page, "main", "direction") == "rtl", path
                assert _style(page, "h1", "text-align") in ("start", "right"), path
                problems.extend(
                    _problems_here(page, f"{size} {path}", shots / f"ar-{name}-{size}.png")
                )
            # The navigation starts on the right: its first entry is right of its second
            # (on a phone the entries may wrap; the first still sits at the right edge).
            page.goto(base + "/articles")
            first = _box(page, ".topbar nav li:nth-child(1)")
            second = _box(page, ".topbar nav li:nth-child(2)")
            assert first["right"] > second["right"], (first, second)
            assert first["right"] > width * 0.6, first
            # Table headings and cells are aligned right, the brand sits at the right.
            assert _style(page, "th", "text-align") in ("start", "right")
            assert _style(page, "td", "text-align") in ("start", "right")
            brand = _box(page, ".brand")
            assert brand["right"] > width * 0.75, brand
            context.close()
        browser.close()
    assert not problems, "\n".join(problems)


def test_an_english_desk_shows_a_persian_story_right_to_left(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    _make_story_persian(tmp_path, seeded_desk.article_id)
    shots = artifacts_dir / "desk-rtl"
    shots.mkdir(parents=True, exist_ok=True)
    base = seeded_desk.base_url
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        for size, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="en-US", bypass_csp=True
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            _sign_in(page, base)
            page.goto(f"{base}/articles/{seeded_desk.article_id}")
            assert _style(page, "html", "direction") == "ltr"
            assert page.locator("html").get_attribute("lang") == "en"
            for selector in ("main h1", "#story-dek", "#story-body", "#notes-text"):
                assert _style(page, selector, "direction") == "rtl", selector
            assert _style(page, "textarea[id^='caption-']", "direction") == "rtl"
            # The title's text starts at the right edge of its box.
            assert _style(page, "main h1", "text-align") in ("start", "right")
            title_box = _box(page, "main h1")
            text_right = page.eval_on_selector(
                "main h1",
                "(el) => { const range = document.createRange(); range.selectNodeContents(el);"
                " const rects = range.getClientRects(); return rects[0].right; }",
            )
            assert abs(text_right - title_box["right"]) < 2, (text_right, title_box)
            # The English labels around it stay left to right.
            assert _style(page, "#checks-heading", "direction") == "ltr"
            problems.extend(
                _problems_here(page, f"{size} story", shots / f"fa-story-in-en-{size}.png")
            )
            # In the English table the Persian title is isolated in its own direction.
            page.goto(f"{base}/articles")
            link = f"a[href='/articles/{seeded_desk.article_id}']"
            assert _style(page, link, "direction") == "rtl"
            assert _style(page, "th", "direction") == "ltr"
            problems.extend(
                _problems_here(page, f"{size} articles", shots / f"fa-articles-in-en-{size}.png")
            )
            context.close()
        browser.close()
    assert not problems, "\n".join(problems)
