"""Desk security: sign-in, sessions, CSRF, roles, lock-out, cookie flags.

Drives the real app through Starlette's TestClient (over https://testserver, because the test
settings' public address is https and the session cookie is therefore Secure).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import User
from distributor.db.session import unit_of_work
from distributor.domain.sources import SourceKind
from distributor.services.ingest import builtin_source
from distributor.services.users import (
    FAILURES_BEFORE_LOCK,
    authenticate,
    create_user,
    lock_duration,
)
from distributor.web.app import create_app
from distributor.web.auth import SESSION_COOKIE
from tests.conftest import make_settings

ADMIN = ("admin@example.org", "admin password 1")
EDITOR = ("editor@example.org", "editor password 1")

# Pages of the desk that need a session (GET), by area.
DESK_PAGES = [
    "/",
    "/issues",
    "/subscribers",
    "/lists",
    "/admin/users",
    "/partners",
    "/suppressions",
    "/subscribers/import",
]
ADMIN_PAGES = ["/admin/users", "/partners"]


@pytest.fixture
def desk_settings(settings: Settings) -> Settings:
    with unit_of_work(settings.database_url) as db:
        create_user(db, ADMIN[0], ADMIN[1], name="Ada Admin", role="admin")
        create_user(db, EDITOR[0], EDITOR[1], name="Ed Editor", role="editor")
    return settings


@pytest.fixture
def client(desk_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(desk_settings), base_url="https://testserver") as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_pages_without_a_session_redirect_to_sign_in(client: TestClient) -> None:
    # One app for every page: the answer does not depend on what was asked before.
    for path in DESK_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/login"), path
        if path != "/":
            assert "next=" in location, path


def test_sign_in_returns_to_the_page_asked_for(client: TestClient) -> None:
    first = client.get("/issues", follow_redirects=False)
    login_page = client.get(first.headers["location"])
    assert 'name="next" value="/issues"' in login_page.text
    response = client.post(
        "/login",
        data={
            "email": EDITOR[0],
            "password": EDITOR[1],
            "csrf_token": csrf_from(login_page.text),
            "next": "/issues",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/issues"


def test_next_never_leaves_the_site(client: TestClient) -> None:
    page = client.get("/login?next=https://evil.example/")
    assert 'name="next" value="/"' in page.text
    response = client.post(
        "/login",
        data={
            "email": EDITOR[0],
            "password": EDITOR[1],
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_session_cookie_flags(client: TestClient) -> None:
    response = client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    flags = cookie.lower()
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" in flags  # PUBLIC_BASE_URL is https in the test settings


def test_cookie_is_not_secure_on_plain_http(tmp_path, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    plain = make_settings(tmp_path, sqlite_url, PUBLIC_BASE_URL="http://127.0.0.1:8000")
    with TestClient(create_app(plain)) as test_client:
        cookie = test_client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "secure" not in cookie


def test_a_form_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")  # the browser has a session cookie, but the form has no token
    response = client.post(
        "/login", data={"email": EDITOR[0], "password": EDITOR[1]}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_a_form_with_another_sessions_token_is_refused(
    client: TestClient, desk_settings: Settings
) -> None:
    sign_in(client, ADMIN[0], ADMIN[1])
    with TestClient(create_app(desk_settings), base_url="https://testserver") as other:
        foreign_token = csrf_from(other.get("/login").text)
    response = client.post(
        "/admin/users",
        data={
            "email": "new@example.org",
            "password": "another password",
            "role": "editor",
            "csrf_token": foreign_token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "new@example.org" not in client.get("/admin/users").text


def test_csrf_header_is_accepted_for_scripts(client: TestClient) -> None:
    sign_in(client, ADMIN[0], ADMIN[1])
    token = csrf_from(client.get("/admin/users").text)
    response = client.post(
        "/admin/users",
        data={"email": "script@example.org", "password": "script password", "role": "editor"},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "script@example.org" in client.get("/admin/users").text


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_editor_cannot_reach_admin_pages(client: TestClient, path: str) -> None:
    sign_in(client, EDITOR[0], EDITOR[1])
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 403
    assert "administrator" in response.text


def test_an_editor_cannot_create_accounts(client: TestClient) -> None:
    sign_in(client, EDITOR[0], EDITOR[1])
    token = csrf_from(client.get("/").text)
    response = client.post(
        "/admin/users",
        data={
            "email": "sneaky@example.org",
            "password": "sneaky password",
            "role": "admin",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_an_admin_reaches_admin_pages(client: TestClient) -> None:
    sign_in(client, ADMIN[0], ADMIN[1])
    assert client.get("/admin/users").status_code == 200


def test_sign_out_ends_the_session_even_for_a_copied_cookie(client: TestClient) -> None:
    sign_in(client, EDITOR[0], EDITOR[1])
    stolen = client.cookies.get(SESSION_COOKIE)
    assert stolen
    token = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, stolen, domain="testserver")
    replay = client.get("/", follow_redirects=False)
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")


def test_a_tampered_cookie_is_ignored(client: TestClient) -> None:
    sign_in(client, EDITOR[0], EDITOR[1])
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    client.cookies.clear()
    client.cookies.set(
        SESSION_COOKIE, value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"), domain="testserver"
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_says_what_to_do(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": EDITOR[0], "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Check both and try again" in response.text
    # The same answer for an unknown email: no account enumeration.
    response = client.post(
        "/login", data={"email": "nobody@example.org", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Check both and try again" in response.text


def test_repeated_failures_lock_the_account(desk_settings: Settings) -> None:
    # Many failures from one client are slowed first; here the client limit is out of the way.
    roomy = desk_settings.model_copy(update={"LOGIN_FAILURES_PER_CLIENT": 100})
    client = TestClient(create_app(roomy), base_url="https://testserver")
    token = csrf_from(client.get("/login").text)
    statuses = []
    for _ in range(FAILURES_BEFORE_LOCK):
        response = client.post(
            "/login", data={"email": EDITOR[0], "password": "wrong guess", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * FAILURES_BEFORE_LOCK
    with unit_of_work(desk_settings.database_url) as db:
        user = db.query(User).filter_by(email=EDITOR[0]).one()
        assert user.locked_until is not None
    # The right password is refused while locked, with the same answer as a wrong one.
    locked = client.post(
        "/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token},
        follow_redirects=False,
    )
    assert locked.status_code == 401
    assert "Check both and try again" in locked.text
    assert "locked until" not in locked.text


def test_lock_out_backs_off_and_ends(session: Session, desk_settings: Settings) -> None:
    user = session.query(User).filter_by(email=EDITOR[0]).one()
    assert lock_duration(FAILURES_BEFORE_LOCK - 1) == timedelta(0)
    assert lock_duration(FAILURES_BEFORE_LOCK + 1) > lock_duration(FAILURES_BEFORE_LOCK)
    assert lock_duration(100) == timedelta(hours=24)
    for _ in range(FAILURES_BEFORE_LOCK):
        result = authenticate(session, EDITOR[0], "wrong guess")
    assert result.locked_until is not None
    later = result.locked_until + timedelta(seconds=1)
    ok = authenticate(session, EDITOR[0], EDITOR[1], now=later)
    assert ok.user is not None
    assert user.failed_logins == 0


def test_passwords_are_stored_as_argon2_hashes(session: Session, desk_settings: Settings) -> None:
    user = session.query(User).filter_by(email=EDITOR[0]).one()
    assert user.password_hash.startswith("$argon2id$")
    assert EDITOR[1] not in user.password_hash


def test_public_routes_need_no_session(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/desk.css").status_code == 200
    assert client.get("/login").status_code == 200


def test_browsers_get_error_pages_that_say_what_to_do(client: TestClient) -> None:
    sign_in(client, EDITOR[0], EDITOR[1])
    html = {"Accept": "text/html,application/xhtml+xml"}
    forbidden = client.get("/admin/users", headers=html)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("text/html")
    assert "ask an administrator" in forbidden.text
    missing = client.get("/issues/999999", headers=html)
    assert missing.status_code == 404
    assert "Open the issue list" in missing.text
    refused = client.post("/logout", data={}, headers=html)
    assert refused.status_code == 403
    assert "reload the page" in refused.text


def test_desk_pages_escape_what_came_in_from_feeds(
    client: TestClient, desk_settings: Settings
) -> None:
    from distributor.db import models

    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with unit_of_work(desk_settings.database_url) as db:
        article = models.Article(
            guid="urn:test:hostile",
            source_id=builtin_source(db, SourceKind.DESK).id,
            canonical_url="https://magazine.example.org/stories/hostile",
            title=f"Headline {hostile}",
            dek=hostile,
            content_hash="0" * 64,
        )
        author = models.Author(key="hostile", name=f"Author {hostile}", bio=hostile)
        article.authors.append(models.ArticleAuthor(author=author, position=0))
        article.images.append(models.Image(url="https://img.example.org/1.jpg", credit=hostile))
        db.add(article)
        db.flush()
        article_id = article.id
    sign_in(client, *EDITOR)
    for page in ("/", f"/articles/{article_id}"):
        html = client.get(page).text
        assert "Headline" in html, page
        assert "<script>alert" not in html, page
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), page
        assert "&lt;script&gt;" in html, page
