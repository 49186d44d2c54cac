"""Feedback you can see and input you never lose, in a real Chromium against a served desk.

A save's result appears inside the block that was saved (a live region); a refused test send,
schedule or content save shows the page again with every field as the editor typed it; and
leaving an article page while another block holds typed changes asks first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, SeededDesk, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _browser_page(
    playwright: Any, chromium_path: Path, width: int = 1366, height: int = 800
) -> Any:
    browser = playwright.chromium.launch(
        executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
    )
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


@pytest.mark.parametrize("width", [390, 1366])
def test_a_save_answers_inside_its_block_and_other_blocks_keep_their_edits(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path, width, 844)
        sign_in(page, base)
        page.goto(f"{base}/articles/{seeded_desk.article_id}")
        notes = page.locator("#notes-text")
        notes.fill("Typed but not saved yet.")
        image = page.locator(".image-card").first
        image.get_by_label("Alt text").fill("Riders queue in the rain")

        # Saving the image while the notes hold typed text asks before the page is left.
        asked: list[str] = []

        def stay(dialog: Any) -> None:
            asked.append(dialog.type)
            dialog.dismiss()

        page.on("dialog", stay)
        image.get_by_role("button", name="Save image 1").click()
        expect(notes).to_have_value("Typed but not saved yet.")
        assert asked == ["beforeunload"]
        page.remove_listener("dialog", stay)

        # Saving the notes first, then the image: no question, each answer in its own block.
        page.get_by_role("button", name="Save notes").click()
        expect(page.locator("#notes").get_by_role("status")).to_have_text("Notes saved.")
        expect(page.locator("#notes").get_by_role("status")).to_be_in_viewport()
        expect(page.locator("#notes-text")).to_have_value("Typed but not saved yet.")
        image = page.locator(".image-card").first
        image.get_by_label("Alt text").fill("Riders queue in the rain")
        image.get_by_role("button", name="Save image 1").click()
        answer = page.locator(".image-card").first.get_by_role("status")
        expect(answer).to_contain_text("Image details saved")
        expect(answer).to_be_in_viewport()
        # The message is shown once, in its block, not again at the top of the page.
        expect(page.locator("main > .flash")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "desk-pages" / f"saved-in-block-{width}.png"))


def test_refused_test_send_schedule_and_content_keep_what_was_typed(
    seeded_desk: SeededDesk, chromium_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    issue = f"{base}/issues/{seeded_desk.draft_issue_id}"
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path)
        sign_in(page, base)
        page.goto(issue)

        # Test send with one bad address: refused in the test block, the addresses kept.
        typed = "proof@example.org, not-an-address"
        page.get_by_label("Addresses").fill(typed)
        page.get_by_role("button", name="Send test").click()
        expect(page.locator("#test").get_by_role("alert")).to_contain_text(
            "These are not email addresses: not-an-address"
        )
        expect(page.get_by_label("Addresses")).to_have_value(typed)

        # A time that has passed: refused in the schedule block, date, time and zone kept.
        page.get_by_label("Date", exact=True).fill("2021-03-04")
        page.get_by_label("Time", exact=True).fill("10:35")
        page.get_by_label("Time zone").fill("Asia/Tokyo")
        page.locator("#schedule-button").click()
        expect(page.locator("#schedule").get_by_role("alert")).to_contain_text("already passed")
        expect(page.get_by_label("Date", exact=True)).to_have_value("2021-03-04")
        expect(page.get_by_label("Time", exact=True)).to_have_value("10:35")
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")

        # Content without a list: refused in its block, the new note and subject kept.
        page.goto(issue)
        page.get_by_role("textbox", name="Subject", exact=True).fill(
            "A subject typed after the draft"
        )
        page.get_by_label("Editor’s note").fill("A note typed after the draft.")
        page.locator("#content input[name=list_id]").uncheck()
        page.locator("#content").get_by_role("button", name="Save").click()
        expect(page.locator("#content").get_by_role("alert")).to_contain_text(
            "choose at least one list"
        )
        expect(page.get_by_role("textbox", name="Subject", exact=True)).to_have_value(
            "A subject typed after the draft"
        )
        expect(page.get_by_label("Editor’s note")).to_have_value("A note typed after the draft.")
        expect(page.locator("#content input[name=list_id]")).not_to_be_checked()


def _story_order(page: Any) -> list[str]:
    return [
        str(item.get_attribute("data-article-id"))
        for item in page.locator("ol.issue-articles > li").all()
    ]


@pytest.mark.parametrize("width", [390, 1366])
def test_stories_are_ordered_by_drag_and_drop_by_keyboard_and_by_numbers(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path, width, 844)
        sign_in(page, base)
        page.goto(f"{base}/issues/{seeded_desk.draft_issue_id}")
        first, second, third = _story_order(page)
        # Each story shows the number the order form asks for.
        stories = page.locator("ol.issue-articles > li")
        expect(stories.nth(2)).to_contain_text(f"#{third}")

        # Drag the third story onto the first: it goes to the top, saved at once.
        stories.nth(2).drag_to(stories.nth(0))
        expect(page.locator("#stories").get_by_role("status")).to_contain_text("Stories updated")
        assert _story_order(page) == [third, first, second]

        # The keyboard way: focus "Down" on the top story and press Enter.
        title = stories.first.get_by_role("link").first.inner_text()
        page.get_by_role("button", name=f"Move “{title}” down").focus()
        page.keyboard.press("Enter")
        expect(page.locator("ol.issue-articles > li").nth(1)).to_contain_text(title)
        assert _story_order(page) == [first, third, second]

        # Numbers that leave a story out are refused, naming it; the order is unchanged.
        page.locator("#stories summary").click()
        page.get_by_label("Article numbers, in order").fill(f"{second}, {first}")
        page.get_by_role("button", name="Apply order").click()
        refusal = page.locator("#stories").get_by_role("alert")
        expect(refusal).to_contain_text(f"the order leaves out {third}")
        assert _story_order(page) == [first, third, second]
        page.screenshot(path=str(artifacts_dir / "desk-pages" / f"order-refused-{width}.png"))

        # A complete order is applied.
        page.locator("#stories summary").click()
        page.get_by_label("Article numbers, in order").fill(f"#{second}, #{third}, #{first}")
        page.get_by_role("button", name="Apply order").click()
        expect(page.locator("#stories").get_by_role("status")).to_contain_text("Stories updated")
        assert _story_order(page) == [second, third, first]


@pytest.mark.parametrize("width", [390, 1366])
def test_sources_page_adds_pauses_resumes_and_removes_feeds(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path, width, 844)
        page.on("dialog", lambda dialog: dialog.accept())  # "Remove …?"
        sign_in(page, base)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sources").click()
        failing = page.locator(f"#source-{seeded_desk.source_id}")
        expect(failing).to_contain_text("failing ×3")
        expect(failing).to_contain_text("HTTP 503 Service Unavailable")
        expect(failing).to_contain_text("3 failed polls in a row: retried after 2 h")
        page.screenshot(
            path=str(artifacts_dir / "desk-pages" / f"sources-{width}.png"), full_page=True
        )

        # A refused address keeps what was typed and says why, in the form's block.
        page.get_by_label("Feed address").fill("http://127.0.0.1/feed.xml")
        page.get_by_label("Name").fill("Local test")
        page.get_by_label("Poll every (minutes)").fill("30")
        page.get_by_role("button", name="Add feed").click()
        expect(page.locator("#add-source").get_by_role("alert")).to_contain_text("Not added")
        expect(page.get_by_label("Feed address")).to_have_value("http://127.0.0.1/feed.xml")
        expect(page.get_by_label("Name")).to_have_value("Local test")
        expect(page.get_by_label("Poll every (minutes)")).to_have_value("30")

        page.get_by_label("Feed address").fill("https://wire.example.net/atom.xml")
        page.get_by_label("Name").fill("Wire desk")
        page.get_by_role("button", name="Add feed").click()
        added = page.locator(".source", has_text="Wire desk")
        expect(added.get_by_role("status")).to_contain_text("polled every 30 min")

        added.get_by_role("button", name="Pause Wire desk").click()
        added = page.locator(".source", has_text="Wire desk")
        expect(added).to_contain_text("paused")
        expect(added).to_contain_text("none while paused")
        added.get_by_role("button", name="Resume Wire desk").click()
        added = page.locator(".source", has_text="Wire desk")
        expect(added.get_by_role("status")).to_contain_text("Resumed")
        added.get_by_role("button", name="Remove Wire desk").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Removed https://wire.example.net/atom.xml"
        )
        expect(page.locator(".source", has_text="Wire desk")).to_have_count(0)

        # Retrying the failing feed forgets its back-off.
        failing.get_by_role("button", name="Retry Magazine CMS now").click()
        expect(
            page.locator(f"#source-{seeded_desk.source_id}").get_by_role("status")
        ).to_contain_text("Resumed")


@pytest.mark.parametrize("width", [390, 1366])
def test_the_home_page_shows_what_needs_an_editor_and_issues_can_be_duplicated(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path, width, 844)
        sign_in(page, base)
        expect(page.locator("#dash-scheduled")).to_contain_text("Next week on the water")
        expect(page.locator("#dash-stopped")).to_contain_text("Held at the harbour")
        expect(page.locator("#dash-stopped")).to_contain_text("held “The leak” is embargoed")
        # The seeded send goes out through the embedded worker: sending now, then last sent.
        sent = page.locator("#dash-sent")
        for _ in range(60):
            if "Last week on the water" in sent.inner_text():
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(sent).to_contain_text("Last week on the water")
        expect(
            sent.get_by_role("link", name=f"Report of issue #{seeded_desk.sent_issue_id}")
        ).to_have_attribute("href", f"/issues/{seeded_desk.sent_issue_id}#report")
        expect(page.locator("#dash-stories")).to_contain_text("to fix")
        expect(page.locator("#dash-sources")).to_contain_text("Magazine CMS")
        expect(page.locator("#dash-sources")).to_contain_text("HTTP 503")
        page.screenshot(
            path=str(artifacts_dir / "desk-pages" / f"home-{width}.png"), full_page=True
        )

        # "New issue" on the issues pages leads to choosing stories.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Issues").click()
        page.get_by_role("link", name="New issue").click()
        expect(page.get_by_role("heading", name="Articles")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Tick at least one story")

        # Duplicate the sent issue: a new draft with its subject, stories and lists.
        page.goto(f"{base}/issues/{seeded_desk.sent_issue_id}")
        page.get_by_role("button", name="Duplicate issue").click()
        expect(page.get_by_role("status")).to_contain_text(
            f"is a copy of #{seeded_desk.sent_issue_id}"
        )
        expect(page.locator("#issue-status")).to_have_text("draft")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Last week on the water")
        expect(page.locator("ol.issue-articles > li")).to_have_count(1)
        expect(page.locator("#content input[name=list_id]:checked")).to_have_count(1)
        expect(page.get_by_role("link", name="New issue")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1366])
def test_readers_are_added_corrected_and_shown_leaving_and_lists_give_their_signup_form(
    seeded_desk: SeededDesk, chromium_path: Path, artifacts_dir: Path, width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded_desk.base_url
    shots = artifacts_dir / "desk-pages"
    with sync_playwright() as playwright:
        page = _browser_page(playwright, chromium_path, width, 844)
        page.on("dialog", lambda dialog: dialog.accept())  # "Unsubscribe this reader …?"
        sign_in(page, base)

        # Add a reader: without the recorded consent it is refused and the form keeps it all.
        page.goto(f"{base}/subscribers")
        page.locator("#add-reader summary").click()
        page.locator("#new-email").fill("new.reader@example.org")
        page.locator("#new-name").fill("Nora Reader")
        page.locator("#new-language").fill("en")
        page.get_by_role("button", name="Add reader").click()
        expect(page.locator("#add-reader").get_by_role("alert")).to_contain_text("consent")
        expect(page.locator("#new-email")).to_have_value("new.reader@example.org")
        expect(page.locator("#new-name")).to_have_value("Nora Reader")
        page.get_by_label("The reader agreed to receive this list").check()
        page.get_by_role("button", name="Add reader").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Added to The Weekly Dispatch, confirmed"
        )
        expect(page.get_by_role("heading", level=1)).to_have_text("new.reader@example.org")

        # Correct the address, name and language; a bad language is refused, typing kept.
        page.locator("#fix-email").fill("nora.reader@example.org")
        page.locator("#fix-name").fill("Nora Q. Reader")
        page.locator("#fix-language").fill("not a language!")
        page.get_by_role("button", name="Save corrections").click()
        expect(page.locator("#details").get_by_role("alert")).to_contain_text("language:")
        expect(page.locator("#fix-email")).to_have_value("nora.reader@example.org")
        page.locator("#fix-language").fill("zh-Hant")
        page.get_by_role("button", name="Save corrections").click()
        expect(page.locator("#details").get_by_role("status")).to_contain_text(
            "address, name, language corrected"
        )
        expect(page.get_by_role("heading", level=1)).to_have_text("nora.reader@example.org")

        # A reader who leaves their only list shows as such, here and in the list of readers.
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.locator("#reader-state")).to_contain_text("left every list")
        page.screenshot(path=str(shots / f"subscriber-left-{width}.png"), full_page=True)
        page.goto(f"{base}/subscribers?q=nora")
        expect(page.locator("table")).to_contain_text("left every list")

        # The list page gives its signup address and a form to paste into the publisher's site.
        page.goto(f"{base}/lists/{seeded_desk.list_id}")
        expect(page.locator("#signup-url")).to_have_text(f"{base}/signup/weekly")
        embed = page.locator("#embed-form").input_value()
        assert f'action="{base}/signup/weekly"' in embed
        assert 'name="email"' in embed
        assert "<script" not in embed
        page.screenshot(path=str(shots / f"list-signup-{width}.png"), full_page=True)

        # A reader who unsubscribes after the issue reached them: delivered and unsubscribed.
        page.goto(f"{base}/subscribers?q=mara")
        page.get_by_role("link", name="mara.ellison@example.org").click()
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.locator("#reader-state")).to_contain_text("left every list")
        page.goto(f"{base}/issues/{seeded_desk.sent_issue_id}")
        facts = page.locator("#report-facts")
        expect(facts).to_contain_text("Unsubscribed1")
        expect(facts).to_contain_text("Delivered1")
        expect(facts).to_contain_text("Failed0")
