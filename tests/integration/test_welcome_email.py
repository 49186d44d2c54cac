"""The welcome email of a list: written in Markdown (CLI and desk), sent once to each reader
right after their subscription becomes active, through the real app, the real embedded worker
and the outbox sender."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from distributor.adapters.email_base import (
    OutgoingBatch,
    SendReceipt,
    TransientDeliveryError,
)
from distributor.adapters.outbox import OutboxEmailSender
from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import (
    Issue,
    IssueList,
    MailingList,
    WelcomeDelivery,
)
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.activation import take_activated
from distributor.services.subscribers import add_subscriber, create_list, sign_up
from distributor.services.users import create_user
from distributor.services.welcome import send_welcome, set_welcome, welcome_html
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import PASSWORD, sign_in
from tests.support.live_app import live_app
from tests.support.outbox import body_text, read_outbox
from workers.embedded import EmbeddedRuntime

WELCOME = """## Glad you are here

Every Friday we send **three reported stories** from river towns.
Read [how we protect our sources](https://magazine.example.org/sources).

<script>alert("welcome")</script>

[a trap](javascript:alert(1)) and ![a tracker](https://tracker.example.net/pixel.gif)
"""


def _html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")


def _wait_for(folder: Path, prefix: str, count: int) -> list[Message]:
    """The outbox messages named ``prefix``… once there are ``count`` (the worker is another
    thread); fails after a generous deadline."""
    deadline = time.monotonic() + 30
    while True:
        found = read_outbox(folder, prefix) if folder.exists() else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _sent_issue(settings: Settings, list_id: int, token: str, started: datetime) -> None:
    with unit_of_work(settings.database_url) as db:
        issue = Issue(
            subject=f"Issue {token}",
            status="sent",
            started_at=started,
            finished_at=started,
            web_token=token,
        )
        issue.lists = [IssueList(list_id=list_id)]
        db.add(issue)


def _welcome_rows(settings: Settings) -> int:
    with unit_of_work(settings.database_url) as db:
        return int(db.scalar(select(func.count()).select_from(WelcomeDelivery)) or 0)


@pytest.fixture
def worker_site(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> Iterator[tuple[Settings, httpx.Client, int]]:
    """The app on a real port with the embedded worker; a double opt-in list with a welcome
    email and two issues that went out."""
    from workers import tasks
    from workers.celery_app import app as celery_app

    settings = use_settings(make_settings(tmp_path, sqlite_url))
    with unit_of_work(settings.database_url) as session:
        weekly = create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        set_welcome(session, "weekly", WELCOME)
        list_id = weekly.id
    _sent_issue(settings, list_id, "older-issue-token", datetime(2026, 11, 1, tzinfo=UTC))
    _sent_issue(settings, list_id, "latest-issue-token", datetime(2026, 12, 1, tzinfo=UTC))
    tasks._email_senders.clear()  # one sender per process; this test has its own outbox
    runtime = EmbeddedRuntime(celery_app, tick_seconds=3600)
    runtime.start()
    try:
        with live_app(settings) as base, httpx.Client(base_url=base) as client:
            yield settings, client, list_id
    finally:
        runtime.stop()
        tasks._email_senders.clear()


def test_double_opt_in_reader_gets_the_welcome_once_after_confirming(
    worker_site: tuple[Settings, httpx.Client, int],
) -> None:
    settings, client, list_id = worker_site
    outbox = settings.outbox_dir
    assert client.post("/signup/weekly", data={"email": "reader@example.org"}).status_code == 200
    [confirmation] = _wait_for(outbox, "confirmation-", 1)
    # Not active yet: no welcome before the reader confirms.
    assert read_outbox(outbox, "welcome-") == [] if outbox.exists() else True
    link = re.search(r"https?://[^/\s]+(/confirm/[A-Za-z0-9_-]+)", body_text(confirmation))
    assert link is not None
    assert client.post(link.group(1)).status_code == 200
    [welcome] = _wait_for(outbox, "welcome-", 1)
    assert "reader@example.org" in str(welcome["To"])
    assert str(welcome["Subject"]) == "Welcome to The Weekly"
    assert welcome["List-Unsubscribe"] is not None
    html = _html_part(welcome)
    text = body_text(welcome)
    assert "<h2>Glad you are here</h2>" in html
    assert "<strong>three reported stories</strong>" in html
    assert 'href="https://magazine.example.org/sources"' in html
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html  # an image from elsewhere would be a request on opening
    assert "/archive/latest-issue-token" in html
    assert "/archive/latest-issue-token" in text
    assert "older-issue-token" not in html
    assert "Glad you are here" in text

    # A second click on the link, and the task run again: still one welcome email.
    assert client.post(link.group(1)).status_code == 200
    with unit_of_work(settings.database_url) as db:
        subscriber_id = db.scalar(select(WelcomeDelivery.subscriber_id))
        assert subscriber_id is not None
    from workers.tasks import send_welcome as task

    arguments = json.loads(json.dumps([subscriber_id, list_id]))
    assert task.apply(args=arguments).get() == {"sent": False}
    assert task.apply(args=arguments).get() == {"sent": False}
    time.sleep(0.2)  # give a wrongly queued second welcome the chance to show up
    assert len(read_outbox(outbox, "welcome-")) == 1
    assert _welcome_rows(settings) == 1
    with unit_of_work(settings.database_url) as db:
        row = db.scalar(select(WelcomeDelivery))
        assert row is not None
        assert row.status == "sent"
        assert row.sent_at is not None


def test_single_opt_in_signup_is_welcomed_and_a_list_without_welcome_sends_none(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    sender = OutboxEmailSender(settings.outbox_dir)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "daily", title="The Daily", opt_in=OptIn.SINGLE)
        create_list(db, "quiet", title="The Quiet", opt_in=OptIn.SINGLE)
        set_welcome(db, "daily", "Hello and *welcome*.")
        daily = sign_up(db, "daily", "ana@example.org")
        quiet = sign_up(db, "quiet", "ana@example.org")
        activated = take_activated(db)
    assert daily.subscriber_id is not None
    assert activated == [(daily.subscriber_id, daily.list_id), (quiet.subscriber_id, quiet.list_id)]
    with unit_of_work(settings.database_url) as db:
        assert send_welcome(db, settings, daily.subscriber_id, daily.list_id, sender)
        assert not send_welcome(db, settings, daily.subscriber_id, quiet.list_id, sender)
        assert not send_welcome(db, settings, daily.subscriber_id, daily.list_id, sender)
    [mail] = read_outbox(settings.outbox_dir, "welcome-")
    assert "<em>welcome</em>" in _html_part(mail)
    # No latest issue yet: no issue link.
    assert "/archive/" not in _html_part(mail)
    assert _welcome_rows(settings) == 1


def test_readers_added_by_an_operator_are_not_marked_for_a_welcome(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "daily", opt_in=OptIn.SINGLE)
        add_subscriber(db, "bo@example.org", "daily", confirmed=True)
        assert take_activated(db) == []


class _BusyThenFine:
    """An email sender (the port's twin) that is busy once, then writes to the outbox."""

    def __init__(self, folder: Path) -> None:
        self.calls = 0
        self._outbox = OutboxEmailSender(folder)

    def send_batch(self, batch: OutgoingBatch) -> SendReceipt:
        self.calls += 1
        if self.calls == 1:
            raise TransientDeliveryError("429 too many requests", retry_after=1)
        return self._outbox.send_batch(batch)

    def close(self) -> None:
        self._outbox.close()


def test_a_transient_failure_gives_the_claim_back_so_a_retry_sends_it(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    sender = _BusyThenFine(settings.outbox_dir)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "daily", opt_in=OptIn.SINGLE)
        set_welcome(db, "daily", "Hello.")
        result = sign_up(db, "daily", "cy@example.org")
    assert result.subscriber_id is not None
    with (
        unit_of_work(settings.database_url) as db,
        pytest.raises(TransientDeliveryError),
    ):
        send_welcome(db, settings, result.subscriber_id, result.list_id, sender)
    assert _welcome_rows(settings) == 0
    with unit_of_work(settings.database_url) as db:
        assert send_welcome(db, settings, result.subscriber_id, result.list_id, sender)
    assert len(read_outbox(settings.outbox_dir, "welcome-")) == 1


def test_two_concurrent_tasks_send_one_welcome(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path, postgres_url)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "daily", opt_in=OptIn.SINGLE)
        set_welcome(db, "daily", "Hello.")
        result = sign_up(db, "daily", "di@example.org")
    assert result.subscriber_id is not None
    subscriber_id, list_id = result.subscriber_id, result.list_id
    outcomes: list[bool] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        with unit_of_work(settings.database_url) as db:
            outcomes.append(
                send_welcome(
                    db, settings, subscriber_id, list_id, OutboxEmailSender(settings.outbox_dir)
                )
            )

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, False, False, True]
    assert len(read_outbox(settings.outbox_dir, "welcome-")) == 1


def test_markdown_is_rendered_without_html_images_or_unsafe_links() -> None:
    html = welcome_html(WELCOME)
    assert "<h2>Glad you are here</h2>" in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html
    assert "[a trap](javascript:alert(1))" in html  # left as text, not made a link
    assert "<img" not in html
    assert 'src="https://tracker.example.net' not in html


def test_the_cli_sets_shows_and_clears_the_welcome_email(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    with unit_of_work(settings.database_url) as db:
        create_list(db, "weekly", title="The Weekly")
    source = tmp_path / "welcome.md"
    source.write_text("# Welcome\n\nThank you for reading.\n", encoding="utf-8")
    runner = CliRunner()
    saved = runner.invoke(cli, ["lists", "welcome", "weekly", "--file", str(source)])
    assert saved.exit_code == 0, saved.output
    assert "welcome email saved" in saved.output
    shown = runner.invoke(cli, ["lists", "welcome", "weekly", "--json"])
    assert json.loads(shown.stdout)["welcome_markdown"] == "# Welcome\n\nThank you for reading."
    missing = runner.invoke(cli, ["lists", "welcome", "weekly", "--file", str(tmp_path / "no.md")])
    assert missing.exit_code == 1
    assert "no.md: cannot read it" in missing.output
    unknown = runner.invoke(cli, ["lists", "welcome", "nosuch", "--file", str(source)])
    assert unknown.exit_code == 1
    assert "no list named 'nosuch'" in unknown.output
    cleared = runner.invoke(cli, ["lists", "welcome", "weekly", "--clear"])
    assert cleared.exit_code == 0
    with unit_of_work(settings.database_url) as db:
        weekly = db.scalar(select(MailingList).where(MailingList.name == "weekly"))
        assert weekly is not None
        assert weekly.welcome_markdown is None


def test_the_desk_previews_and_saves_the_welcome_email(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    with unit_of_work(settings.database_url) as db:
        create_user(db, "editor@example.org", PASSWORD, role="editor")
        list_id = create_list(db, "weekly", title="The Weekly").id
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        token = sign_in(client, "editor@example.org")
        preview = client.post(
            f"/lists/{list_id}/welcome",
            data={"csrf_token": token, "welcome_markdown": WELCOME, "action": "preview"},
        )
        assert preview.status_code == 200
        assert "<h2>Glad you are here</h2>" in preview.text
        assert "not saved yet" in preview.text
        assert '<script>alert("welcome")' not in preview.text
        with unit_of_work(settings.database_url) as db:
            weekly = db.get(MailingList, list_id)
            assert weekly is not None
            assert weekly.welcome_markdown is None
        saved = client.post(
            f"/lists/{list_id}/welcome",
            data={"csrf_token": token, "welcome_markdown": WELCOME, "action": "save"},
        )
        assert "Welcome email of weekly saved" in saved.text
        assert "<strong>three reported stories</strong>" in saved.text
    with unit_of_work(settings.database_url) as db:
        weekly = db.get(MailingList, list_id)
        assert weekly is not None
        assert weekly.welcome_markdown == WELCOME.strip()


def test_joining_a_list_on_the_preferences_page_marks_it_for_a_welcome(
    tmp_path: Path, database_url: str
) -> None:
    from distributor.services.subscribers import update_preferences

    settings = make_settings(tmp_path, database_url)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "weekly", opt_in=OptIn.SINGLE)
        daily = create_list(db, "daily", opt_in=OptIn.DOUBLE)
        membership = add_subscriber(db, "eve@example.org", "weekly", confirmed=True)
        take_activated(db)
        update_preferences(
            db,
            membership.subscriber_id,
            wanted_list_ids={membership.list_id, daily.id},
            language=None,
            name=None,
        )
        # Only the list the reader just joined: staying on weekly is no new subscription.
        assert take_activated(db) == [(membership.subscriber_id, daily.id)]
