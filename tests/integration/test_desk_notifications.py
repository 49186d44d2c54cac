"""Desk notifications on SQLite and PostgreSQL: an issue that finishes, is paused for errors
or is held tells the desk users once, with a link; failed sends are retried, then given up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.adapters.email_base import email_sender_for
from distributor.config import Settings
from distributor.db.models import Article, DeskNotification, IssueArticle
from distributor.services import sending
from distributor.services.desk_notifications import (
    MAX_ATTEMPTS,
    NotificationKind,
    deliver_notifications,
    record_notification,
)
from distributor.services.issues import create_issue, schedule_issue
from tests.conftest import make_settings
from tests.factories.audience import address, article_row, bulk_subscribers, make_list
from tests.factories.schedules import desk_user
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid, Faults
from tests.support.outbox import body_text, read_outbox


def _notifications(db: Session) -> list[tuple[str, int, str]]:
    db.expire_all()
    return [
        (row.kind, row.issue_id, row.status)
        for row in db.scalars(select(DeskNotification).order_by(DeskNotification.id))
    ]


def _issue(db: Session, readers: int = 3) -> int:
    mailing_list = make_list(db)
    bulk_subscribers(db, mailing_list.id, readers)
    article = article_row(db)
    desk_user(db, "editor@news.example.org")
    issue = create_issue(db, ["weekly"], "The river issue", [article.id])
    db.commit()
    return issue.id


def _sendgrid_settings(tmp_path: Path, database_url: str, host: str, **extra: str) -> Settings:
    values = {
        "MAIL_FROM": "news@news.example.org",
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": host,
        "SENDGRID_TIMEOUT_SECONDS": "2",
        "SEND_RETRY_BASE_SECONDS": "0.1",
    }
    return make_settings(tmp_path, database_url, **{**values, **extra})


def test_a_finished_issue_tells_the_desk_once_with_its_report_link(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, MAIL_BACKEND="outbox")
    issue_id = _issue(db)
    sending.start_issue_now(db, issue_id)
    db.commit()
    sending.dispatch_due(db, settings)
    sending.run_sending_inline(db, settings, email_sender_for(settings), issue_id, max_seconds=30)
    assert _notifications(db) == [("finished", issue_id, "pending")]
    # Whoever notices the end again (the sweeper, a repeated task) records nothing new.
    assert not sending.finish_issue_if_done(db, issue_id)
    assert _notifications(db) == [("finished", issue_id, "pending")]

    report = deliver_notifications(db, settings)
    assert report.sent == 1
    assert _notifications(db) == [("finished", issue_id, "sent")]
    assert deliver_notifications(db, settings).sent == 0
    [message] = read_outbox(settings.outbox_dir, "desk-notification-")
    assert message["To"] == "editor@news.example.org"
    assert message["Subject"] == "Issue sent: The river issue"
    text = body_text(message)
    assert f"https://news.example.org/issues/{issue_id}" in text
    # It speaks of the issue, never of its readers.
    assert address("reader", 1) not in message.as_string()


def test_an_issue_paused_for_errors_tells_the_desk_why(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    fake = FakeSendGrid().start()
    try:
        settings = _sendgrid_settings(
            tmp_path,
            database_url,
            fake.host,
            SENDGRID_API_KEY="SG.wrong.key",
            SEND_MAX_CONSECUTIVE_FAILURES="2",
            SEND_BATCH_SIZE="1",
        )
        issue_id = _issue(db, readers=4)
        sending.start_issue_now(db, issue_id)
        db.commit()
        sending.dispatch_due(db, settings)
        sending.run_sending_inline(
            db, settings, email_sender_for(settings), issue_id, max_seconds=5
        )
    finally:
        fake.stop()
    [row] = db.scalars(select(DeskNotification)).all()
    assert (row.kind, row.issue_id) == ("paused", issue_id)
    assert "2 failed requests in a row" in (row.detail or "")


def test_a_held_issue_tells_the_desk_once(db: Session, tmp_path: Path, database_url: str) -> None:
    issue_id = _issue(db)
    send_at = datetime(2030, 3, 1, 8, tzinfo=UTC)
    schedule_issue(db, issue_id, send_at)
    db.commit()
    # The CMS moved the story's embargo after the issue was scheduled.
    article_id = db.scalars(
        select(IssueArticle.article_id).where(IssueArticle.issue_id == issue_id)
    ).one()
    article = db.get(Article, article_id)
    assert article is not None
    article.embargo_until = send_at + timedelta(hours=2)
    db.commit()
    settings = make_settings(tmp_path, database_url, MAIL_BACKEND="outbox")
    assert sending.dispatch_due(db, settings, now=send_at).held == [issue_id]
    assert sending.dispatch_due(db, settings, now=send_at + timedelta(minutes=1)).held == []
    [row] = db.scalars(select(DeskNotification)).all()
    assert (row.kind, row.issue_id) == ("held", issue_id)
    assert "embargo" in (row.detail or "")


def test_failed_sends_are_retried_then_given_up(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    issue_id = _issue(db)
    assert record_notification(db, NotificationKind.DRAFT_READY, issue_id)
    assert not record_notification(db, NotificationKind.DRAFT_READY, issue_id)
    db.commit()
    fake = FakeSendGrid(Faults(share_500=1.0)).start()
    try:
        settings = _sendgrid_settings(tmp_path, database_url, fake.host)
        outcomes = [deliver_notifications(db, settings) for _ in range(MAX_ATTEMPTS)]
    finally:
        fake.stop()
    assert [item.retrying for item in outcomes] == [1] * (MAX_ATTEMPTS - 1) + [0]
    assert outcomes[-1].failed == 1
    assert _notifications(db) == [("draft_ready", issue_id, "failed")]
    assert not fake.state.accepted


def test_the_message_escapes_what_the_issue_says(tmp_path: Path) -> None:
    from distributor.db.models import Issue
    from distributor.services.desk_notifications import build_message

    settings = make_settings(tmp_path)
    issue = Issue(id=7, subject="<script>alert(1)</script> & co", status="draft")
    message = build_message(settings, NotificationKind.HELD, issue, "held: <img src=x>")
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in message.html
    assert "&lt;img src=x&gt;" in message.html
    assert message.subject == "Issue held: <script>alert(1)</script> & co"
    assert "https://news.example.org/issues/7" in message.text
