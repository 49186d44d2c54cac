"""The desk shows and edits a list's visibility (M9), in a real Chromium on a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.users import create_user
from tests.security.serving import served

pytestmark = [pytest.mark.browser]

EDITOR = ("lists.editor@example.org", "lists editor password")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def test_an_editor_creates_a_private_list_and_makes_it_public(
    tmp_path: Path, chromium_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    database_url = f"sqlite:///{(tmp_path / 'distributor.db').as_posix()}"
    upgrade(database_url)
    with unit_of_work(database_url) as db:
        create_user(db, EDITOR[0], EDITOR[1], role="editor")
    engine_for(database_url).dispose()

    with served(tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.goto(base + "/lists")
        page.get_by_label("Email address").fill(EDITOR[0])
        page.get_by_label("Password").fill(EDITOR[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Lists", exact=True)).to_be_visible()

        page.locator("#name").fill("sources")
        page.locator("#title").fill("Source protection contacts")
        page.get_by_label("Opt-in").select_option("single")
        page.get_by_label("Visibility").select_option("private")
        page.get_by_role("button", name="Create list").click()
        row = page.get_by_role("row").filter(has_text="Source protection contacts")
        expect(row).to_contain_text("private")
        assert httpx.get(f"{base}/signup/sources").status_code == 404

        row.get_by_role("link", name="Edit sources").click()
        expect(page.get_by_label("Visibility")).to_have_value("private")
        expect(page.get_by_role("heading", name="List sources")).to_contain_text("private")
        page.get_by_label("Visibility").select_option("public")
        page.get_by_role("button", name="Save").click()
        row = page.get_by_role("row").filter(has_text="Source protection contacts")
        expect(row).to_contain_text("public")
        browser.close()
        signup = httpx.get(f"{base}/signup/sources")
        assert signup.status_code == 200
        assert "Source protection contacts" in signup.text
