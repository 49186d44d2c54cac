"""Long writes on SQLite let other writers in: a big CSV import and a big feed poll commit as
they go, so a reader can sign up or leave while they run (before, the first write after the
import started waited for the whole file, and failed with 500 after the 10 s busy timeout)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from distributor.adapters.feed_fetcher import InMemoryFeedFetcher
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.ingest import add_source, poll_due_sources
from distributor.services.subscriber_import import import_subscribers
from distributor.services.subscribers import create_list
from distributor.web.app import create_app
from tests.conftest import make_settings

ROWS = 150_000
CHUNK = 5_000


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Settings, TestClient]]:
    settings = make_settings(tmp_path, sqlite_url, SIGNUP_RATE_LIMIT_PER_HOUR="100")
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.SINGLE)
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield settings, client


def _run(target: Any) -> tuple[threading.Thread, list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            results.append(target())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    return thread, results, errors


def test_a_signup_goes_through_while_a_large_import_runs(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    csv = "email,name\n" + "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(ROWS))
    chunks_done = threading.Event()
    calls = 0

    def progress(_done: int, _total: int) -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:  # at least one chunk is merged into the real tables
            chunks_done.set()

    def run_import() -> Any:
        with unit_of_work(settings.database_url) as session:
            return import_subscribers(
                session,
                io.BytesIO(csv.encode()),
                "weekly",
                progress=progress,
                chunk_rows=CHUNK,
            )

    thread, results, errors = _run(run_import)
    assert chunks_done.wait(60), errors
    started = time.monotonic()
    signup = client.post("/signup/daily", json={"email": "during@example.org"})
    waited = time.monotonic() - started
    chunks_at_signup = calls
    thread.join(timeout=120)

    assert signup.status_code == 200, signup.text
    # Before, the signup waited for the import's single commit: every chunk had been read.
    assert chunks_at_signup < ROWS // CHUNK, f"the signup waited {waited:.1f} s for the import"
    assert not errors
    assert results[0].accepted == ROWS
    with unit_of_work(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(models.Subscription)) == ROWS + 1


def _feed(items: int) -> bytes:
    entries = "".join(
        f"<item><title>Story {i}</title><link>https://cms.example.org/?p={i}</link>"
        f"<guid>https://cms.example.org/?p={i}</guid><description>Text {i}</description>"
        "<pubDate>Fri, 04 Dec 2026 10:00:00 GMT</pubDate></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
        f"<link>https://cms.example.org/</link><description>d</description>{entries}"
        "</channel></rss>"
    ).encode()


def test_a_large_feed_is_stored_in_short_transactions(site: tuple[Settings, TestClient]) -> None:
    """The articles of one poll are committed a chunk at a time: a signup made while the
    poll stores them does not wait for the whole feed.

    The poll is held right after its first commit that made articles visible, until the signup
    has answered: if the poll stored the whole feed in one transaction, that moment would come
    only once every article was stored (and the signup would have waited for all of them)."""
    settings, client = site
    url = "https://cms.example.org/feed"
    items = 15_000  # many storing transactions (ingest.STORE_CHUNK articles each)
    fetcher = InMemoryFeedFetcher(documents={url: _feed(items)})
    with unit_of_work(settings.database_url) as session:
        add_source(session, url, interval_seconds=60)
    first_visible = threading.Event()
    signed_up = threading.Event()
    visible_at_pause: list[int] = []

    def count_articles() -> int:
        with unit_of_work(settings.database_url) as other:
            return other.scalar(select(func.count()).select_from(models.Article)) or 0

    def after_commit(_session: Any) -> None:
        if first_visible.is_set():
            return
        visible = count_articles()
        if visible:
            visible_at_pause.append(visible)
            first_visible.set()
            signed_up.wait(60)

    def poll() -> Any:
        with unit_of_work(settings.database_url) as session:
            event.listen(session, "after_commit", after_commit)
            return poll_due_sources(session, fetcher)

    thread, results, errors = _run(poll)
    try:
        assert first_visible.wait(120), errors
        signup = client.post("/signup/daily", json={"email": "during@example.org"})
    finally:
        signed_up.set()
    thread.join(timeout=120)

    assert signup.status_code == 200, signup.text
    assert 0 < visible_at_pause[0] < items, "committed articles must be visible while the poll runs"
    assert not errors
    assert len(results[0][url].stored.created) == items
    assert count_articles() == items
