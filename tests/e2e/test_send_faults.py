"""Fault injection against real Celery worker processes, Redis, PostgreSQL and the fake SendGrid.

Every test ends with the same oracle: each eligible subscriber was accepted by the server
exactly once, and nobody is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from distributor.adapters.sendgrid_webhook import provider_events
from distributor.config import load_settings
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.issues import IssueStatus
from distributor.services.issues import create_issue, issue_progress, schedule_issue
from distributor.services.provider_events import record_provider_events
from tests.conftest import PrivateRedis
from tests.factories.audience import address, article_row, bulk_subscribers, make_list
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid, Faults
from workers.celery_app import create_celery

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

FINAL = {IssueStatus.SENT, IssueStatus.PARTIALLY_FAILED, IssueStatus.CANCELLED}


class Cluster:
    """Worker and scheduler processes of the service, each in its own process group."""

    def __init__(
        self, tmp_path: Path, database_url: str, redis_url: str, host: str, batch_size: int = 500
    ) -> None:
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "e2e-secret-key-0123456789abcdef",
            "PUBLIC_BASE_URL": "https://news.example.org",
            "MAIL_FROM": "news@news.example.org",
            "PUBLISHER_NAME": "The Example Review",
            "PUBLISHER_ADDRESS": "2 Example Road, Hong Kong",
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_HOST": host,
            "SENDGRID_TIMEOUT_SECONDS": "3",
            "SEND_BATCH_SIZE": str(batch_size),
            "SEND_LEASE_SECONDS": "5",
            "SEND_RECONCILE_GRACE_SECONDS": "3",
            "SCHEDULER_TICK_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.logs = tmp_path / "logs"
        self.logs.mkdir(exist_ok=True)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.scheduler: subprocess.Popen[bytes] | None = None
        self._count = 0

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        self._count += 1
        log = (self.logs / f"{args[0]}-{self._count}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "distributor.cli.main", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self) -> None:
        self.workers.append(self._spawn("worker", "--concurrency", "1"))

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn("scheduler")

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_worker(self, index: int) -> None:
        self._kill(self.workers.pop(index))

    def kill_all(self) -> None:
        for process in self.workers:
            self._kill(process)
        self.workers.clear()
        if self.scheduler is not None:
            self._kill(self.scheduler)
            self.scheduler = None


@pytest.fixture
def cluster_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Cluster] = []

    def make(database_url: str, redis_url: str, host: str, batch_size: int = 500) -> Cluster:
        cluster = Cluster(tmp_path, database_url, redis_url, host, batch_size)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.kill_all()


def _fake_with_events(database_url: str, faults: Faults | None = None) -> FakeSendGrid:
    def on_events(events: list[dict[str, Any]]) -> None:
        with unit_of_work(database_url) as session:
            record_provider_events(session, provider_events(json.loads(json.dumps(events))))

    return FakeSendGrid(faults, on_events=on_events).start()


def _prepare_issue(database_url: str, readers: int) -> int:
    session: Session = session_factory(database_url)()
    try:
        mailing_list = make_list(session)
        article = article_row(session)
        bulk_subscribers(session, mailing_list.id, readers)
        issue = create_issue(session, ["weekly"], "The river issue", [article.id])
        session.commit()
        return issue.id
    finally:
        session.close()


def _schedule_now(database_url: str, issue_id: int, delay: float = 0.0) -> datetime:
    when = datetime.now(UTC) + timedelta(seconds=delay)
    with unit_of_work(database_url) as session:
        schedule_issue(session, issue_id, when, "Europe/London")
    return when


def _progress(database_url: str, issue_id: int) -> dict[str, Any]:
    with unit_of_work(database_url) as session:
        return issue_progress(session, issue_id)


def _wait_until_final(database_url: str, issue_id: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = _progress(database_url, issue_id)
        if progress["status"] in FINAL:
            return progress
        time.sleep(0.5)
    raise AssertionError(f"issue {issue_id} did not finish: {_progress(database_url, issue_id)}")


def _assert_exactly_once(fake: FakeSendGrid, readers: int) -> None:
    expected = {address("reader", number) for number in range(1, readers + 1)}
    with fake.state.lock:
        accepted = dict(fake.state.accepted)
    missing = expected - set(accepted)
    duplicated = {email: count for email, count in accepted.items() if count != 1}
    assert not missing, f"{len(missing)} subscribers never accepted, e.g. {sorted(missing)[:3]}"
    assert not duplicated, f"{len(duplicated)} accepted more than once: {list(duplicated)[:3]}"
    assert set(accepted) == expected


def test_workers_killed_repeatedly_during_a_20000_recipient_send(
    postgres_url: str, redis_url: str, cluster_factory: Any
) -> None:
    readers = 20_000
    issue_id = _prepare_issue(postgres_url, readers)
    fake = _fake_with_events(postgres_url)
    cluster = cluster_factory(postgres_url, redis_url, fake.host)
    try:
        cluster.start_worker()
        cluster.start_worker()
        cluster.start_scheduler()
        _schedule_now(postgres_url, issue_id)
        chooser = random.Random(11)
        kills = 0
        deadline = time.monotonic() + 60
        while kills < 4 and time.monotonic() < deadline:
            time.sleep(chooser.uniform(1.0, 2.5))
            if _progress(postgres_url, issue_id)["status"] in FINAL:
                break
            cluster.kill_worker(chooser.randrange(len(cluster.workers)))
            kills += 1
            cluster.start_worker()
        progress = _wait_until_final(postgres_url, issue_id, timeout=100)
        fake.wait_for_events()
    finally:
        fake.stop()
    assert kills >= 2, "the send finished before the workers could be killed; use more readers"
    assert progress["status"] == IssueStatus.SENT
    assert progress["sent"] == readers
    _assert_exactly_once(fake, readers)


def test_rate_limits_and_server_errors_during_a_send(
    postgres_url: str, redis_url: str, cluster_factory: Any
) -> None:
    readers = 5_000
    issue_id = _prepare_issue(postgres_url, readers)
    fake = _fake_with_events(
        postgres_url, Faults(share_429=0.25, reset_after_seconds=1, share_500=0.25, seed=5)
    )
    cluster = cluster_factory(postgres_url, redis_url, fake.host, batch_size=250)
    try:
        cluster.start_worker()
        cluster.start_worker()
        cluster.start_scheduler()
        _schedule_now(postgres_url, issue_id)
        progress = _wait_until_final(postgres_url, issue_id, timeout=100)
    finally:
        fake.stop()
    assert fake.state.requests[429] > 0
    assert fake.state.requests[500] > 0
    assert progress["status"] == IssueStatus.SENT
    _assert_exactly_once(fake, readers)


def test_redis_restarted_without_persistence_mid_send(
    postgres_url: str, private_redis: PrivateRedis, cluster_factory: Any
) -> None:
    readers = 10_000
    issue_id = _prepare_issue(postgres_url, readers)
    fake = _fake_with_events(postgres_url)
    cluster = cluster_factory(postgres_url, private_redis.url, fake.host, batch_size=250)
    try:
        cluster.start_worker()
        cluster.start_worker()
        cluster.start_scheduler()
        _schedule_now(postgres_url, issue_id)
        deadline = time.monotonic() + 30
        while _progress(postgres_url, issue_id)["sent"] < 1000 and time.monotonic() < deadline:
            time.sleep(0.1)
        private_redis.kill()  # every queued doorbell is lost
        time.sleep(1.0)
        private_redis.start()
        progress = _wait_until_final(postgres_url, issue_id, timeout=100)
    finally:
        fake.stop()
    assert progress["status"] == IssueStatus.SENT
    _assert_exactly_once(fake, readers)


def test_duplicated_batch_tasks_send_each_batch_once(
    postgres_url: str, redis_url: str, cluster_factory: Any
) -> None:
    readers = 3_000
    issue_id = _prepare_issue(postgres_url, readers)
    fake = _fake_with_events(postgres_url)
    cluster = cluster_factory(postgres_url, redis_url, fake.host, batch_size=250)
    app = create_celery(load_settings({"REDIS_URL": redis_url}))
    from distributor.services import sending

    try:
        # The ledger is written here; each batch's doorbell is rung three times.
        settings = load_settings({k: v for k, v in cluster.env.items() if k.isupper()})
        _schedule_now(postgres_url, issue_id)
        session = session_factory(postgres_url)()
        try:
            sending.dispatch_due(session, settings)

            def ring_three_times(batch_id: int) -> None:
                for _ in range(3):
                    app.send_task("distributor.send_batch", args=[batch_id])

            published = sending.publish_pending_batches(session, settings, ring_three_times)
        finally:
            session.close()
        assert published == readers // 250
        cluster.start_worker()
        cluster.start_worker()
        cluster.start_scheduler()
        progress = _wait_until_final(postgres_url, issue_id, timeout=100)
    finally:
        fake.stop()
    assert progress["status"] == IssueStatus.SENT
    assert fake.state.requests[202] == readers // 250
    _assert_exactly_once(fake, readers)


def test_scheduled_issue_fires_after_every_process_restarted(
    postgres_url: str, redis_url: str, cluster_factory: Any
) -> None:
    readers = 500
    issue_id = _prepare_issue(postgres_url, readers)
    fake = _fake_with_events(postgres_url)
    cluster = cluster_factory(postgres_url, redis_url, fake.host)
    try:
        cluster.start_worker()
        cluster.start_scheduler()
        when = _schedule_now(postgres_url, issue_id, delay=4)
        time.sleep(1.5)
        cluster.kill_all()  # everything is down when the issue becomes due
        time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 1)
        assert _progress(postgres_url, issue_id)["status"] == IssueStatus.SCHEDULED
        cluster.start_worker()
        cluster.start_scheduler()
        progress = _wait_until_final(postgres_url, issue_id, timeout=60)
    finally:
        fake.stop()
    assert progress["status"] == IssueStatus.SENT
    started = datetime.fromisoformat(progress["started_at"])
    assert started >= when
    _assert_exactly_once(fake, readers)
