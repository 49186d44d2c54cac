"""Mail-bombing through the signup form (H3): many signups of one address, attacker text.

The real app over HTTP, the real embedded worker sending confirmations to the outbox folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import Subscriber
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.subscribers import create_list
from tests.conftest import make_settings
from tests.support.live_app import live_app
from tests.support.outbox import body_text, read_outbox
from workers.embedded import EmbeddedRuntime

VICTIM = "victim@example.org"
TAUNT = "Your ex says hi: https://evil.example/stalk"


@pytest.fixture
def worker_site(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> Iterator[tuple[Settings, httpx.Client]]:
    """The app on a real port with the embedded worker; a generous per-IP limit (many IPs)."""
    settings = use_settings(make_settings(tmp_path, sqlite_url, SIGNUP_RATE_LIMIT_PER_HOUR="1000"))
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        create_list(session, "monthly", title="The Monthly", opt_in=OptIn.DOUBLE)
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
    runtime = _start_worker()
    try:
        with live_app(settings) as base, httpx.Client(base_url=base) as client:
            yield settings, client
    finally:
        _stop_worker(runtime)


def _stop_worker(runtime: EmbeddedRuntime) -> None:
    """Stop the worker and forget its sender, so later tests get one for their own outbox."""
    from workers import tasks

    runtime.stop()
    tasks._email_senders.clear()


def _start_worker() -> EmbeddedRuntime:
    """The embedded worker, with a fresh email sender (the outbox folder is this test's)."""
    from workers import tasks
    from workers.celery_app import app as celery_app

    tasks._email_senders.clear()  # one sender per process; this test has its own outbox
    runtime = EmbeddedRuntime(celery_app, tick_seconds=3600)
    runtime.start()
    return runtime


def _mails_to(settings: Settings, address: str) -> list[str]:
    folder = settings.outbox_dir
    if not folder.exists():
        return []
    found = []
    for message in read_outbox(folder, "confirmation-"):
        if address in str(message["To"]):
            found.append(
                str(message["To"]) + "\n" + str(message["Subject"]) + "\n" + body_text(message)
            )
    return found


def _settle(settings: Settings, sentinel: str, timeout: float = 60.0) -> None:
    """Wait until the sentinel's confirmation arrived, then a little for any in flight."""
    deadline = time.monotonic() + timeout
    while not _mails_to(settings, sentinel):
        assert time.monotonic() < deadline, "the sentinel's confirmation never arrived"
        time.sleep(0.1)
    time.sleep(1.5)


def _let_time_pass_since_the_confirmation(settings: Settings, address: str, seconds: float) -> None:
    """The cool-down compares the stored time of the last confirmation with the clock: moving
    that time back by ``seconds`` is what letting ``seconds`` pass does, without the wait."""
    with unit_of_work(settings.database_url) as session:
        reader = session.scalar(select(Subscriber).where(Subscriber.email == address))
        assert reader is not None
        assert reader.confirmation_sent_at is not None
        reader.confirmation_sent_at -= timedelta(seconds=seconds)


def test_25_signups_of_one_address_send_one_confirmation_without_attacker_text(
    worker_site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = worker_site
    answers = [
        client.post("/signup/weekly", data={"email": VICTIM, "name": TAUNT}).status_code
        for _ in range(25)
    ]
    assert answers == [200] * 25  # the public answer never changes
    page = client.post("/signup/weekly", data={"email": VICTIM})
    assert "at most one such email every 24 hours" in page.text
    # Another list of the same newsroom: the limit is per address, not per list.
    assert client.post("/signup/monthly", json={"email": VICTIM, "name": TAUNT}).status_code == 200
    client.post("/signup/weekly", json={"email": "sentinel@example.org"})
    _settle(settings, "sentinel@example.org")

    mails = _mails_to(settings, VICTIM)
    assert len(mails) == 1, f"{len(mails)} confirmation emails reached the victim"
    assert "evil.example" not in mails[0]
    assert "Your ex" not in mails[0]
    with session_factory(settings.database_url)() as session:
        victim = session.scalar(select(Subscriber).where(Subscriber.email == VICTIM))
        assert victim is not None
        assert victim.name is None  # never stored from the public form


def test_single_opt_in_signup_does_not_store_the_typed_name(
    worker_site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = worker_site
    assert client.post("/signup/daily", data={"email": VICTIM, "name": TAUNT}).status_code == 200
    with session_factory(settings.database_url)() as session:
        victim = session.scalar(select(Subscriber).where(Subscriber.email == VICTIM))
        assert victim is not None
        assert victim.name is None


def test_a_resend_waits_for_the_cool_down(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    """With a short cool-down a second signup after it sends again; before it, nothing."""
    settings = use_settings(make_settings(tmp_path, sqlite_url, CONFIRMATION_COOLDOWN_SECONDS="3"))
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
    runtime = _start_worker()
    try:
        with live_app(settings) as base, httpx.Client(base_url=base) as client:
            client.post("/signup/weekly", json={"email": VICTIM})
            client.post("/signup/weekly", json={"email": VICTIM})
            client.post("/signup/weekly", json={"email": "first@example.org"})
            _settle(settings, "first@example.org")
            assert len(_mails_to(settings, VICTIM)) == 1
            _let_time_pass_since_the_confirmation(settings, VICTIM, seconds=3.5)
            client.post("/signup/weekly", json={"email": VICTIM})
            client.post("/signup/weekly", json={"email": "second@example.org"})
            _settle(settings, "second@example.org")
            assert len(_mails_to(settings, VICTIM)) == 2
    finally:
        _stop_worker(runtime)
