"""The desk's layout choice (issue page) and welcome-email editor (list page) in a real
headless Chromium against a real ``distributor serve``. Screenshots go to
``tests/artifacts/desk-letters/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from distributor.db.models import Article, Issue, MailingList
from distributor.db.session import engine_for, unit_of_work
from distributor.services.issues import create_issue
from tests.browser.test_desk_flow import (
    CHROMIUM_ARGS,
    EDITOR_EMAIL,
    EDITOR_PASSWORD,
    RunningDesk,
    running_desk,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["running_desk"]  # the fixture, shared with the desk's day-in-the-life test

WELCOME = "## Welcome aboard\n\nEvery Friday, **three stories** from the harbour."


def _issue_and_list(database_url: str) -> tuple[int, int, list[int]]:
    with unit_of_work(database_url) as db:
        article_ids = list(db.scalars(select(Article.id).order_by(Article.id)))
        issue = create_issue(db, ["harbour-weekly"], "Harbour in full", article_ids)
        weekly = db.scalar(select(MailingList).where(MailingList.name == "harbour-weekly"))
        assert weekly is not None
        found = issue.id, weekly.id, article_ids
    engine_for(database_url).dispose()
    return found


def test_the_editor_chooses_whole_stories_and_writes_the_welcome_email(
    running_desk: RunningDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts_dir / "desk-letters"
    shots.mkdir(parents=True, exist_ok=True)
    base = running_desk.base_url
    issue_id, list_id, article_ids = _issue_and_list(running_desk.database_url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(20_000)
        page.goto(base + "/login")
        page.get_by_label("Email address").fill(EDITOR_EMAIL)
        page.get_by_label("Password").fill(EDITOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()

        # Layout: excerpts by default; choose whole stories, then one story as an excerpt.
        page.goto(f"{base}/issues/{issue_id}")
        layout = page.locator("#layout")
        expect(layout.locator('input[name="layout"][value="excerpt"]')).to_be_checked()
        layout.locator('input[name="layout"][value="full"]').check()
        page.locator("#layout-save").click()
        expect(page.get_by_role("status")).to_contain_text("Layout saved")
        expect(layout.locator('input[name="layout"][value="full"]')).to_be_checked()
        expect(page.locator("#layout-fit")).to_be_visible()
        layout.locator(f'input[name="excerpt"][value="{article_ids[0]}"]').check()
        page.locator("#layout-save").click()
        expect(page.get_by_role("status")).to_contain_text("Layout saved")
        expect(layout.locator(f'input[name="excerpt"][value="{article_ids[0]}"]')).to_be_checked()
        layout.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "01-layout.png"), full_page=True)

        # Welcome email: preview (not saved), then save.
        page.goto(f"{base}/lists/{list_id}")
        page.get_by_label("Welcome email (Markdown)").fill(WELCOME)
        page.locator("#welcome-preview-button").click()
        preview = page.locator("#welcome-preview")
        expect(preview.get_by_role("heading", name="Welcome aboard")).to_be_visible()
        expect(preview.locator("strong")).to_have_text("three stories")
        expect(page.get_by_text("not saved yet")).to_be_visible()
        page.screenshot(path=str(shots / "02-welcome-preview.png"), full_page=True)
        page.locator("#welcome-save").click()
        expect(page.get_by_role("status")).to_contain_text("Welcome email of harbour-weekly saved")
        expect(page.get_by_label("Welcome email (Markdown)")).to_have_value(WELCOME)
        browser.close()

    with unit_of_work(running_desk.database_url) as db:
        issue = db.get(Issue, issue_id)
        weekly = db.get(MailingList, list_id)
        assert issue is not None
        assert weekly is not None
        assert issue.layout == "full"
        assert [link.excerpt for link in issue.articles] == [True, None, None]
        assert weekly.welcome_markdown == WELCOME
    engine_for(running_desk.database_url).dispose()
