"""The whole reader path over real HTTP, with the embedded worker sending the confirmation.

signup (form POST) -> confirmation email in the outbox (sent by the Celery task) -> confirm
link -> an issue arrives with List-Unsubscribe headers -> one-click POST -> the next issue
does not go to that reader, and the first issue's report counts the unsubscription.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from distributor.adapters.outbox import OutboxEmailSender
from distributor.config import Settings
from distributor.db.models import Article, Delivery, Subscriber
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.sources import SourceKind
from distributor.domain.subscribers import OptIn
from distributor.services import issues, sending
from distributor.services.ingest import builtin_source
from distributor.services.reports import issue_report
from distributor.services.subscribers import add_subscriber, create_list
from tests.conftest import make_settings
from tests.support.live_app import live_app
from tests.support.outbox import body_text, read_outbox

READER = "reader@example.org"
STAYER = "stays@example.org"


def _wait_for_mail(folder: Path, prefix: str, timeout: float = 90.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read_outbox(folder, prefix) if folder.exists() else []
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {prefix}* message arrived in {folder} within {timeout} s")


def _send_issue(settings: Settings, article_id: int, subject: str) -> int:
    with unit_of_work(settings.database_url) as session:
        issue = issues.create_issue(session, ["weekly"], subject, [article_id])
        issue_id = issue.id
        sending.start_issue_now(session, issue_id)
    session = session_factory(settings.database_url)()
    try:
        sending.dispatch_due(session, settings)
        sending.run_sending_inline(
            session, settings, OutboxEmailSender(settings.outbox_dir), issue_id, max_seconds=60
        )
    finally:
        session.close()
    return issue_id


def _recipients(settings: Settings, issue_id: int) -> dict[str, str]:
    with session_factory(settings.database_url)() as session:
        rows = session.execute(
            select(Subscriber.email, Delivery.status)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.issue_id == issue_id)
        ).all()
    return {str(email): str(status) for email, status in rows}


@pytest.mark.slow  # end to end: an embedded worker thread delivers every email
def test_signup_confirm_receive_one_click_and_excluded_next_time(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.celery_app import app as celery_app
    from workers.embedded import EmbeddedRuntime

    settings = use_settings(make_settings(tmp_path, sqlite_url))
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        add_subscriber(session, STAYER, "weekly", confirmed=True)
        article = Article(
            guid="urn:test:harbour-1",
            source_id=builtin_source(session, SourceKind.DESK).id,
            canonical_url="https://magazine.example.org/harbour",
            title="The harbour at dawn",
            body_html="<p>Fishing boats come home before the tide turns.</p>",
            content_hash="0" * 64,
        )
        session.add(article)
        session.flush()
        article_id = article.id

    # A long tick: the periodic scans run once at start and never race the test.
    runtime = EmbeddedRuntime(celery_app, tick_seconds=3600)
    runtime.start()
    try:
        with live_app(settings) as base, httpx.Client(base_url=base) as client:
            signup = client.post("/signup/weekly", data={"email": READER, "name": "Mei"})
            assert signup.status_code == 200
            assert "Check your inbox" in signup.text

            confirmation = _wait_for_mail(settings.outbox_dir, "confirmation-")
            assert READER in str(confirmation["To"])
            link = re.search(r"https://news\.example\.org(/confirm/\S+)", body_text(confirmation))
            assert link is not None
            assert "Yes, subscribe me" in client.get(link.group(1)).text
            confirmed = client.post(link.group(1))
            assert confirmed.status_code == 200
            assert "Subscription confirmed" in confirmed.text

            first_issue = _send_issue(settings, article_id, "First light")
            assert _recipients(settings, first_issue) == {READER: "sent", STAYER: "sent"}
            with session_factory(settings.database_url)() as session:
                delivery_id = session.scalar(
                    select(Delivery.id)
                    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                    .where(Delivery.issue_id == first_issue, Subscriber.email == READER)
                )
            mail = _wait_for_mail(
                settings.outbox_dir, f"issue-{first_issue}-delivery-{delivery_id}"
            )
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            header = re.fullmatch(r"<(https://[^>]+)>", str(mail["List-Unsubscribe"]).strip())
            assert header is not None, mail["List-Unsubscribe"]
            target = urlsplit(header.group(1))
            assert target.netloc == "news.example.org"

            # The mailbox provider's POST: no cookies, no login, form-encoded, no redirect.
            with httpx.Client(base_url=base, follow_redirects=False) as provider:
                answer = provider.post(
                    target.path,
                    content=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            assert answer.status_code == 200
            assert "location" not in answer.headers
            assert "set-cookie" not in answer.headers

            second_issue = _send_issue(settings, article_id, "High tide")
            assert _recipients(settings, second_issue) == {STAYER: "sent"}
            assert not read_outbox(
                settings.outbox_dir, f"issue-{second_issue}-delivery-{delivery_id}"
            )

            with session_factory(settings.database_url)() as session:
                report = issue_report(session, first_issue, settings)
            assert report["sent"] == 2
            assert report["unsubscribed"] == 1
            assert report["complained"] == 0
    finally:
        runtime.stop()
