"""Desk sign-in: the lock-out race (M1), account enumeration (M2) and third-party lock-out (L9).

The race runs against a real uvicorn server (parallel requests on its thread pool), on SQLite
and PostgreSQL; the other attacks go through the ASGI app.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import User
from distributor.db.session import session_factory, unit_of_work
from distributor.services.users import FAILURES_BEFORE_LOCK, create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.support.live_app import live_app

EDITOR = ("editor@example.org", "editor password 1")
PARALLEL = 12


def _settings(tmp_path: Path, database_url: str, **overrides: str) -> Settings:
    settings = make_settings(
        tmp_path, database_url, PUBLIC_BASE_URL="http://127.0.0.1:8000", **overrides
    )
    with unit_of_work(settings.database_url) as session:
        create_user(session, EDITOR[0], EDITOR[1], role="editor")
    return settings


def _user(settings: Settings) -> User:
    with session_factory(settings.database_url)() as session:
        user = session.scalar(select(User).where(User.email == EDITOR[0]))
        assert user is not None
        session.expunge(user)
        return user


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _error(html: str) -> str:
    match = re.search(r'role="alert" id="login-error">([^<]*)<', html)
    assert match, html
    return match.group(1)


def test_parallel_wrong_passwords_are_counted_and_lock_at_the_limit(
    tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url, LOGIN_FAILURES_PER_CLIENT="1000")
    with live_app(settings) as base, httpx.Client(base_url=base) as client:
        token = _csrf(client.get("/login").text)
        cookies = dict(client.cookies)
        barrier = threading.Barrier(PARALLEL)

        def guess(number: int) -> int:
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as attacker:
                barrier.wait()
                answer = attacker.post(
                    "/login",
                    data={"email": EDITOR[0], "password": f"guess {number}", "csrf_token": token},
                    follow_redirects=False,
                )
                return answer.status_code

        with ThreadPoolExecutor(PARALLEL) as pool:
            codes = list(pool.map(guess, range(PARALLEL)))
        assert 303 not in codes
        user = _user(settings)
        # Every guess that was checked was counted: exactly the limit, then the lock.
        assert user.failed_logins == FAILURES_BEFORE_LOCK
        assert user.locked_until is not None
        right = client.post(
            "/login",
            data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token},
            follow_redirects=False,
        )
        assert right.status_code != 303  # locked: the right password waits too


@pytest.mark.usefixtures("default_password_costs")  # the timing compared is the hash's
def test_answers_do_not_tell_whether_an_account_exists(tmp_path: Path, sqlite_url: str) -> None:
    settings = _settings(tmp_path, sqlite_url, LOGIN_FAILURES_PER_CLIENT="1000")
    with TestClient(create_app(settings)) as client:
        token = _csrf(client.get("/login").text)

        def attempt(email: str, password: str) -> tuple[int, str, float]:
            started = time.perf_counter()
            answer = client.post(
                "/login",
                data={"email": email, "password": password, "csrf_token": token},
                follow_redirects=False,
            )
            return answer.status_code, _error(answer.text), time.perf_counter() - started

        unknown = [
            attempt(f"nobody{n}@example.org", "wrong guess") for n in range(FAILURES_BEFORE_LOCK)
        ]
        known = [attempt(EDITOR[0], "wrong guess") for _ in range(FAILURES_BEFORE_LOCK)]
        assert _user(settings).locked_until is not None
        locked = [attempt(EDITOR[0], "wrong guess") for _ in range(FAILURES_BEFORE_LOCK)]
        locked_right = attempt(EDITOR[0], EDITOR[1])

    answers = {(code, text) for code, text, _ in unknown + known + locked + [locked_right]}
    assert len(answers) == 1, answers  # one status, one message, whatever the case
    message = next(iter(answers))[1]
    assert "attempt" not in message.lower() or "left" not in message.lower()
    assert "locked until" not in message
    # Similar timing: a locked or unknown account costs a password hash like a real check.
    unknown_time = statistics.median(seconds for *_, seconds in unknown)
    locked_time = statistics.median(seconds for *_, seconds in locked)
    known_time = statistics.median(seconds for *_, seconds in known)
    for measured in (locked_time, known_time):
        assert unknown_time / 3 < measured < unknown_time * 3, (
            unknown_time,
            known_time,
            locked_time,
        )


def test_one_client_cannot_lock_an_editor_out(tmp_path: Path, sqlite_url: str) -> None:
    settings = _settings(tmp_path, sqlite_url)
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.9", 40000)) as attacker:
        token = _csrf(attacker.get("/login").text)
        codes = [
            attacker.post(
                "/login",
                data={"email": EDITOR[0], "password": f"guess {n}", "csrf_token": token},
                follow_redirects=False,
            ).status_code
            for n in range(3 * FAILURES_BEFORE_LOCK)
        ]
        assert codes[-1] == 429
        throttled = attacker.post(
            "/login",
            data={"email": "nobody@example.org", "password": "x", "csrf_token": token},
            follow_redirects=False,
        )
        assert throttled.status_code == 429  # the same for any account: the client is slowed
        assert "Retry-After" in throttled.headers
    user = _user(settings)
    assert user.failed_logins < FAILURES_BEFORE_LOCK
    assert user.locked_until is None
    with TestClient(app, client=("198.51.100.7", 40001)) as editor:
        token = _csrf(editor.get("/login").text)
        answer = editor.post(
            "/login",
            data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token},
            follow_redirects=False,
        )
        assert answer.status_code == 303
