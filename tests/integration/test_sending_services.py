"""The send ledger services on SQLite and PostgreSQL, against the SendGrid-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from distributor.adapters.email_base import email_sender_for
from distributor.adapters.sendgrid_webhook import provider_events
from distributor.clock import FixedClock
from distributor.config import Settings
from distributor.db.models import Delivery, IssueList, ProviderEvent, SendBatch, Subscription
from distributor.db.session import unit_of_work
from distributor.domain.issues import BatchStatus, IssueStatus
from distributor.services import sending
from distributor.services.issues import (
    IssueError,
    cancel_issue,
    create_issue,
    issue_progress,
    pause_issue,
    resume_issue,
    schedule_issue,
)
from distributor.services.provider_events import record_provider_events
from tests.conftest import make_settings
from tests.factories.audience import (
    address,
    article_row,
    bulk_subscribers,
    make_list,
    subscribe,
    suppress,
)
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid, Faults


def _settings(tmp_path: Path, database_url: str, host: str, **extra: str) -> Settings:
    values = {
        "MAIL_FROM": "news@news.example.org",
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": host,
        "SENDGRID_TIMEOUT_SECONDS": "2",
        "SEND_BATCH_SIZE": "100",
        "SEND_LEASE_SECONDS": "5",
        "SEND_RECONCILE_GRACE_SECONDS": "1",
        "SCHEDULER_TICK_SECONDS": "0.2",
    }
    return make_settings(tmp_path, database_url, **{**values, **extra})


@pytest.fixture
def fake(database_url: str) -> Iterator[FakeSendGrid]:
    def on_events(events: list[dict[str, Any]]) -> None:
        # Events travel as JSON, as they would in a webhook POST.
        with unit_of_work(database_url) as session:
            record_provider_events(session, provider_events(json.loads(json.dumps(events))))

    server = FakeSendGrid(on_events=on_events).start()
    yield server
    server.stop()


def _issue_with_audience(db: Session, readers: int) -> int:
    mailing_list = make_list(db)
    article = article_row(db)
    bulk_subscribers(db, mailing_list.id, readers)
    issue = create_issue(db, ["weekly"], "The river issue", [article.id], preheader="Ferries")
    db.commit()
    return issue.id


def _run(
    db: Session,
    settings: Settings,
    issue_id: int,
    seconds: float = 30,
    clock: FixedClock | None = None,
) -> dict[str, Any]:
    """Send the issue inline; with ``clock``, waits move that clock instead of sleeping."""
    sender = email_sender_for(settings)
    sending.dispatch_due(db, settings)
    if clock is None:
        sending.run_sending_inline(db, settings, sender, issue_id, max_seconds=seconds)
    else:
        sending.run_sending_inline(
            db,
            settings,
            sender,
            issue_id,
            max_seconds=seconds,
            clock=clock,
            sleep=lambda waited: clock.advance(timedelta(seconds=waited)),
        )
    return issue_progress(db, issue_id)


def test_each_confirmed_unsuppressed_subscriber_gets_the_issue_once(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 250)
    mailing_list_id = db.scalars(select(Subscription.list_id)).first()
    assert mailing_list_id is not None
    suppress(db, address("reader", 3))
    subscribe(db, "unconfirmed@example.org", mailing_list_id, status="unconfirmed")
    subscribe(db, "gone@example.org", mailing_list_id, status="unsubscribed")
    # A second list with an overlapping reader: one copy only.
    other = make_list(db, "daily")
    db.add(
        Subscription(
            subscriber_id=db.scalars(select(Subscription.subscriber_id)).first(),
            list_id=other.id,
            status="confirmed",
        )
    )
    db.add(IssueList(issue_id=issue_id, list_id=other.id))
    db.commit()
    sending.start_issue_now(db, issue_id)
    db.commit()

    progress = _run(db, settings, issue_id)

    expected = {address("reader", n) for n in range(1, 251)} - {address("reader", 3)}
    assert set(fake.state.accepted) == expected
    assert set(fake.state.accepted.values()) == {1}
    assert progress["status"] == IssueStatus.SENT
    assert progress["sent"] == 249
    assert progress["suppressed"] == 1
    assert progress["batches"] == {"sent": 3}
    # Every request carried our ids and the one-click headers per recipient.
    record = fake.state.records[0]
    assert record.custom_args["dst_issue"] == str(issue_id)
    assert {"dst_batch", "dst_delivery", "dst_attempt"} <= set(record.custom_args)


def test_duplicate_batch_task_is_a_no_op(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 150)
    sending.start_issue_now(db, issue_id)
    sending.dispatch_due(db, settings)
    published: list[int] = []
    sending.publish_pending_batches(db, settings, published.append)
    sender = email_sender_for(settings)
    outcomes = [
        sending.send_batch(db, settings, sender, batch_id)
        for batch_id in published + published + published
    ]
    assert [o.result for o in outcomes].count("sent") == len(published) == 2
    assert sum(fake.state.accepted.values()) == 150
    assert issue_progress(db, issue_id)["status"] == IssueStatus.SENT


def test_rate_limits_and_server_errors_are_retried_without_duplicates(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    fake = FakeSendGrid(
        Faults(share_429=0.3, reset_after_seconds=0.2, share_500=0.3, seed=3)
    ).start()
    try:
        settings = _settings(
            tmp_path,
            database_url,
            fake.host,
            SEND_MAX_CONSECUTIVE_FAILURES="50",
            SEND_RETRY_BASE_SECONDS="0.1",
        )
        issue_id = _issue_with_audience(db, 600)
        sending.start_issue_now(db, issue_id)
        db.commit()
        # Waits for retries move the clock: no real back-off time passes.
        progress = _run(db, settings, issue_id, seconds=60, clock=FixedClock(datetime.now(UTC)))
    finally:
        fake.stop()
    assert fake.state.requests[429] + fake.state.requests[500] > 0
    assert set(fake.state.accepted) == {address("reader", n) for n in range(1, 601)}
    assert set(fake.state.accepted.values()) == {1}
    assert progress["status"] == IssueStatus.SENT


def test_permanent_refusal_fails_the_batch_and_is_never_retried(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    fake = FakeSendGrid().start()
    try:
        settings = _settings(
            tmp_path,
            database_url,
            fake.host,
            SENDGRID_API_KEY="SG.wrong.key",
            SEND_MAX_CONSECUTIVE_FAILURES="2",
        )
        issue_id = _issue_with_audience(db, 500)
        sending.start_issue_now(db, issue_id)
        db.commit()
        progress = _run(db, settings, issue_id, seconds=5)
    finally:
        fake.stop()
    assert fake.state.requests[401] == 2
    assert not fake.state.accepted
    assert progress["status"] == IssueStatus.PAUSED
    assert "2 failed requests in a row" in progress["paused_reason"]
    assert "authorization required" in progress["paused_reason"]
    errors = db.scalars(select(SendBatch.last_error).where(SendBatch.status == "failed")).all()
    assert errors
    assert all("authorization required" in (e or "") for e in errors)


def test_cancelled_issue_sends_nothing_and_schedules_respect_time_zones(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 20)
    issue = schedule_issue(db, issue_id, "2026-07-01T08:00", "Europe/London")
    assert issue.send_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # BST = UTC+1
    issue = schedule_issue(db, issue_id, "2026-12-01T08:00", "Europe/London")
    assert issue.send_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert (issue.schedule_timezone, issue.schedule_local) == ("Europe/London", "2026-12-01T08:00")
    db.commit()
    assert (
        sending.dispatch_due(db, settings, now=datetime(2026, 12, 1, 7, 59, tzinfo=UTC)).issues
        == []
    )
    cancel_issue(db, issue_id)
    db.commit()
    assert sending.dispatch_due(db, settings, now=datetime(2026, 12, 1, 9, tzinfo=UTC)).issues == []
    assert db.scalar(select(func.count()).select_from(Delivery)) == 0
    assert not fake.state.accepted
    with pytest.raises(IssueError, match="cancelled"):
        schedule_issue(db, issue_id, "2026-12-02T08:00", "Europe/London")
    other_issue = _issue_with_second_list(db)
    with pytest.raises(IssueError, match="unknown time zone"):
        schedule_issue(db, other_issue, "2026-12-02T08:00", "Mars/Olympus")


def _issue_with_second_list(db: Session) -> int:
    mailing_list = make_list(db, "other")
    article = article_row(db, 2)
    issue = create_issue(db, [mailing_list.name], "Other", [article.id])
    db.commit()
    return issue.id


def test_scheduled_issue_fires_when_due(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 30)
    schedule_issue(db, issue_id, datetime.now(UTC) - timedelta(seconds=1))
    db.commit()
    report = sending.dispatch_due(db, settings)
    assert report.issues == [issue_id]
    assert report.recipients == 30
    assert sending.dispatch_due(db, settings).issues == []  # taken once
    progress = _run(db, settings, issue_id)
    assert progress["status"] == IssueStatus.SENT
    assert sum(fake.state.accepted.values()) == 30


def test_paused_issue_resumes_where_it_stopped(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 500)
    sending.start_issue_now(db, issue_id)
    sending.dispatch_due(db, settings)
    published: list[int] = []
    sending.publish_pending_batches(db, settings, published.append)
    sender = email_sender_for(settings)
    sending.send_batch(db, settings, sender, published[0])
    sending.send_batch(db, settings, sender, published[1])
    pause_issue(db, issue_id)
    db.commit()
    # Doorbells rung while paused do nothing.
    assert sending.send_batch(db, settings, sender, published[2]).result.startswith("not")
    assert sum(fake.state.accepted.values()) == 200
    assert issue_progress(db, issue_id)["status"] == IssueStatus.PAUSED
    resume_issue(db, issue_id)
    db.commit()
    progress = _run(db, settings, issue_id)
    assert progress["status"] == IssueStatus.SENT
    assert set(fake.state.accepted.values()) == {1}
    assert len(fake.state.accepted) == 500


def test_unsubscribed_after_the_snapshot_gets_nothing(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 50)
    sending.start_issue_now(db, issue_id)
    sending.dispatch_due(db, settings)
    suppress(db, address("reader", 7))
    db.execute(
        update(Subscription).where(Subscription.subscriber_id == 9).values(status="unsubscribed")
    )
    db.commit()
    progress = _run(db, settings, issue_id)
    assert address("reader", 7) not in fake.state.accepted
    assert address("reader", 9) not in fake.state.accepted
    assert len(fake.state.accepted) == 48
    assert progress["suppressed"] == 1
    assert progress["skipped"] == 1


@pytest.mark.slow  # fault injection: waits out a real request timeout
def test_ambiguous_batch_is_confirmed_by_events_and_not_sent_again(
    db: Session, tmp_path: Path, database_url: str
) -> None:
    def on_events(events: list[dict[str, Any]]) -> None:
        with unit_of_work(database_url) as session:
            record_provider_events(session, provider_events(events))

    fake = FakeSendGrid(Faults(share_hang=1.0, hang_seconds=3), on_events=on_events).start()
    try:
        settings = _settings(tmp_path, database_url, fake.host, SENDGRID_TIMEOUT_SECONDS="0.5")
        issue_id = _issue_with_audience(db, 100)
        sending.start_issue_now(db, issue_id)
        sending.dispatch_due(db, settings)
        published: list[int] = []
        sending.publish_pending_batches(db, settings, published.append)
        outcome = sending.send_batch(db, settings, email_sender_for(settings), published[0])
        assert outcome.result == "ambiguous"
        fake.wait_for_events()
        report = sending.reconcile_batches(db, settings)
    finally:
        fake.stop()
    assert report.confirmed == published
    assert issue_progress(db, issue_id)["status"] == IssueStatus.SENT
    assert sum(fake.state.accepted.values()) == 100
    assert db.scalar(select(func.count()).select_from(ProviderEvent)) == 100


def test_ambiguous_batch_without_trace_is_sent_again_after_the_grace_period(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 40)
    sending.start_issue_now(db, issue_id)
    sending.dispatch_due(db, settings)
    batch_id = db.scalars(select(SendBatch.id)).one()
    # A worker claimed the batch and died before its request left (lease long expired).
    past = datetime.now(UTC) - timedelta(minutes=5)
    db.execute(
        update(SendBatch).values(
            status=BatchStatus.SENDING, claim_token="dead", attempt=1, lease_until=past
        )
    )
    db.commit()
    doorbell: list[int] = []
    assert sending.sweep_batches(db, settings, doorbell.append).expired_leases == 1
    assert sending.reconcile_batches(db, settings).requeued == []  # within the grace period
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert sending.reconcile_batches(db, settings, now=later).requeued == [batch_id]
    progress = _run(db, settings, issue_id, clock=FixedClock(later))
    assert progress["status"] == IssueStatus.SENT
    assert sum(fake.state.accepted.values()) == 40


def test_provider_events_are_deduplicated_and_move_deliveries_forward(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, fake.host)
    issue_id = _issue_with_audience(db, 3)
    sending.start_issue_now(db, issue_id)
    sending.dispatch_due(db, settings)
    deliveries = db.scalars(select(Delivery).order_by(Delivery.id)).all()
    base = {"dst_issue": str(issue_id), "timestamp": 1_790_000_000}
    events: list[dict[str, Any]] = [
        {
            **base,
            "event": "delivered",
            "sg_event_id": "e1",
            "email": deliveries[0].email,
            "dst_delivery": str(deliveries[0].id),
        },
        {
            **base,
            "event": "processed",
            "sg_event_id": "e2",
            "email": deliveries[0].email,
            "dst_delivery": str(deliveries[0].id),
        },
        {
            **base,
            "event": "bounce",
            "type": "bounce",
            "sg_event_id": "e3",
            "email": deliveries[1].email,
            "dst_delivery": str(deliveries[1].id),
        },
        "not an event",
    ]
    first = record_provider_events(db, provider_events(events))
    second = record_provider_events(db, provider_events(events[:3]))
    db.commit()
    assert (first["new"], first["invalid"], second["new"], second["duplicates"]) == (3, 1, 0, 3)
    statuses = {row.id: row.status for row in db.execute(select(Delivery.id, Delivery.status))}
    assert statuses[deliveries[0].id] == "delivered"  # the late "processed" did not win
    assert statuses[deliveries[1].id] == "bounced"
    assert statuses[deliveries[2].id] == "pending"
