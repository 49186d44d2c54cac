"""Desk sessions end when idle too long, and after a fixed lifetime whatever the activity.

Drives the real app over HTTP (Starlette's TestClient), with lifetimes of a few seconds set
through the settings. The clock the session code reads (ours and itsdangerous's timestamps) is
a settable one, so the seconds pass at once instead of being waited out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import itsdangerous.timed
import pytest
from fastapi.testclient import TestClient

from distributor.db.session import unit_of_work
from distributor.services.users import create_user
from distributor.web import auth
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.support.clock import SettableClock

EDITOR = ("session.editor@example.org", "session editor password 1")


def _client(tmp_path: Path, sqlite_url: str, **settings: str) -> Iterator[TestClient]:
    chosen = make_settings(tmp_path, sqlite_url, **settings)
    with unit_of_work(chosen.database_url) as db:
        create_user(db, EDITOR[0], EDITOR[1], name="Session Editor", role="editor")
    with TestClient(create_app(chosen), base_url="https://testserver") as client:
        yield client


def _sign_in(client: TestClient) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return token.group(1)


def _signed_in(client: TestClient) -> bool:
    response = client.get("/issues", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


@pytest.fixture
def session_clock(monkeypatch: pytest.MonkeyPatch) -> SettableClock:
    """The clock of session cookies: sign-in time, signing timestamps and their checks."""
    clock = SettableClock()
    monkeypatch.setattr(auth, "time", clock)
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    return clock


@pytest.fixture
def short_lived(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    yield from _client(tmp_path, sqlite_url, SESSION_IDLE_SECONDS="2", SESSION_LIFETIME_SECONDS="4")


@pytest.fixture
def short_idle(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    yield from _client(
        tmp_path, sqlite_url, SESSION_IDLE_SECONDS="2", SESSION_LIFETIME_SECONDS="3600"
    )


def test_an_active_session_still_ends_at_its_lifetime(
    short_lived: TestClient, session_clock: SettableClock
) -> None:
    _sign_in(short_lived)
    started = session_clock.monotonic()
    # Busy all along: a page every 0.7 s keeps the session from going idle...
    while session_clock.monotonic() - started < 3.0:
        assert _signed_in(short_lived)
        session_clock.advance(0.7)
    # ...but four seconds after sign-in it is over all the same.
    while session_clock.monotonic() - started < 5.2:
        session_clock.advance(0.7)
        short_lived.get("/issues", follow_redirects=False)
    assert not _signed_in(short_lived)


def test_an_idle_session_ends(short_idle: TestClient, session_clock: SettableClock) -> None:
    _sign_in(short_idle)
    assert _signed_in(short_idle)
    session_clock.advance(3.2)
    assert not _signed_in(short_idle)
    # Signing in again works at once.
    _sign_in(short_idle)
    assert _signed_in(short_idle)
