"""Schedules over the web on SQLite and PostgreSQL: the JSON API (X-Api-Key) and the desk
page (list, create form with its errors, pause and resume)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from distributor.config import Settings
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import seed_newsroom, sign_in

KEY = {"X-Api-Key": "schedule-key-123"}


@pytest.fixture
def web(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(
        tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"), API_KEY=KEY["X-Api-Key"]
    )
    seed_newsroom(settings.database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, settings


def test_api_creates_lists_changes_pauses_and_deletes(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    body = {
        "name": "friday",
        "list": "weekly",
        "cron": "0 8 * * fri",
        "timezone": "Asia/Hong_Kong",
        "mode": "auto",
        "layout": "full",
        "max_stories": 5,
        "subject": "{date}: {first_title}",
        "tag": "rivers",
    }
    assert client.post("/api/schedules", json=body).status_code == 401
    created = client.post("/api/schedules", json=body, headers=KEY)
    assert created.status_code == 201, created.text
    assert created.json()["next_occurrence_local"].endswith("T08:00+08:00")
    assert created.json()["tag"] == "rivers"
    assert [row["name"] for row in client.get("/api/schedules", headers=KEY).json()] == ["friday"]

    changed = client.patch("/api/schedules/friday", json={"tag": "", "mode": "draft"}, headers=KEY)
    assert changed.status_code == 200, changed.text
    assert changed.json()["tag"] is None
    assert changed.json()["mode"] == "draft"
    assert changed.json()["max_stories"] == 5
    paused = client.post("/api/schedules/friday/pause", headers=KEY).json()
    assert paused["paused"] is True
    assert client.post("/api/schedules/friday/resume", headers=KEY).json()["paused"] is False
    shown = client.get("/api/schedules/friday", headers=KEY).json()
    assert shown["occurrences"] == []
    assert client.delete("/api/schedules/friday", headers=KEY).json() == {"deleted": "friday"}
    assert client.get("/api/schedules/friday", headers=KEY).status_code == 404


def test_api_refusals_name_the_field(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    base = {"name": "x", "list": "weekly", "cron": "0 8 * * fri", "timezone": "UTC"}
    bad_subject = client.post("/api/schedules", json={**base, "subject": "{oops}"}, headers=KEY)
    assert bad_subject.status_code == 422
    assert "unknown field {oops}" in bad_subject.json()["detail"]
    bad_cron = client.post("/api/schedules", json={**base, "cron": "0 8 *"}, headers=KEY)
    assert bad_cron.status_code == 422
    assert "--cron" in bad_cron.json()["detail"]
    unknown = client.post("/api/schedules", json={**base, "colour": "red"}, headers=KEY)
    assert unknown.status_code == 422
    assert client.patch("/api/schedules/nope", json={}, headers=KEY).status_code == 404


def test_api_is_off_without_a_key(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert client.get("/api/schedules", headers=KEY).status_code == 403


def test_desk_page_creates_pauses_and_resumes(web: tuple[TestClient, Settings]) -> None:
    client, _ = web
    token = sign_in(client)
    page = client.get("/schedules")
    assert page.status_code == 200
    assert "No schedules yet." in page.text
    form = {
        "csrf_token": token,
        "name": "morning",
        "list": "weekly",
        "cron": "0 7 * * *",
        "timezone": "Europe/London",
        "mode": "draft",
        "layout": "excerpt",
        "min_stories": "1",
        "max_stories": "10",
        "subject": "{date}: <b>{first_title}</b>",
    }
    refused = client.post("/schedules", data={**form, "cron": "daily"})
    assert refused.status_code == 400
    assert "Schedule not created: Cron &#39;daily&#39;" in refused.text
    # What was typed comes back, escaped.
    assert 'value="{date}: &lt;b&gt;{first_title}&lt;/b&gt;"' in refused.text
    made = client.post("/schedules", data=form, follow_redirects=False)
    assert made.status_code == 303
    listed = client.get("/schedules").text
    assert 'data-schedule="morning"' in listed
    assert "Pause morning" in listed
    assert (
        client.post(
            "/schedules/morning/pause", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "Resume morning" in client.get("/schedules").text
    # Without the CSRF token nothing changes.
    client.post("/schedules/morning/resume", data={}, follow_redirects=False)
    assert "Resume morning" in client.get("/schedules").text
    client.post("/schedules/morning/resume", data={"csrf_token": token})
    assert "Pause morning" in client.get("/schedules").text
