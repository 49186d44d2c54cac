"""The desk's lists, subscribers, suppressions, schedules, sources, partners, users and audit
pages in Arabic, Persian and Traditional Chinese, in a real Chromium (Arabic at 375 and 800 px,
the others at 375 px).

The browser asks for the language with ``Accept-Language``. On each page and size: the page
reads right to left for Arabic and Persian (computed ``direction`` of the page and its heading),
the heading is in the language's script, nothing of the page's content lies outside the
window on either side, and names shown in tables (inside ``<bdi>``) keep their own direction.
Screenshots of each page's content go to ``tests/artifacts/desk-lang-admin/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, CHROMIUM_ARGS, SeededDesk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"375": (375, 812), "800": (800, 900)}
# Arabic is checked at both sizes; Persian and Chinese share its layout, so the phone (where
# overflow shows first) is enough for them and keeps the run short.
SIZES_FOR = {"ar": ("375", "800"), "fa": ("375",), "zh-Hant": ("375",)}
# The script each language's headings are written in (a letter that must appear in the h1).
SCRIPTS = {
    "ar": ("\u0600", "\u06ff"),
    "fa": ("\u0600", "\u06ff"),
    "zh-Hant": ("\u4e00", "\u9fff"),
}
# Pages whose heading is a name (the reader's address, the partner's name), not our words.
NAMED_HEADINGS = {"subscriber", "partner"}


def _pages(desk: SeededDesk) -> dict[str, str]:
    return {
        "lists": "/lists",
        "list": f"/lists/{desk.list_id}",
        "subscribers": "/subscribers",
        "subscriber": f"/subscribers/{desk.subscriber_id}",
        "import": "/subscribers/import",
        "suppressions": "/suppressions",
        "schedules": "/schedules",
        "sources": "/sources",
        "partners": "/partners",
        "partner": f"/partners/{desk.partner_id}",
        "users": "/admin/users",
        "audit": "/admin/audit",
    }


def _measure(page: Any) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
          const h1 = document.querySelector('main h1');
          const bdi = document.querySelector('main td bdi');
          // What the page's own content puts outside the window, on either side (tables scroll
          // inside their own region; screen-reader text is clipped on purpose).
          const width = window.innerWidth;
          const outside = [];
          for (const el of document.querySelectorAll('main *')) {
            if (el.closest('.sr-only') || el.parentElement.closest('.table-wrap')) continue;
            const box = el.getBoundingClientRect();
            if (box.width > 0 && (box.left < -0.5 || box.right > width + 0.5)) {
              outside.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                ' ' + Math.round(box.left) + '..' + Math.round(box.right));
              if (outside.length >= 5) break;
            }
          }
          return {
            lang: document.documentElement.lang,
            pageDirection: getComputedStyle(document.documentElement).direction,
            headingDirection: h1 ? getComputedStyle(h1).direction : null,
            heading: h1 ? h1.textContent : '',
            bdiUnicodeBidi: bdi ? getComputedStyle(bdi).unicodeBidi : 'isolate',
            outside: outside,
          };
        }"""
    )


@pytest.mark.parametrize("language", ["ar", "fa", "zh-Hant"])
def test_admin_pages_in_right_to_left_and_chinese(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, language: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts_dir / "desk-lang-admin"
    shots.mkdir(parents=True, exist_ok=True)
    base = seeded_desk.base_url
    direction = "rtl" if language in ("ar", "fa") else "ltr"
    low, high = SCRIPTS[language]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        signed_in: Any = None
        for size in SIZES_FOR[language]:
            width, height = SIZES[size]
            context = browser.new_context(
                viewport={"width": width, "height": height}, storage_state=signed_in
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            if signed_in is None:  # signed in in English, then the browser asks for the language
                page.goto(base + "/login")
                page.get_by_label("Email address").fill(ADMIN_EMAIL)
                page.get_by_label("Password").fill(ADMIN_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.locator("main h1")).to_be_visible()
                signed_in = context.storage_state()
            context.set_extra_http_headers({"Accept-Language": language})
            for name, path in _pages(seeded_desk).items():
                answer = page.goto(base + path)
                assert answer is not None
                assert answer.ok, f"{path}: HTTP {answer.status}"
                found = _measure(page)
                where = f"{language} {size} {path}"
                if found["lang"] != language:
                    problems.append(f"{where}: lang={found['lang']}")
                if found["pageDirection"] != direction or found["headingDirection"] != direction:
                    problems.append(f"{where}: direction {found}")
                if name not in NAMED_HEADINGS and not any(
                    low <= char <= high for char in found["heading"]
                ):
                    problems.append(f"{where}: heading {found['heading']!r} not translated")
                if found["bdiUnicodeBidi"] != "isolate":
                    problems.append(f"{where}: <bdi> is not isolated ({found['bdiUnicodeBidi']})")
                if found["outside"]:
                    problems.append(f"{where}: outside the window: {found['outside']}")
                # The window's columns of the whole page (a right-to-left page starts at the right
                # of anything the base page's header puts off-screen).
                full = page.evaluate(
                    "() => [document.documentElement.scrollWidth,"
                    " document.documentElement.scrollHeight]"
                )
                page.screenshot(
                    path=str(shots / f"{name}-{language}-{size}.png"),
                    full_page=True,
                    clip={
                        "x": full[0] - width if direction == "rtl" else 0,
                        "y": 0,
                        "width": width,
                        "height": full[1],
                    },
                )
            context.close()
        browser.close()
    assert not problems, "\n".join(problems)
