"""Arabic and Persian reader pages (signup, preferences, archive) in a real headless Chromium, on
a phone (375 px) and a laptop (800 px): the page runs right to left (computed ``direction``);
headings, paragraphs, labels and list items are aligned right (computed ``text-align``, and
where the text actually sits); checkboxes stand on the right of their labels; nothing scrolls
sideways; nothing is loaded from elsewhere; axe-core finds no serious or critical violation.
Screenshots go to ``tests/artifacts/public-rtl/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from distributor.config import Settings
from distributor.db.models import Issue, IssueArticle, IssueList
from distributor.db.session import unit_of_work
from distributor.domain.links import MANAGE_PURPOSE
from distributor.domain.subscribers import OptIn
from distributor.domain.tokens import make_token
from distributor.services.subscribers import add_subscriber, create_list
from tests.browser.conftest import CHROMIUM_ARGS
from tests.conftest import make_settings
from tests.factories.audience import article_row
from tests.support.live_app import live_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (375, 800)
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
TITLES = {
    "ar": "نشرة الميناء: أخبار المدينة القديمة والأسواق والبحر كل صباح",
    "fa": "خبرنامهٔ بندر: تازه‌ترین خبرهای شهر قدیم، بازار و دریا هر بامداد",
}


@dataclass
class Served:
    base_url: str
    preferences: dict[str, str]


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[Served]:
    settings: Settings = make_settings(tmp_path, sqlite_url)
    tokens: dict[str, str] = {}
    with unit_of_work(settings.database_url) as db:
        stories = [article_row(db, number) for number in range(1, 3)]
        stories[0].title = "Ferry timetable: the winter changes"  # the other direction
        # A list whose title runs the other way than the page (isolated in <bdi>).
        create_list(db, "weekly", title="The Weekly Dispatch", opt_in=OptIn.SINGLE)
        for tag, title in TITLES.items():
            harbour = create_list(
                db,
                f"harbour-{tag}",
                title=title,
                language=tag,
                description=title.split(":")[0],
                opt_in=OptIn.DOUBLE,
            )
            issue = Issue(
                subject=title.split(":")[0] + " ۱۲",
                status="sent",
                started_at=datetime(2026, 1, 5, 8, tzinfo=UTC),
                web_token=f"web-{tag}",
            )
            issue.lists = [IssueList(list_id=harbour.id)]
            issue.articles = [
                IssueArticle(article_id=story.id, position=position)
                for position, story in enumerate(stories)
            ]
            db.add(issue)
            membership = add_subscriber(
                db, f"reader.{tag}@example.org", f"harbour-{tag}", language=tag, confirmed=True
            )
            add_subscriber(db, f"reader.{tag}@example.org", "weekly", confirmed=True)
            tokens[tag] = make_token(
                settings.secret_key(),
                MANAGE_PURPOSE,
                membership.subscriber_id,
                membership.list_id,
            )
    with live_app(settings) as base:
        yield Served(base, tokens)


def _layout(page: Any) -> dict[str, Any]:
    """Direction, alignment and overflow as the browser computed them."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
          const style = (el) => getComputedStyle(el);
          const resolved = (el) => {
            const s = style(el);
            if (s.textAlign === 'start') return s.direction === 'rtl' ? 'right' : 'left';
            if (s.textAlign === 'end') return s.direction === 'rtl' ? 'left' : 'right';
            return s.textAlign;
          };
          // Where the text really sits: its rightmost edge against the box's inner edge.
          const inkGap = (el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const rects = [...range.getClientRects()].filter((rect) => rect.width > 0);
            if (!rects.length) return null;
            const box = el.getBoundingClientRect();
            const padding = parseFloat(style(el).paddingRight) || 0;
            return Math.round(box.right - padding - Math.max(...rects.map((r) => r.right)));
          };
          const shown = 'main h1, main h2, main h3, main p, main label, main li';
          const blocks = [...document.querySelectorAll(shown)]
            .filter((el) => el.offsetParent !== null && el.textContent.trim());
          const checks = [...document.querySelectorAll('fieldset label')].map((label) => {
            const box = label.querySelector('input').getBoundingClientRect();
            const text = label.querySelector('span').getBoundingClientRect();
            return {boxLeft: box.left, textRight: text.right};
          });
          return {
            htmlDir: style(document.documentElement).direction,
            bodyDir: style(document.body).direction,
            blocks: blocks.map((el) => ({
              what: el.tagName.toLowerCase() + ': ' + el.textContent.trim().slice(0, 30),
              direction: style(el).direction,
              align: resolved(el),
              gap: inkGap(el),
            })),
            checks: checks,
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
          };
        }"""
    )


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['impact']} {violation['id']}: {violation['help']} "
        f"{[', '.join(node['target']) for node in violation['nodes'][:3]]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_arabic_and_persian_pages_run_right_to_left(
    served: Served, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import sync_playwright

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make system-deps' (npm ci --prefix tests/browser)")
    shots = artifacts_dir / "public-rtl"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    elsewhere: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        for width in WIDTHS:
            context = browser.new_context(
                viewport={"width": width, "height": 800},
                bypass_csp=True,  # axe-core is injected as a script of its own
            )
            page = context.new_page()
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(served.base_url)
                    else elsewhere.append(request.url)
                ),
            )
            for tag in TITLES:
                visits = {
                    "signup": f"/signup/harbour-{tag}",
                    "preferences": f"/preferences/{served.preferences[tag]}",
                    "archive": f"/newsletters/harbour-{tag}",
                }
                for name, path in visits.items():
                    answer = page.goto(served.base_url + path)
                    assert answer is not None, path
                    assert answer.ok, f"{path}: HTTP {answer.status}"
                    where = f"{tag} {name} {width}px"
                    page.screenshot(path=str(shots / f"{tag}-{name}-{width}.png"), full_page=True)
                    layout = _layout(page)
                    if layout["htmlDir"] != "rtl" or layout["bodyDir"] != "rtl":
                        problems.append(f"{where}: direction {layout['htmlDir']}")
                    for block in layout["blocks"]:
                        if block["direction"] != "rtl" or block["align"] != "right":
                            problems.append(f"{where}: {block}")
                        elif block["gap"] is not None and abs(block["gap"]) > 2:
                            problems.append(f"{where}: text not against the right: {block}")
                    if name == "preferences":
                        assert len(layout["checks"]) == 3, where  # weekly and both harbour lists
                        for check in layout["checks"]:
                            if check["boxLeft"] < check["textRight"]:
                                problems.append(f"{where}: checkbox left of its label {check}")
                    if layout["scrollWidth"] > layout["innerWidth"]:
                        problems.append(
                            f"{where}: scrolls sideways "
                            f"({layout['scrollWidth']} > {layout['innerWidth']})"
                        )
                    problems.extend(f"{where}: {found}" for found in _axe(page))
            context.close()
        browser.close()
    assert not elsewhere, f"requests to other sites: {elsewhere}"
    assert not problems, "\n".join(problems)
