"""The desk's everyday basics: the newsroom's time zone, the sender's name, HEAD and the icon."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import _create_issue, seed_newsroom, sign_in


@pytest.fixture
def taipei_desk(
    tmp_path: Path, sqlite_url: str
) -> Iterator[tuple[TestClient, Settings, dict[str, int]]]:
    """A desk whose newsroom works in Taipei, with the default sender name."""
    settings = make_settings(
        tmp_path, sqlite_url, OUTBOX_DIR=str(tmp_path / "outbox"), NEWSROOM_TIMEZONE="Asia/Taipei"
    )
    ids = seed_newsroom(settings.database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, settings, ids


def test_the_schedule_form_and_the_times_use_the_newsroom_zone(taipei_desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = taipei_desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    page = client.get(f"/issues/{issue_id}").text
    assert 'name="timezone" type="text" list="zones" required value="Asia/Taipei"' in page
    assert '<option value="America/Argentina/Buenos_Aires">' in page  # every IANA zone
    # A form without a zone (an older page, a script) means the newsroom's zone.
    done = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-07-01",
            "send_time": "08:00",
            "confirm": "1",
        },
    )
    assert "Scheduled" in done.text
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        assert issue.send_at == datetime(2099, 7, 1, 0, 0, tzinfo=UTC)
    assert "2099-07-01 08:00 CST" in client.get(f"/issues/{issue_id}").text
    assert "2099-07-01 08:00 CST" in client.get("/issues").text
    # Scheduled from London, it is still shown in Taipei first, with London beside it.
    client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-07-01",
            "send_time": "08:00",
            "timezone": "Europe/London",
            "confirm": "1",
        },
    )
    page = client.get(f"/issues/{issue_id}").text
    assert "2099-07-01 15:00 CST" in page
    assert "(2099-07-01 08:00 BST)" in page
    # Other pages: a reader's "since" date carries the zone too.
    assert " CST</td>" in client.get("/subscribers").text


def test_a_test_copy_is_sent_as_the_publication(taipei_desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = taipei_desk
    assert settings.MAIL_FROM_NAME == settings.PUBLISHER_NAME == "Distributor Demo Magazine"
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    sent = client.post(
        f"/issues/{issue_id}/test-send",
        data={"csrf_token": token, "addresses": "editor@example.org"},
    )
    assert "Test sent to editor@example.org" in sent.text
    (path,) = settings.outbox_dir.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes())
    name, address = parseaddr(str(message["From"]))
    assert (name, address) == ("Distributor Demo Magazine", "newsletter@localhost")


def test_head_is_answered_like_get_and_the_icon_is_there(taipei_desk) -> None:  # type: ignore[no-untyped-def]
    client, _settings, _ids = taipei_desk
    for path in ("/login", "/healthz", "/static/desk.css", "/favicon.ico"):
        got = client.get(path)
        head = client.head(path)
        assert got.status_code == head.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-length"] == str(len(got.content)), path
    # A page behind sign-in answers HEAD with the same redirect as GET.
    assert client.head("/issues", follow_redirects=False).status_code == 303
    icon = client.get("/favicon.ico")
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/login").text
    # A POST-only address still refuses HEAD, as it refuses GET.
    assert client.head("/logout").status_code == client.get("/logout").status_code
