"""The public archive of a list in a real headless Chromium at 390 px: no horizontal scrolling,
even with a long unbroken subject and story title."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from distributor.adapters.browser_screenshots import render_in_chromium
from distributor.db.models import Issue, IssueArticle, IssueList
from distributor.db.session import unit_of_work
from distributor.services.subscribers import create_list
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import article_row

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390
LONG_WORD = "Supercalifragilisticexpialidocious" * 3


def test_the_archive_page_fits_a_phone(
    tmp_path: Path, sqlite_url: str, chromium_path: Path, artifacts_dir: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as db:
        weekly = create_list(db, "weekly", title="The Weekly Dispatch from the River Towns")
        stories = [article_row(db, number) for number in range(1, 4)]
        stories[0].title = f"A headline with {LONG_WORD} in it"
        stories[1].title = "河边小镇的冬天：渡轮、骑手和一档没有官方在听的奶奶电台节目"
        db.flush()
        for month in range(1, 7):
            issue = Issue(
                subject=f"Issue {month}: {LONG_WORD}" if month == 6 else f"Issue {month}",
                status="sent",
                started_at=datetime(2026, month, 5, 8, tzinfo=UTC),
                web_token=f"token-{month}",
            )
            issue.lists = [IssueList(list_id=weekly.id)]
            issue.articles = [
                IssueArticle(article_id=story.id, position=position)
                for position, story in enumerate(stories)
            ]
            db.add(issue)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        html = client.get("/newsletters/weekly").text
    (report,) = render_in_chromium(
        html,
        [PHONE_WIDTH],
        screenshot_dir=artifacts_dir / "newsletter-archive",
        chromium=chromium_path,
    )
    assert report.width == PHONE_WIDTH
    assert not report.scrolls_horizontally, f"content is {report.scroll_width}px wide"
    assert report.requested_urls == ()  # the page loads nothing from anywhere
