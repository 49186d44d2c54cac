"""Every desk page in a real Chromium, on a phone (390 px) and a laptop (1366 px).

The pages are listed from the desk's routes, so a new page without a visit here fails the test.
On each page and size: nothing scrolls sideways (``scrollWidth <= innerWidth``), and axe-core
(``tests/browser/node_modules``, installed by ``make system-deps``) finds no serious or critical
accessibility violation. Full-page screenshots go to ``tests/artifacts/desk-pages/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from distributor.web.routes.desk import router as desk_router
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, CHROMIUM_ARGS, SeededDesk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"phone": (390, 844), "laptop": (1366, 800)}
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
# Routes that are not pages: the desk's static files and the JSON the sending page polls.
NOT_PAGES = {"/static/{name}", "/issues/{issue_id}/progress"}


def desk_page_paths() -> set[str]:
    """The path templates of every desk page that answers GET."""

    def walk(router: Any) -> Iterator[APIRoute]:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):  # FastAPI's wrapper of an included router
                yield from walk(route.original_router)
            elif hasattr(route, "routes"):
                yield from walk(route)

    return {route.path for route in walk(desk_router) if "GET" in route.methods} - NOT_PAGES


def _wait_until_sent(page: Any, base: str, issue_id: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answer = page.request.get(f"{base}/issues/{issue_id}/progress")
        if answer.ok and answer.json().get("status") == "sent":
            return
        time.sleep(0.5)
    pytest.fail(f"issue {issue_id} was not sent within 90 s")


def _page_urls(desk: SeededDesk) -> dict[str, list[tuple[str, str]]]:
    """Each page's path template → (screenshot name, address) of the states visited."""
    return {
        "/login": [("login", "/login")],
        "/": [("home", "/")],
        "/articles": [("articles", "/articles")],
        "/articles/{article_id}": [("article", f"/articles/{desk.article_id}")],
        "/issues": [("issues", "/issues")],
        "/issues/new": [("issue-new", "/issues/new")],
        "/issues/{issue_id}": [
            ("issue-draft", f"/issues/{desk.draft_issue_id}"),
            ("issue-sent", f"/issues/{desk.sent_issue_id}"),
        ],
        "/subscribers": [("subscribers", "/subscribers")],
        "/subscribers/import": [("subscribers-import", "/subscribers/import")],
        "/subscribers/{subscriber_id}": [("subscriber", f"/subscribers/{desk.subscriber_id}")],
        "/lists": [("lists", "/lists")],
        "/lists/{list_id}": [("list", f"/lists/{desk.list_id}")],
        "/suppressions": [("suppressions", "/suppressions")],
        "/partners": [("partners", "/partners")],
        "/partners/{partner_id}": [("partner", f"/partners/{desk.partner_id}")],
        "/admin/users": [("users", "/admin/users")],
        "/sources": [("sources", "/sources")],
        "/schedules": [("schedules", "/schedules")],
        "/account": [("account", "/account")],
        "/account/tokens": [("tokens", "/account/tokens")],
        "/admin/audit": [("audit", "/admin/audit")],
    }


def _overflow(page: Any) -> dict[str, Any]:
    """The page's width against the window's, and the widest elements that stick out."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
          const width = window.innerWidth;
          const culprits = [];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 0.5 && culprits.length < 5) {
              culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string' ? '.' + el.className : '') +
                ' right=' + Math.round(box.right));
            }
          }
          return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
                  culprits: culprits};
        }"""
    )


def _check(page: Any, where: str, screenshot: Path) -> list[str]:
    """The page's sideways overflow and axe-core problems; a full-page screenshot."""
    found = []
    measured = _overflow(page)
    if measured["scrollWidth"] > measured["innerWidth"]:
        found.append(
            f"{where}: scrolls sideways ({measured['scrollWidth']} px > "
            f"{measured['innerWidth']} px): {measured['culprits']}"
        )
    page.screenshot(path=str(screenshot), full_page=True)
    found.extend(f"{where}: {problem}" for problem in _axe(page))
    return found


def _axe(page: Any) -> list[str]:
    """Serious and critical axe-core violations on the page, described for a person."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} {targets}")
    return found


def test_every_desk_page_fits_a_phone_and_passes_axe(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make system-deps' (npm ci --prefix tests/browser)")
    pages = _page_urls(seeded_desk)
    assert set(pages) == desk_page_paths(), "a desk page is missing from this test's list"
    shots = artifacts_dir / "desk-pages"
    shots.mkdir(parents=True, exist_ok=True)
    base = seeded_desk.base_url
    problems: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        signed_in: Any = None
        for size, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height},
                storage_state=signed_in,
                bypass_csp=True,  # axe-core is injected as a script of its own
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            if signed_in is None:
                page.goto(base + "/login")
                page.get_by_label("Email address").fill(ADMIN_EMAIL)
                page.get_by_label("Password").fill(ADMIN_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()
                _wait_until_sent(page, base, seeded_desk.sent_issue_id)
                signed_in = context.storage_state()
            for template, visits in pages.items():
                for name, path in visits:
                    if template == "/login":
                        context.clear_cookies()
                    answer = page.goto(base + path)
                    assert answer is not None, path
                    assert answer.ok, f"{path}: HTTP {answer.status}"
                    page.wait_for_load_state("load")
                    problems.extend(_check(page, f"{size} {path}", shots / f"{name}-{size}.png"))
                    if template == "/login":
                        context.add_cookies(signed_in["cookies"])
            # States a form post shows: the pre-flight dialog of "Send now".
            page.goto(f"{base}/issues/{seeded_desk.draft_issue_id}")
            page.locator("#send-now").click()
            expect(page.locator("#preflight")).to_be_visible()
            problems.extend(
                _check(page, f"{size} send-now pre-flight", shots / f"preflight-{size}.png")
            )
            context.close()
        browser.close()
    assert not problems, "\n".join(problems)


def test_the_phone_preview_shows_the_email_without_scrolling(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    """On a phone the issue's two previews fit the screen and the phone frame is not blank."""
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.set_default_timeout(20_000)
        page.goto(base + "/login")
        page.get_by_label("Email address").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()
        page.goto(f"{base}/issues/{seeded_desk.draft_issue_id}")
        for selector in ("iframe.preview-desktop", "iframe.preview-mobile"):
            frame = page.locator(selector)
            frame.scroll_into_view_if_needed()
            box = frame.bounding_box()
            assert box is not None
            assert box["x"] >= 0, (selector, box)
            assert box["x"] + box["width"] <= 390, (selector, box)
        # The phone frame shows the email as soon as it is on screen, without scrolling inside.
        mobile = page.frame_locator("iframe.preview-mobile").frame_locator("iframe")
        expect(mobile.get_by_role("heading", name="The week on the water")).to_be_visible()
        heading = mobile.get_by_role("heading", name="The week on the water").bounding_box()
        outer = page.locator("iframe.preview-mobile").bounding_box()
        assert heading is not None
        assert outer is not None
        assert outer["y"] <= heading["y"] < outer["y"] + outer["height"], (heading, outer)
        page.locator("iframe.preview-mobile").screenshot(
            path=str(artifacts_dir / "desk-pages" / "phone-preview-on-a-phone.png")
        )
        browser.close()
