"""The send ledger is written in chunks while its first batches go out (SQLite and PostgreSQL).

Each chunk is its own transaction; the issue is finished only once the whole ledger is written;
a ledger whose writer died is continued where it stopped; and however the writing is cut up,
interrupted or duplicated, every subscriber has exactly one ledger row and gets one copy.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.adapters.email_base import email_sender_for
from distributor.config import Settings
from distributor.db.models import Delivery, Issue, IssueList, SendBatch, Subscription
from distributor.db.session import session_factory
from distributor.domain.issues import IssueStatus
from distributor.services import sending
from distributor.services.issues import create_issue, issue_progress, pause_issue, resume_issue
from tests.conftest import make_settings
from tests.factories.audience import (
    address,
    article_row,
    bulk_subscribers,
    make_list,
    subscribe,
    suppress,
)
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid


class WriterDiedError(Exception):
    """Stands for the dispatcher's process dying right after a chunk was committed."""


def _settings(tmp_path: Path, database_url: str, host: str, chunk: int) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        MAIL_FROM="news@news.example.org",
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_API_HOST=host,
        SENDGRID_TIMEOUT_SECONDS="2",
        SEND_BATCH_SIZE="25",
        SEND_LEDGER_CHUNK=str(chunk),
        SEND_LEASE_SECONDS="5",
        SCHEDULER_TICK_SECONDS="0.2",
    )


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    server = FakeSendGrid().start()
    yield server
    server.stop()


def _started_issue(db: Session, readers: int) -> tuple[int, set[str]]:
    """An issue due now for ``readers`` confirmed readers plus people who must get nothing;
    returns its id and the addresses that must get it."""
    mailing_list = make_list(db)
    article = article_row(db)
    bulk_subscribers(db, mailing_list.id, readers)
    suppress(db, address("reader", 7))
    subscribe(db, "unconfirmed@example.org", mailing_list.id, status="unconfirmed")
    # A reader on two of the issue's lists is one recipient.
    other = make_list(db, "daily")
    first_reader = db.scalars(select(Subscription.subscriber_id).order_by("subscriber_id")).first()
    db.add(Subscription(subscriber_id=first_reader, list_id=other.id, status="confirmed"))
    issue = create_issue(db, ["weekly"], "The river issue", [article.id], preheader="Ferries")
    db.add(IssueList(issue_id=issue.id, list_id=other.id))
    db.commit()
    sending.start_issue_now(db, issue.id)
    db.commit()
    expected = {address("reader", n) for n in range(1, readers + 1)} - {address("reader", 7)}
    return issue.id, expected


def _ledger(db: Session, issue_id: int) -> Counter[int]:
    rows = db.scalars(select(Delivery.subscriber_id).where(Delivery.issue_id == issue_id)).all()
    db.commit()
    return Counter(rows)


def _send_everything(db: Session, settings: Settings, issue_id: int) -> None:
    sender = email_sender_for(settings)
    sending.run_sending_inline(db, settings, sender, issue_id, max_seconds=20)


def _send_batches(db: Session, settings: Settings, batch_ids: list[int] | None = None) -> None:
    """What the workers do with each doorbell (by default: every batch not yet sent)."""
    if batch_ids is None:
        batch_ids = list(
            db.scalars(select(SendBatch.id).where(SendBatch.status.in_(["pending", "queued"])))
        )
        db.commit()
    sender = email_sender_for(settings)
    for batch_id in batch_ids:
        sending.send_batch(db, settings, sender, batch_id)


def test_batches_are_published_while_the_ledger_is_still_being_written(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host, chunk=60)
    issue_id, expected = _started_issue(db, 230)
    seen_while_publishing: list[tuple[int, bool]] = []
    touched: set[datetime] = set()
    probe = session_factory(database_url)()

    def publish(batch_id: int) -> None:
        done, last_touch = probe.execute(
            select(Issue.ledger_done, Issue.ledger_touched_at).where(Issue.id == issue_id)
        ).one()
        probe.commit()
        seen_while_publishing.append((batch_id, done))
        touched.add(last_touch)

    report = sending.dispatch_due(db, settings, publish=publish)
    probe.close()

    assert report.issues == [issue_id]
    # 230 confirmed readers in chunks of 60 (60, 60, 60, 50): every chunk's batches were
    # published before the next chunk was written, the first ones before the ledger ended.
    published = [batch_id for batch_id, _ in seen_while_publishing]
    assert len(published) == len(set(published)) == report.batches
    assert not seen_while_publishing[0][1], "first batches published before the ledger ended"
    # Each chunk stamps the wall clock, so a long ledger never looks like a dead writer's.
    assert len(touched) == 4
    ledger = _ledger(db, issue_id)
    assert set(ledger.values()) == {1}
    assert len(ledger) == 230  # the suppressed reader has a 'skipped' row
    batches = db.execute(
        select(SendBatch.seq, SendBatch.recipient_count)
        .where(SendBatch.issue_id == issue_id)
        .order_by(SendBatch.seq)
    ).all()
    assert [seq for seq, _ in batches] == list(range(len(batches)))
    assert all(0 < count <= 25 for _, count in batches)
    assert sum(count for _, count in batches) == 230
    issue = db.get(Issue, issue_id)
    assert issue is not None
    assert issue.ledger_done
    assert issue.ledger_after == max(ledger)

    _send_batches(db, settings, published)
    assert set(fake.state.accepted) == expected
    assert set(fake.state.accepted.values()) == {1}
    assert issue_progress(db, issue_id)["status"] == IssueStatus.SENT


def test_an_interrupted_ledger_is_continued_and_the_issue_waits_for_it(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host, chunk=50)
    issue_id, expected = _started_issue(db, 180)

    with pytest.raises(WriterDiedError):
        sending.dispatch_due(db, settings, publish=_die)
    db.rollback()
    first_chunk = _ledger(db, issue_id)
    assert len(first_chunk) == 50

    # Every batch written so far is sent; the issue is not finished: its ledger is not done.
    _send_batches(db, settings)
    assert len(fake.state.accepted) == 49  # reader 7 is suppressed
    progress = issue_progress(db, issue_id)
    assert progress["status"] == IssueStatus.SENDING
    assert progress["ledger_complete"] is False
    assert progress["total"] == 50

    # A writer is given time before it counts as dead; then the next dispatcher continues.
    assert sending.dispatch_due(db, settings).resumed == []
    issue = db.get(Issue, issue_id)
    assert issue is not None
    assert issue.ledger_touched_at is not None
    later = issue.ledger_touched_at + timedelta(minutes=5)
    db.commit()
    report = sending.dispatch_due(db, settings, now=later)
    assert report.resumed == [issue_id]
    assert report.recipients == 130

    ledger = _ledger(db, issue_id)
    assert len(ledger) == 180
    assert set(ledger.values()) == {1}
    _send_batches(db, settings)
    assert set(fake.state.accepted) == expected
    assert set(fake.state.accepted.values()) == {1}
    progress = issue_progress(db, issue_id)
    assert progress["status"] == IssueStatus.SENT
    assert progress["ledger_complete"] is True
    assert progress["total"] == 180


def test_the_ledger_of_a_paused_issue_is_completed_and_sent_after_resume(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host, chunk=40)
    issue_id, expected = _started_issue(db, 100)

    def pause_after_first_chunk(batch_id: int) -> None:
        if db.get(Issue, issue_id, populate_existing=True).status == IssueStatus.SENDING:  # type: ignore[union-attr]
            pause_issue(db, issue_id, "the editor paused it")

    sending.dispatch_due(db, settings, publish=pause_after_first_chunk)
    assert len(_ledger(db, issue_id)) == 100  # pausing stops sending, not the ledger
    _send_everything(db, settings, issue_id)
    assert fake.state.accepted == Counter()
    resume_issue(db, issue_id)
    db.commit()
    _send_everything(db, settings, issue_id)
    assert set(fake.state.accepted) == expected
    assert set(fake.state.accepted.values()) == {1}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_writers_of_the_same_ledger_never_write_anyone_twice(
    fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host, chunk=20)
    setup = session_factory(database_url)()
    issue_id, _ = _started_issue(setup, 300)
    with pytest.raises(WriterDiedError):
        sending.dispatch_due(setup, settings, publish=_die)
    issue = setup.get(Issue, issue_id)
    assert issue is not None
    assert issue.ledger_touched_at is not None
    later = issue.ledger_touched_at + timedelta(minutes=5)
    setup.close()

    # Two dispatchers find the same stalled ledger at once and both continue it.
    start = threading.Barrier(2)
    reports: list[sending.DispatchReport] = []
    errors: list[BaseException] = []

    def continue_ledger() -> None:
        session = session_factory(database_url)()
        try:
            start.wait()
            reports.append(sending.dispatch_due(session, settings, now=later))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=continue_ledger) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    check = session_factory(database_url)()
    ledger = _ledger(check, issue_id)
    check.close()
    assert len(ledger) == 300
    assert set(ledger.values()) == {1}
    assert sum(report.recipients for report in reports) == 280


def _die(batch_id: int) -> None:
    raise WriterDiedError
