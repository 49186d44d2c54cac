"""GET /metrics: behind its token, in the Prometheus text format, and its figures move with a
real send through the SendGrid-compatible server (429s included), its webhook events, feed
requests and Redis queues; pool processes add up in multiprocess mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from distributor.adapters.email_base import email_sender_for
from distributor.adapters.sendgrid_webhook import provider_events
from distributor.config import Settings, load_settings
from distributor.db.session import unit_of_work
from distributor.services import sending
from distributor.services.feeds.storage import rebuild_feeds
from distributor.services.issues import create_issue
from distributor.services.provider_events import record_provider_events
from distributor.web.app import create_app
from tests.conftest import free_port, make_settings
from tests.factories.audience import article_row, bulk_subscribers, make_list
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid, Faults
from workers.celery_app import create_celery

TOKEN = "metrics-token-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _settings(tmp_path: Path, database_url: str, **extra: str) -> Settings:
    return make_settings(tmp_path, database_url, METRICS_TOKEN=TOKEN, **extra)


def test_metrics_are_not_served_without_a_token_setting(tmp_path: Path, sqlite_url: str) -> None:
    with TestClient(create_app(make_settings(tmp_path, sqlite_url))) as client:
        assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(tmp_path: Path, sqlite_url: str) -> None:
    with TestClient(create_app(_settings(tmp_path, sqlite_url))) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-wrong-one"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        assert "distributor_issues" not in wrong.text
        right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert "# TYPE distributor_issues gauge" in right.text


@pytest.fixture
def fake(database_url: str) -> Iterator[FakeSendGrid]:
    def on_events(events: list[dict[str, Any]]) -> None:
        with unit_of_work(database_url) as session:
            record_provider_events(session, provider_events(json.loads(json.dumps(events))))

    server = FakeSendGrid(
        Faults(share_429=0.4, reset_after_seconds=0.1, seed=7), on_events=on_events
    ).start()
    yield server
    server.stop()


def test_figures_move_after_a_real_send(
    db: Session, fake: FakeSendGrid, tmp_path: Path, database_url: str
) -> None:
    settings = _settings(
        tmp_path,
        database_url,
        MAIL_FROM="news@news.example.org",
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_API_HOST=fake.host,
        SEND_BATCH_SIZE="50",
        SEND_RETRY_BASE_SECONDS="0.05",
        SEND_MAX_CONSECUTIVE_FAILURES="100",
    )
    mailing_list = make_list(db)
    article = article_row(db)
    bulk_subscribers(db, mailing_list.id, 300)
    issue = create_issue(db, ["weekly"], "The river issue", [article.id])
    db.commit()
    with TestClient(create_app(settings)) as client:
        before = _scrape(client)
        sending.start_issue_now(db, issue.id)
        db.commit()
        sending.dispatch_due(db, settings)
        sending.run_sending_inline(
            db, settings, email_sender_for(settings), issue.id, max_seconds=60
        )
        fake.wait_for_events()
        client.get("/healthz")
        after = _scrape(client)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert fake.state.requests[429] > 0
    assert _value(after, "distributor_issues", status="sent") == 1
    assert _value(after, "distributor_batches", status="sent") == 6
    assert _value(after, "distributor_recipients_total", status="sent") == 300
    assert moved("distributor_provider_answers_total", answer="accepted") == 6
    assert (
        moved("distributor_provider_answers_total", answer="rate_limited")
        == fake.state.requests[429]
    )
    assert moved("distributor_recipients_requested_total", answer="accepted") == 300
    processed = moved("distributor_webhook_events_received_total", kind="processed")
    assert processed == 300
    assert _value(after, "distributor_provider_events_total", event="processed") == 300
    assert moved("distributor_webhook_event_lag_seconds_count") >= 300
    assert (
        moved(
            "distributor_http_request_duration_seconds_count",
            method="GET",
            route="/healthz",
            status="200",
        )
        == 1
    )
    # The route's template labels a request, never the path a client sent.
    assert not any("river" in str(key) for key in after)


def test_feed_requests_and_not_modified_answers_are_counted(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = _settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as session:
        article_row(session)
    with unit_of_work(settings.database_url) as session:
        rebuild_feeds(session, settings, None, datetime.now(UTC))
    with TestClient(create_app(settings)) as client:
        before = _scrape(client)
        first = client.get("/feeds/public.atom")
        assert first.status_code == 200, first.text
        again = client.get("/feeds/public.atom", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        after = _scrape(client)
    labels = {"audience": "public", "format": "atom"}
    name = "distributor_feed_requests_total"
    assert (
        _value(after, name, **labels, status="200") - _value(before, name, **labels, status="200")
        == 1
    )
    assert (
        _value(after, name, **labels, status="304") - _value(before, name, **labels, status="304")
        == 1
    )


def test_queue_depth_is_read_from_redis(tmp_path: Path, sqlite_url: str, redis_url: str) -> None:
    settings = _settings(tmp_path, sqlite_url, REDIS_URL=redis_url)
    client_redis = redis.Redis.from_url(redis_url)
    client_redis.lpush("send", b"{}", b"{}")
    client_redis.lpush("send\x06\x163", b"{}")
    client_redis.lpush("feeds", b"{}")
    with TestClient(create_app(settings)) as client:
        samples = _scrape(client)
    assert _value(samples, "distributor_queue_depth", queue="send") == 3
    assert _value(samples, "distributor_queue_depth", queue="feeds") == 1
    assert _value(samples, "distributor_queue_depth", queue="ingest") == 0


COUNT_IN_A_POOL_PROCESS = """
from distributor.metrics import count_provider_answer
count_provider_answer("accepted", 1000)
"""

SCRAPE = """
from distributor.metrics import DatabaseCollector, exposition
from distributor.db.session import unit_of_work
import sys
print(exposition(DatabaseCollector(lambda: unit_of_work(sys.argv[1]))).decode())
"""


def test_pool_processes_add_up_in_multiprocess_mode(tmp_path: Path, sqlite_url: str) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(3):
        subprocess.run([sys.executable, "-c", COUNT_IN_A_POOL_PROCESS], env=env, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE, sqlite_url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert _value(samples, "distributor_provider_answers_total", answer="accepted") == 3
    assert _value(samples, "distributor_recipients_requested_total", answer="accepted") == 3000


def test_a_worker_pool_serves_its_figures_on_an_internal_port(
    tmp_path: Path, sqlite_url: str, redis_url: str
) -> None:
    fake = FakeSendGrid().start()
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "k" * 32,
        "PUBLIC_BASE_URL": "https://news.example.org",
        "MAIL_FROM": "news@news.example.org",
        "PUBLISHER_NAME": "The Example Review",
        "PUBLISHER_ADDRESS": "2 Example Road, Hong Kong",
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": fake.host,
        "SEND_BATCH_SIZE": "40",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    with unit_of_work(sqlite_url) as session:
        mailing_list = make_list(session)
        article = article_row(session)
        bulk_subscribers(session, mailing_list.id, 200)
        issue = create_issue(session, ["weekly"], "The river issue", [article.id])
        session.flush()
        sending.start_issue_now(session, issue.id)
    command = [sys.executable, "-m", "distributor.cli.main", "worker", "--concurrency", "2"]
    worker = subprocess.Popen(
        [*command, "--metrics-port", str(port)],
        env=env,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        app = create_celery(load_settings({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)}))
        app.send_task("distributor.dispatch_due")
        deadline = time.monotonic() + 60
        samples: Samples = {}
        while time.monotonic() < deadline:
            try:
                with httpx.Client() as http:
                    text = http.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
            if _value(samples, "distributor_recipients_requested_total", answer="accepted") >= 200:
                break
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        fake.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert sum(fake.state.accepted.values()) == 200, log
    assert _value(samples, "distributor_provider_answers_total", answer="accepted") == 5
    assert _value(samples, "distributor_recipients_requested_total", answer="accepted") == 200
