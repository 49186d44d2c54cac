"""The editor's whole day in a real headless Chromium against a real ``distributor serve``.

sign in → review an ingested story and add a missing credit → compose an issue of three
stories → preview → test send → schedule → watch it go out (embedded worker and scheduler in
the serving process) → open the report and the web archive page.

Screenshots of every step are written to ``tests/artifacts/desk/``.
"""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.ingest import ingest_path
from distributor.services.subscribers import add_subscriber, create_list
from distributor.services.users import create_user
from tests.conftest import free_port
from tests.support.serve_process import inherited_environment, running_serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FEED = Path(__file__).with_name("desk_feed.xml")
EDITOR_EMAIL = "desk.editor@example.org"
EDITOR_PASSWORD = "harbour-light-desk"
READERS = ("ana.reader@example.org", "bo.reader@example.org")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class RunningDesk:
    """A served desk: its address, outbox folder and log file."""

    base_url: str
    outbox: Path
    log: Path
    database_url: str = ""


def _seed(database_url: str) -> None:
    upgrade(database_url)
    with unit_of_work(database_url) as db:
        outcome = ingest_path(db, FEED)
        assert len(outcome.stored.created) == 3, outcome.report
        create_list(db, "harbour-weekly", title="Harbour Light Weekly")
        for address in READERS:
            add_subscriber(db, address, "harbour-weekly", confirmed=True)
        create_user(db, EDITOR_EMAIL, EDITOR_PASSWORD, name="Desk Editor", role="editor")
    engine_for(database_url).dispose()


@pytest.fixture
def running_desk(tmp_path: Path) -> Iterator[RunningDesk]:
    port = free_port()
    data_dir = tmp_path / "var"
    outbox = tmp_path / "outbox"
    database_url = f"sqlite:///{(data_dir / 'distributor.db').as_posix()}"
    _seed(database_url)
    env = inherited_environment()
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "OUTBOX_DIR": str(outbox),
            "SECRET_KEY": "browser-test-secret-0123456789",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "SCHEDULER_TICK_SECONDS": "1",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
    )
    log = tmp_path / "serve.log"
    with running_serve([], env, port, log):
        yield RunningDesk(f"http://127.0.0.1:{port}", outbox, log, database_url)


def _subjects(outbox: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        found.append(
            (
                str(make_header(decode_header(message["To"] or ""))),
                str(make_header(decode_header(message["Subject"] or ""))),
            )
        )
    return found


def test_editor_reviews_composes_schedules_and_sees_the_report(
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
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(20_000)

        def shot(name: str, full_page: bool = True) -> None:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=full_page)

        # 1. Signing in: the desk itself sends anonymous visitors to the sign-in page.
        page.goto(base + "/")
        expect(page).to_have_url(base + "/login")
        page.get_by_label("Email address").fill(EDITOR_EMAIL)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_contain_text("Check both and try again")
        shot("01-sign-in-error")
        page.get_by_label("Password").fill(EDITOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # The desk's home lists what needs fixing: the story whose photo has no credit.
        expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()
        expect(page.locator("#dash-stories")).to_contain_text(
            "The ferry workers who keep the island running"
        )
        shot("02-home")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Articles").click()
        expect(page.get_by_role("heading", name="Articles")).to_be_visible()
        expect(page.get_by_text("3 articles")).to_be_visible()
        shot("02-article-list")

        # 2. Review an ingested story; its photo came without a credit.
        page.get_by_role("link", name="The ferry workers who keep the island running").click()
        warnings = page.locator("#warnings")
        expect(warnings).to_contain_text("Image 1 has no credit")
        expect(page.locator("#notes-text")).to_have_value(
            "*Names have been changed to protect sources."
        )
        shot("03-story-with-missing-credit")
        page.get_by_label(re.compile(r"^Credit")).fill("Mira Solberg / Harbour Light")
        page.get_by_role("button", name="Save image 1").click()
        expect(page.get_by_role("status")).to_contain_text("Image details saved")
        expect(page.locator("#warnings-none")).to_be_visible()
        shot("04-credit-added")

        # 3. Compose an issue of the three stories.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Articles").click()
        for title in (
            "The ferry workers who keep the island running",
            "A night at the fish market",
            "Where the harbour money went",
        ):
            page.get_by_label(f"Select “{title}”").check()
        page.get_by_role("button", name="Create issue from selected").click()
        expect(page.get_by_role("heading", name="New issue")).to_be_visible()
        page.get_by_label(re.compile(r"^Subject")).fill("Harbour Light Weekly: the island at work")
        page.get_by_label(re.compile(r"^Preheader")).fill("Ferries, fish and a ledger")
        page.get_by_label("Editor’s note").fill(
            "Three stories about the people who keep the harbour going."
        )
        page.get_by_label("Harbour Light Weekly").check()
        shot("05-new-issue")
        page.get_by_role("button", name="Create draft").click()
        expect(page.get_by_role("heading", name="Issue #")).to_be_visible()
        issue_url = page.url
        # Move the market story to the top.
        page.get_by_role("button", name="Move “A night at the fish market” up").click()
        first = page.locator("ol.issue-articles > li").first
        expect(first).to_contain_text("A night at the fish market")

        # 4. Preview: desktop and phone frames, plain text, size against the budget.
        desktop = page.frame_locator("iframe.preview-desktop")
        expect(
            desktop.get_by_text("The ferry workers who keep the island running").first
        ).to_be_visible()
        mobile = page.frame_locator("iframe.preview-mobile").frame_locator("iframe")
        expect(mobile.get_by_text("A night at the fish market").first).to_be_visible()
        expect(page.locator("#size-badge")).to_contain_text("kB of")
        expect(page.locator("#plain-text pre")).to_contain_text("Mira Solberg / Harbour Light")
        page.locator("#preview").scroll_into_view_if_needed()
        shot("06-preview")

        # 5. Test send.
        page.get_by_label(re.compile(r"^Addresses")).fill("proofreader@example.org")
        page.get_by_role("button", name="Send test").click()
        expect(page.get_by_role("status")).to_contain_text("Test sent to proofreader@example.org")
        shot("07-test-sent")
        tests = [item for item in _subjects(running_desk.outbox) if "proofreader" in item[0]]
        assert len(tests) == 1
        assert tests[0][1].startswith("[TEST]")

        # 6. Schedule: a time that has just come, in an explicit zone.
        now = datetime.now(UTC)
        page.get_by_label("Date", exact=True).fill(now.strftime("%Y-%m-%d"))
        page.get_by_label("Time", exact=True).fill(now.strftime("%H:%M"))
        page.get_by_label(re.compile(r"^Time zone")).fill("UTC")
        page.locator("#schedule-button").click()
        # The pre-flight dialog asks first, with the number of recipients.
        expect(page.locator("#preflight")).to_contain_text("2 recipients")
        page.locator("#preflight-confirm").click()
        # The scheduler may pick it up at once; the page then moves on to the send by itself.
        expect(page.locator("#issue-status")).not_to_have_text("draft")
        shot("08-scheduled")

        # 7. The worker sends it; the page follows by itself (it polls and reloads).
        expect(page.locator("#issue-status")).to_have_text("sent", timeout=90_000)
        expect(page.locator("#report")).to_be_visible()
        shot("09-sent-with-report")
        sent = [
            item
            for item in _subjects(running_desk.outbox)
            if "proofreader" not in item[0] and EDITOR_EMAIL not in item[0]
        ]
        assert sorted(to.split()[-1].strip("<>") for to, _ in sent) == sorted(READERS)
        assert all(subject == "Harbour Light Weekly: the island at work" for _, subject in sent)
        # The desk hears that the issue finished (the notification task runs every tick).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            EDITOR_EMAIL,
            "Issue sent: Harbour Light Weekly: the island at work",
        ) not in _subjects(running_desk.outbox):
            time.sleep(0.2)
        assert (EDITOR_EMAIL, "Issue sent: Harbour Light Weekly: the island at work") in _subjects(
            running_desk.outbox
        )

        # 8. The report and the web archive page.
        report = page.locator("#report")
        expect(report).to_contain_text("2")
        expect(page.locator("#report-facts")).to_contain_text("Delivered")
        archive = page.locator("#archive-link")
        expect(archive).to_be_visible()
        archive.click()
        expect(
            page.get_by_text("The ferry workers who keep the island running").first
        ).to_be_visible()
        shot("10-web-archive")

        # The same desk on a phone-sized screen stays usable.
        phone = browser.new_context(
            viewport={"width": 375, "height": 812}, storage_state=context.storage_state()
        )
        phone_page = phone.new_page()
        phone_page.goto(issue_url)
        expect(phone_page.locator("#issue-status")).to_have_text("sent")
        phone_page.screenshot(path=str(shots / "11-issue-on-a-phone.png"), full_page=True)
        phone.close()
        browser.close()


def test_send_now_is_refused_for_an_embargo_then_confirmed_with_the_recipient_count(
    running_desk: RunningDesk, chromium_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import select

    from distributor.db.models import Article

    secret = "Where the harbour money went"
    with unit_of_work(running_desk.database_url) as db:
        article = db.scalars(select(Article).where(Article.title == secret)).one()
        article.embargo_until = datetime(2030, 1, 1, 6, 0, tzinfo=UTC)
    engine_for(running_desk.database_url).dispose()
    shots = artifacts_dir / "desk"
    shots.mkdir(parents=True, exist_ok=True)
    base = running_desk.base_url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(20_000)
        page.on("dialog", lambda dialog: dialog.accept())  # "Remove this story?"
        page.goto(base + "/login")
        page.get_by_label("Email address").fill(EDITOR_EMAIL)
        page.get_by_label("Password").fill(EDITOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Articles").click()
        expect(page.get_by_role("heading", name="Articles")).to_be_visible()
        for title in ("A night at the fish market", secret):
            page.get_by_label(f"Select “{title}”").check()
        page.get_by_role("button", name="Create issue from selected").click()
        page.get_by_label(re.compile(r"^Subject")).fill("The harbour this week")
        page.get_by_label("Harbour Light Weekly").check()
        page.get_by_role("button", name="Create draft").click()
        expect(page.get_by_role("heading", name="Issue #")).to_be_visible()

        # Send now with an embargoed story: refused, naming the story and its embargo.
        page.get_by_label(re.compile(r"^Time zone")).fill("Asia/Hong_Kong")
        page.locator("#send-now").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Cannot send now")
        expect(page.locator("#preflight-blocking")).to_contain_text(f"“{secret}”")
        expect(page.locator("#preflight-blocking")).to_contain_text(
            "embargoed until 2030-01-01 14:00 Asia/Hong_Kong (2030-01-01 06:00 UTC)"
        )
        expect(page.locator("#preflight-confirm")).to_have_count(0)
        page.screenshot(path=str(shots / "20-send-now-refused-embargo.png"), full_page=True)
        expect(page.locator("#issue-status")).to_have_text("draft")

        # Take the story out; Send now asks with the recipient count, then says "Sending…".
        page.get_by_role("button", name=f"Remove “{secret}”").click()
        expect(page.get_by_role("status")).to_contain_text("Story removed")
        page.locator("#send-now").click()
        expect(dialog).to_contain_text("Send now?")
        expect(page.locator("#preflight-recipients")).to_contain_text("2 recipients")
        confirm = page.locator("#preflight-confirm")
        expect(confirm).to_have_text(re.compile(r"^Send now to 2 recipients"))
        page.screenshot(path=str(shots / "21-send-now-confirmation.png"), full_page=True)
        confirm.click()
        expect(page.get_by_role("status")).to_contain_text("Sending…")
        expect(page.locator("#issue-status")).to_have_text("sent", timeout=90_000)
        page.screenshot(path=str(shots / "22-sent-after-confirmation.png"), full_page=True)
        browser.close()

    sent = [item for item in _subjects(running_desk.outbox) if item[1] == "The harbour this week"]
    assert sorted(to.split()[-1].strip("<>") for to, _ in sent) == sorted(READERS)
    bodies = [
        part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
        for path in running_desk.outbox.glob("*.eml")
        for part in email.message_from_bytes(path.read_bytes()).walk()
        if not part.is_multipart()
    ]
    assert any("A night at the fish market" in body for body in bodies)
    assert not any(secret in body for body in bodies)
