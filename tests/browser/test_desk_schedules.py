"""The Schedules page in a real headless Chromium against a real ``distributor serve``: an
editor adds a schedule (after a refused cron), pauses it and resumes it.

Screenshots are written to ``tests/artifacts/desk/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_desk_flow import (
    CHROMIUM_ARGS,
    EDITOR_EMAIL,
    EDITOR_PASSWORD,
    RunningDesk,
    running_desk,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["running_desk"]  # the served desk fixture, shared with the day-in-the-desk test


def test_editor_adds_pauses_and_resumes_a_schedule(
    running_desk: RunningDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts_dir / "desk"
    shots.mkdir(parents=True, exist_ok=True)
    base = running_desk.base_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(20_000)
        page.goto(base + "/login")
        page.get_by_label("Email address").fill(EDITOR_EMAIL)
        page.get_by_label("Password").fill(EDITOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedules").click()
        expect(page.get_by_role("heading", name="Schedules", exact=True)).to_be_visible()
        expect(page.get_by_text("No schedules yet.")).to_be_visible()
        page.get_by_label("Name").fill("friday-digest")
        page.get_by_label("List").select_option("harbour-weekly")
        page.get_by_label(r"Cron").fill("every friday")
        page.get_by_label("Time zone").fill("Asia/Hong_Kong")
        page.get_by_label("Mode").select_option("auto")
        page.get_by_label("Layout").select_option("full")
        page.get_by_label("Subject").fill("{date}: {first_title}")
        page.get_by_role("button", name="Create schedule").click()
        expect(page.locator("#form-error")).to_contain_text("Cron 'every friday'")
        # What the editor typed is still there; only the cron needs fixing.
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Hong_Kong")
        page.screenshot(path=str(shots / "schedules-01-refused.png"), full_page=True)
        page.get_by_label("Cron").fill("0 8 * * fri")
        page.get_by_role("button", name="Create schedule").click()

        row = page.locator('tr[data-schedule="friday-digest"]')
        expect(page.get_by_role("status")).to_contain_text("Schedule friday-digest created")
        expect(row).to_contain_text("0 8 * * fri")
        expect(row).to_contain_text("auto, full")
        expect(row).to_contain_text("T08:00+08:00")
        page.screenshot(path=str(shots / "schedules-02-created.png"), full_page=True)

        row.get_by_role("button", name="Pause friday-digest").click()
        expect(row).to_contain_text("paused")
        expect(row.get_by_role("button", name="Resume friday-digest")).to_be_visible()
        row.get_by_role("button", name="Resume friday-digest").click()
        expect(row.get_by_role("button", name="Pause friday-digest")).to_be_visible()
        expect(row).to_contain_text("T08:00+08:00")
        page.screenshot(path=str(shots / "schedules-03-resumed.png"), full_page=True)
        browser.close()
