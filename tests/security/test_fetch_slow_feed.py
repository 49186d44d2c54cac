"""A slow feed never freezes writes (embedded mode, SQLite), and fetches end at a deadline.

The attack: a feed that trickles one byte at a time. Before, the poll held SQLite's write lock
for as long as the fetch lasted (there was no overall deadline), so one-click unsubscribe,
signup and desk sign-in failed with 500 after the 10 s busy timeout, while /readyz said ready.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.links import MANAGE_PURPOSE
from distributor.domain.subscribers import OptIn
from distributor.domain.tokens import make_token
from distributor.services.ingest import add_source
from distributor.services.subscribers import create_list
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.security.attack_servers import TricklingServer

EDITOR = ("editor@example.org", "editor password 1")
DEADLINE = 5.0
# A write that waits for the lock waits up to SQLite's busy timeout (10 s) and then fails;
# a write that does not wait takes milliseconds. Anything under this is "did not wait".
QUICK = 3.0


@pytest.fixture
def site(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> Iterator[tuple[Settings, TestClient]]:
    settings = use_settings(
        make_settings(tmp_path, sqlite_url, FETCH_DEADLINE_SECONDS=str(DEADLINE))
    )
    with unit_of_work(settings.database_url) as session:
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
        create_user(session, EDITOR[0], EDITOR[1], name="Ed Editor", role="editor")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield settings, client


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _sign_in(client: TestClient) -> Any:
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def test_writes_go_through_while_a_trickling_feed_is_polled(
    site: tuple[Settings, TestClient],
) -> None:
    from workers.tasks import poll_sources

    settings, client = site
    signed_up = client.post("/signup/daily", json={"email": "leaver@example.org"})
    assert signed_up.status_code == 200, signed_up.text
    with unit_of_work(settings.database_url) as session:
        membership = session.scalars(select(models.Subscription)).one()
        token = make_token(
            settings.secret_key(), MANAGE_PURPOSE, membership.subscriber_id, membership.list_id
        )

    with TricklingServer(interval=0.5, lifetime=30) as feed:
        with unit_of_work(settings.database_url) as session:
            add_source(session, feed.url, interval_seconds=60)
        results: list[Any] = []
        poll = threading.Thread(target=lambda: results.append(poll_sources.apply().get()))
        poll_started = time.monotonic()
        poll.start()
        assert feed.connected.wait(10), "the poll never reached the feed"
        time.sleep(0.5)  # the poll is now waiting on the trickle

        unsubscribed, unsubscribe_time = _timed(
            lambda: client.post(
                f"/unsubscribe/{token}",
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        )
        signup, signup_time = _timed(
            lambda: client.post("/signup/daily", json={"email": "newcomer@example.org"})
        )
        signed_in, sign_in_time = _timed(lambda: _sign_in(client))
        ready = client.get("/readyz")
        still_polling = poll.is_alive()

        poll.join(timeout=DEADLINE + 15)
        poll_time = time.monotonic() - poll_started

    assert unsubscribed.status_code == 200, unsubscribed.text
    assert signup.status_code == 200, signup.text
    assert signed_in.status_code == 303, signed_in.text
    assert ready.status_code == 200, ready.text
    assert max(unsubscribe_time, signup_time, sign_in_time) < QUICK
    assert still_polling, "the writes must have happened while the fetch was running"

    # The fetch ended at its deadline, and said so on the source.
    assert not poll.is_alive()
    assert DEADLINE - 0.5 <= poll_time < DEADLINE + 4
    assert results
    assert results[0][feed.url]["ok"] is False
    with unit_of_work(settings.database_url) as session:
        source = session.scalars(select(models.Source)).one()
        assert source.consecutive_failures == 1
        assert source.last_error is not None
        assert "gave up after 5 s" in source.last_error
        assert "FETCH_DEADLINE_SECONDS" in source.last_error
        membership = session.scalars(
            select(models.Subscription).where(
                models.Subscription.subscriber_id == membership.subscriber_id
            )
        ).one()
        assert membership.status == "unsubscribed"
        assert session.scalars(select(models.Subscription)).all()[-1].status == "confirmed"


def test_readyz_says_not_ready_when_the_database_cannot_take_a_write(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    path = settings.database_url.split("///", 1)[1]
    assert client.get("/readyz").status_code == 200
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # what a long write transaction does
        answer, seconds = _timed(lambda: client.get("/readyz"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503
    assert answer.json()["ready"] is False
    assert "cannot take a write" in answer.json()["checks"]["database"]
    assert seconds < QUICK
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("interval", [0.2, 60.0], ids=["trickling", "silent"])
def test_a_fetch_ends_at_its_deadline_however_the_server_stalls(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings], interval: float
) -> None:
    """``distributor ingest URL`` gives up at FETCH_DEADLINE_SECONDS, whether the server
    trickles bytes (each one restarting a read timeout) or goes silent after the headers."""
    from typer.testing import CliRunner

    from distributor.cli.main import app as cli

    use_settings(make_settings(tmp_path, sqlite_url, FETCH_DEADLINE_SECONDS="2"))
    with TricklingServer(interval=interval, lifetime=25) as feed:
        result, seconds = _timed(lambda: CliRunner().invoke(cli, ["ingest", feed.url]))
    assert result.exit_code == 1, result.output
    assert "gave up after 2 s" in result.output
    assert 1.5 <= seconds < 5


def test_readyz_says_not_ready_when_postgresql_is_read_only(
    tmp_path: Path, postgres_url: str
) -> None:
    """A read-only PostgreSQL (a standby, or read-only by setting) answers SELECT 1 but takes
    no signup or unsubscribe: readiness must say so."""
    read_only = postgres_url + "?options=-c%20default_transaction_read_only%3Don"
    settings = make_settings(tmp_path, read_only)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "read-only" in answer.json()["checks"]["database"]
    with TestClient(create_app(make_settings(tmp_path, postgres_url))) as client:
        assert client.get("/readyz").status_code == 200
