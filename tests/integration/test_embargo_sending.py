"""Embargoes hold in every mailed output: send now, schedule, the dispatcher, the batch sender,
test sends and the public web archive (SQLite and PostgreSQL, outbox sender, moved clock)."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.adapters.outbox import OutboxEmailSender
from distributor.config import Settings
from distributor.db.models import Article, Delivery, Image, Issue
from distributor.domain.issues import IssueStatus
from distributor.domain.preflight import ProblemKind, Severity
from distributor.services import sending
from distributor.services.issues import (
    EmbargoError,
    IssueError,
    cancel_issue,
    create_issue,
    preflight_issue,
    resume_issue,
    schedule_issue,
)
from distributor.services.rendering import IssueNotFoundError, archive_page, render_issue_by_id
from distributor.services.users import create_user
from tests.conftest import make_settings
from tests.factories.audience import article_row, make_list, subscribe, suppress

# The clock of these tests: every service gets it; nothing sleeps.
T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
EMBARGO = T0 + timedelta(hours=6)  # 2026-12-05 14:00 UTC = 22:00 in Hong Kong


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"))


def _newsroom(db: Session, readers: int = 3) -> tuple[int, int, int]:
    """A list with ``readers`` readers and an issue of two stories; the second is embargoed."""
    weekly = make_list(db)
    for number in range(1, readers + 1):
        subscribe(db, f"reader{number}@example.org", weekly.id)
    open_story = article_row(db, 1)
    secret = article_row(db, 2)
    secret.title = "Leaked files show the ministry knew"
    secret.embargo_until = EMBARGO
    issue = create_issue(db, ["weekly"], "This week", [open_story.id, secret.id])
    db.commit()
    return issue.id, open_story.id, secret.id


def _mailed(settings: Settings) -> list[tuple[str, str, str]]:
    """(To, Subject, body) of every message in the outbox."""
    found = []
    for path in sorted(settings.outbox_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        body = "".join(
            part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
            for part in message.walk()
            if not part.is_multipart()
        )
        found.append(
            (
                str(make_header(decode_header(message["To"] or ""))),
                str(make_header(decode_header(message["Subject"] or ""))),
                body,
            )
        )
    return found


def _drive(db: Session, settings: Settings, at: datetime) -> sending.DispatchReport:
    """One dispatcher tick at ``at``, then every published batch sent at ``at``."""
    doorbell: list[int] = []
    report = sending.dispatch_due(db, settings, now=at, publish=doorbell.append)
    sender = OutboxEmailSender(settings.outbox_dir)
    while doorbell:
        sending.send_batch(db, settings, sender, doorbell.pop(0), now=lambda: at)
    return report


def _status(db: Session, issue_id: int) -> tuple[str, str | None]:
    db.rollback()
    issue = db.get(Issue, issue_id, populate_existing=True)
    assert issue is not None
    return issue.status, issue.paused_reason


def test_send_now_and_schedule_before_the_embargo_are_refused_naming_story_and_time(
    db: Session, settings: Settings
) -> None:
    issue_id, _, secret_id = _newsroom(db)

    with pytest.raises(EmbargoError) as now_refused:
        sending.start_issue_now(db, issue_id, now=T0)
    message = str(now_refused.value)
    assert "Leaked files show the ministry knew" in message
    assert f"article {secret_id}" in message
    assert "2026-12-05 14:00 UTC" in message
    assert now_refused.value.verdict.earliest_allowed == EMBARGO

    # Scheduled in Hong Kong one hour before the embargo: named in the editor's zone.
    with pytest.raises(EmbargoError) as early:
        schedule_issue(db, issue_id, "2026-12-05T21:00", "Asia/Hong_Kong")
    text = str(early.value)
    assert "embargoed until 2026-12-05 22:00 Asia/Hong_Kong (2026-12-05 14:00 UTC)" in text
    assert "earliest allowed time is 2026-12-05 22:00 Asia/Hong_Kong" in text
    db.rollback()
    assert _status(db, issue_id) == (IssueStatus.DRAFT, None)

    # At the embargo itself it is allowed.
    issue = schedule_issue(db, issue_id, "2026-12-05T22:00", "Asia/Hong_Kong")
    assert issue.status == IssueStatus.SCHEDULED
    assert issue.send_at == EMBARGO


def test_a_schedule_made_before_the_embargo_moved_later_is_held_and_sent_only_after(
    db: Session, settings: Settings
) -> None:
    issue_id, _, secret_id = _newsroom(db)
    # Scheduled at 15:00 UTC, after the embargo as it was then.
    schedule_issue(db, issue_id, T0 + timedelta(hours=7), "Europe/London")
    db.commit()
    # A later CMS revision moves the embargo to the next day.
    moved = T0 + timedelta(days=1)
    article = db.get(Article, secret_id)
    assert article is not None
    article.embargo_until = moved
    db.commit()

    due = T0 + timedelta(hours=7, seconds=5)
    report = _drive(db, settings, due)

    assert report.held == [issue_id]
    assert report.issues == []
    status, reason = _status(db, issue_id)
    assert status == IssueStatus.PAUSED
    assert reason is not None
    assert "Leaked files show the ministry knew" in reason
    assert "2026-12-06 08:00 Europe/London" in reason
    assert _mailed(settings) == []
    assert db.scalar(select(func.count()).select_from(Delivery)) == 0
    # Held: not published on the web either.
    token = db.get(Issue, issue_id).web_token  # type: ignore[union-attr]
    if token:
        with pytest.raises(IssueNotFoundError):
            archive_page(db, settings, token, now=due)

    # Resuming before the embargo is refused; the next ticks keep it held.
    with pytest.raises(EmbargoError):
        resume_issue(db, issue_id, now=T0 + timedelta(hours=20))
    db.rollback()
    _drive(db, settings, T0 + timedelta(hours=23))
    assert _status(db, issue_id)[0] == IssueStatus.PAUSED
    assert _mailed(settings) == []

    # After the embargo: resume, the dispatcher starts it, every reader gets both stories.
    after = moved + timedelta(minutes=1)
    resume_issue(db, issue_id, now=after)
    db.commit()
    report = _drive(db, settings, after)
    assert report.issues == [issue_id]
    assert _status(db, issue_id)[0] == IssueStatus.SENT
    mailed = _mailed(settings)
    assert sorted(to for to, _, _ in mailed) == [f"reader{n}@example.org" for n in (1, 2, 3)]
    assert all("Leaked files show the ministry knew" in body for _, _, body in mailed)


def test_a_held_issue_can_be_rescheduled_after_the_embargo_or_cancelled(
    db: Session, settings: Settings
) -> None:
    issue_id, _, secret_id = _newsroom(db)
    schedule_issue(db, issue_id, T0 + timedelta(hours=7), "UTC")
    db.get(Article, secret_id).embargo_until = T0 + timedelta(days=2)  # type: ignore[union-attr]
    db.commit()
    _drive(db, settings, T0 + timedelta(hours=8))
    assert _status(db, issue_id)[0] == IssueStatus.PAUSED

    with pytest.raises(EmbargoError):
        schedule_issue(db, issue_id, T0 + timedelta(days=1), "UTC")
    db.rollback()
    again = schedule_issue(db, issue_id, T0 + timedelta(days=2), "UTC")
    assert (again.status, again.paused_reason) == (IssueStatus.SCHEDULED, None)
    db.commit()
    # Before the new time nothing happens; the issue can still be cancelled.
    _drive(db, settings, T0 + timedelta(days=1))
    assert _status(db, issue_id)[0] == IssueStatus.SCHEDULED
    assert cancel_issue(db, issue_id).status == IssueStatus.CANCELLED
    assert _mailed(settings) == []


def test_the_batch_sender_mails_nothing_embargoed_even_when_an_issue_slipped_past(
    db: Session, settings: Settings
) -> None:
    issue_id, _, secret_id = _newsroom(db)
    db.get(Article, secret_id).embargo_until = None  # type: ignore[union-attr]
    db.commit()
    sending.start_issue_now(db, issue_id, now=T0)
    db.commit()
    doorbell: list[int] = []
    sending.dispatch_due(db, settings, now=T0, publish=doorbell.append)
    assert len(doorbell) == 1
    # The embargo arrives after the ledger was written and before the batch is mailed.
    db.get(Article, secret_id).embargo_until = EMBARGO  # type: ignore[union-attr]
    db.commit()
    sender = OutboxEmailSender(settings.outbox_dir)

    outcome = sending.send_batch(db, settings, sender, doorbell[0], now=lambda: T0)

    assert outcome.result == "held"
    assert _mailed(settings) == []
    status, reason = _status(db, issue_id)
    assert status == IssueStatus.PAUSED
    assert reason is not None
    assert "Leaked files show the ministry knew" in reason
    pending = db.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
    )
    assert pending == 3
    with pytest.raises(EmbargoError):
        resume_issue(db, issue_id, now=EMBARGO - timedelta(minutes=1))
    db.rollback()

    # After the embargo the same send continues where it stopped.
    after = EMBARGO + timedelta(minutes=1)
    resume_issue(db, issue_id, now=after)
    db.commit()
    doorbell.clear()
    sending.publish_pending_batches(db, settings, doorbell.append, after)
    for batch_id in doorbell:
        sending.send_batch(db, settings, sender, batch_id, now=lambda: after)
    assert _status(db, issue_id)[0] == IssueStatus.SENT
    assert len(_mailed(settings)) == 3


def test_a_test_send_of_an_embargoed_issue_goes_only_to_desk_users_and_says_so(
    db: Session, settings: Settings
) -> None:
    issue_id, _, _ = _newsroom(db)
    create_user(db, "Editor@Example.org", "a long enough password", role="editor")
    db.commit()
    sender = OutboxEmailSender(settings.outbox_dir)

    with pytest.raises(IssueError) as refused:
        sending.send_test_copies(
            db, settings, sender, issue_id, ["editor@example.org", "friend@example.net"], now=T0
        )
    assert "friend@example.net" in str(refused.value)
    assert "desk users" in str(refused.value)
    assert _mailed(settings) == []

    sending.send_test_copies(db, settings, sender, issue_id, ["editor@example.org"], now=T0)
    [(to, subject, _)] = _mailed(settings)
    assert to == "editor@example.org"
    assert subject == "[TEST] [EMBARGOED until 2026-12-05 14:00 UTC] This week"

    # Once the embargo has passed a test goes anywhere, marked only [TEST].
    after = EMBARGO + timedelta(seconds=1)
    sending.send_test_copies(db, settings, sender, issue_id, ["friend@example.net"], now=after)
    subjects = {subject for _, subject, _ in _mailed(settings)}
    assert "[TEST] This week" in subjects


def test_the_web_archive_never_shows_a_story_before_its_embargo(
    db: Session, settings: Settings
) -> None:
    issue_id, _, secret_id = _newsroom(db)
    db.get(Article, secret_id).embargo_until = None  # type: ignore[union-attr]
    db.commit()
    sending.start_issue_now(db, issue_id, now=T0)
    db.commit()
    _drive(db, settings, T0)
    assert _status(db, issue_id)[0] == IssueStatus.SENT
    token = db.get(Issue, issue_id).web_token  # type: ignore[union-attr]
    assert token
    assert "Leaked files show the ministry knew" in archive_page(db, settings, token, now=T0)

    # A later revision puts the story under embargo: the public page leaves it out until then.
    db.get(Article, secret_id).embargo_until = EMBARGO  # type: ignore[union-attr]
    db.commit()
    before = archive_page(db, settings, token, now=EMBARGO - timedelta(seconds=1))
    assert "Leaked files show the ministry knew" not in before
    assert "River towns count the cost, part 1" in before
    after = archive_page(db, settings, token, now=EMBARGO)
    assert "Leaked files show the ministry knew" in after


def test_preflight_counts_recipients_and_lists_every_open_problem(
    tmp_path: Path, database_url: str, db: Session
) -> None:
    settings = make_settings(tmp_path, database_url, EMAIL_HTML_BUDGET_BYTES="10000")
    weekly = make_list(db)
    for number in range(1, 5):
        subscribe(db, f"reader{number}@example.org", weekly.id)
    subscribe(db, "pending@example.org", weekly.id, status="unconfirmed")
    suppress(db, "reader4@example.org")
    english = article_row(db, 1)
    english.body_html = "<p>" + "The ferry left at dawn. " * 800 + "</p>"
    english.images.append(Image(url="https://img.example.org/a.jpg", credit=None, alt="Dawn"))
    chinese = article_row(db, 2, language="zh-Hans")
    chinese.title = "河边小镇的冬天"
    chinese.images.append(Image(url="https://img.example.org/b.jpg", credit="Agency", alt=None))
    chinese.embargo_until = EMBARGO
    issue = create_issue(db, ["weekly"], "This week", [english.id, chinese.id])
    db.commit()

    verdict = preflight_issue(db, settings, issue.id, now=T0)

    assert verdict.recipients == 3
    assert not verdict.may_send
    kinds = [(item.kind, item.severity) for item in verdict.problems]
    assert kinds[0] == (ProblemKind.EMBARGO, Severity.BLOCKING)
    assert (ProblemKind.MISSING_CREDIT, Severity.WARNING) in kinds
    assert (ProblemKind.MISSING_ALT, Severity.WARNING) in kinds
    assert (ProblemKind.LANGUAGE, Severity.WARNING) in kinds
    assert (ProblemKind.OVER_SIZE, Severity.WARNING) in kinds
    assert verdict.earliest_allowed == EMBARGO
    # Scheduled after the embargo only warnings remain.
    later = preflight_issue(db, settings, issue.id, send_at=EMBARGO, timezone="Asia/Taipei")
    assert later.may_send
    assert later.blocking == ()
    assert len(later.warnings) == 4
    assert render_issue_by_id(db, settings, issue.id).html_bytes > 10_000
