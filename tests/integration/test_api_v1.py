"""The versioned JSON API, /api/v1: personal tokens (stored hashed, revocable, acting with
their user's role), the desk's work through it (lists, readers, imports, issues with their
pre-flight, partners, sources, the audit log) and its OpenAPI document."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import ApiToken, Article, AuditEntry
from distributor.db.session import unit_of_work
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import article_row

ADMIN = "admin@example.org"
EDITOR = "editor@example.org"
PASSWORD = "a long desk password 4 tests"


@pytest.fixture
def site(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> Iterator[tuple[Settings, TestClient]]:
    settings = use_settings(
        make_settings(
            tmp_path, database_url, MAIL_BACKEND="outbox", FETCH_ALLOW_PRIVATE_ADDRESSES="false"
        )
    )
    with unit_of_work(settings.database_url) as session:
        create_user(session, ADMIN, PASSWORD, role="admin")
        create_user(session, EDITOR, PASSWORD, role="editor")
        article_row(session, 1)
        article_row(session, 2)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield settings, client


def _token(email: str) -> str:
    created = CliRunner().invoke(cli, ["tokens", "create", email, "--name", "tests", "--json"])
    assert created.exit_code == 0, created.output
    token: str = json.loads(created.output)["token"]
    return token


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response: Any) -> str:
    return str(response.json()["detail"]["error"])


def test_tokens_are_stored_hashed_act_as_their_user_and_stop_when_revoked(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    token = _token(EDITOR)
    assert token.startswith("dtok_")

    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=_as("dtok_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": token}).status_code == 401
    me = client.get("/api/v1/me", headers=_as(token))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == EDITOR
    assert me.json()["role"] == "editor"
    with unit_of_work(settings.database_url) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.digest != token
        assert token not in json.dumps([stored.digest, stored.prefix, stored.name])
        assert stored.last_used_at is not None

    listed = CliRunner().invoke(cli, ["tokens", "list", EDITOR, "--json"])
    token_id = json.loads(listed.output)[0]["id"]
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=_as(token))
    assert revoked.status_code == 200
    assert client.get("/api/v1/me", headers=_as(token)).status_code == 401


def test_an_editors_token_cannot_do_what_only_administrators_do(
    site: tuple[Settings, TestClient],
) -> None:
    _settings, client = site
    editor, admin = _token(EDITOR), _token(ADMIN)
    for method, path in (
        ("GET", "/api/v1/partners"),
        ("POST", "/api/v1/partners"),
        ("GET", "/api/v1/audit"),
        ("DELETE", "/api/v1/subscribers?email=reader@example.org"),
    ):
        refused = client.request(method, path, headers=_as(editor), json={"name": "X"})
        assert refused.status_code == 403, (method, path, refused.text)
        assert "administrator" in _error(refused)
    assert client.get("/api/v1/partners", headers=_as(admin)).status_code == 200
    # An editor cannot revoke an administrator's token either.
    admin_token_id = client.get("/api/v1/me", headers=_as(admin)).json()["token"]["id"]
    other = client.delete(f"/api/v1/tokens/{admin_token_id}", headers=_as(editor))
    assert other.status_code == 404
    assert client.get("/api/v1/me", headers=_as(admin)).status_code == 200


def test_the_desks_work_through_the_api_with_the_pre_flight_and_the_audit_log(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    token = _token(EDITOR)
    headers = _as(token)

    made = client.post(
        "/api/v1/lists",
        headers=headers,
        json={"name": "weekly", "title": "The Weekly", "opt_in": "single"},
    )
    assert made.status_code == 201, made.text
    assert (
        client.post("/api/v1/lists", headers=headers, json={"name": "Bad Name"}).status_code == 422
    )
    renamed = client.patch("/api/v1/lists/weekly", headers=headers, json={"title": "Friday"})
    assert renamed.json()["title"] == "Friday"
    assert client.patch("/api/v1/lists/nope", headers=headers, json={}).status_code == 404

    added = client.post(
        "/api/v1/lists/weekly/subscribers",
        headers=headers,
        json={"email": "reader.one@example.org", "name": "One", "confirmed": True},
    )
    assert added.status_code == 201, added.text
    bad_reader = client.post(
        "/api/v1/lists/weekly/subscribers", headers=headers, json={"email": "not an address"}
    )
    assert bad_reader.status_code == 422
    csv = "email,name,status\nreader.two@example.org,Two,confirmed\nbroken,Three,confirmed\n"
    imported = client.post(
        "/api/v1/lists/weekly/imports",
        headers={**headers, "Content-Type": "text/csv"},
        content=csv.encode(),
    )
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["accepted"] == 1
    assert report["rejected"] == 1
    assert report["problems"][0]["line"] == 3
    shown = client.get(
        "/api/v1/subscribers", headers=headers, params={"email": "reader.two@example.org"}
    )
    assert shown.json()["subscriber"]["name"] == "Two"

    with unit_of_work(settings.database_url) as session:
        ids = list(session.scalars(select(Article.id).order_by(Article.id)))
    issue = client.post(
        "/api/v1/issues",
        headers=headers,
        json={"lists": ["weekly"], "subject": "Ferries", "article_ids": ids},
    )
    assert issue.status_code == 201, issue.text
    issue_id = issue.json()["id"]
    edited = client.patch(
        f"/api/v1/issues/{issue_id}", headers=headers, json={"subject": "Ferries at dawn"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["subject"] == "Ferries at dawn"

    # A story under embargo blocks the send, whatever "confirm" says.
    with unit_of_work(settings.database_url) as session:
        session.execute(
            update(Article)
            .where(Article.id == ids[0])
            .values(embargo_until=datetime.now(UTC) + timedelta(days=3))
        )
    blocked = client.post(
        f"/api/v1/issues/{issue_id}/send", headers=headers, json={"confirm": True}
    )
    assert blocked.status_code == 422, blocked.text
    assert "embargo" in _error(blocked)
    assert blocked.json()["detail"]["preflight"]["may_send"] is False
    with unit_of_work(settings.database_url) as session:
        session.execute(update(Article).where(Article.id == ids[0]).values(embargo_until=None))

    preflight = client.get(f"/api/v1/issues/{issue_id}/preflight", headers=headers)
    assert preflight.status_code == 200, preflight.text
    assert preflight.json()["recipients"] == 2
    if preflight.json()["problems"]:  # warnings (missing credits, ...) need a confirmation
        unconfirmed = client.post(f"/api/v1/issues/{issue_id}/send", headers=headers, json={})
        assert unconfirmed.status_code == 409
        assert '"confirm": true' in _error(unconfirmed)
    sent = client.post(f"/api/v1/issues/{issue_id}/send", headers=headers, json={"confirm": True})
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "scheduled"
    again = client.post(f"/api/v1/issues/{issue_id}/cancel", headers=headers)
    assert again.status_code in (200, 409)
    assert client.get(f"/api/v1/issues/{issue_id}/report", headers=headers).status_code == 200
    assert client.get("/api/v1/issues/999999", headers=headers).status_code == 404

    with unit_of_work(settings.database_url) as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    by_api = [entry for entry in entries if entry.actor_kind == "api"]
    assert {entry.action for entry in by_api} >= {
        "list.create",
        "list.update",
        "subscriber.add",
        "subscribers.import",
        "issue.create",
        "issue.edit",
        "issue.send_now",
    }
    assert all(entry.actor.startswith(f"{EDITOR} (token dtok_") for entry in by_api)
    assert token not in json.dumps([entry.actor for entry in entries])


def test_partners_sources_and_the_audit_log_for_administrators(
    site: tuple[Settings, TestClient],
) -> None:
    _settings, client = site
    headers = _as(_token(ADMIN))
    created = client.post(
        "/api/v1/partners",
        headers=headers,
        json={"name": "Taipei Daily", "formats": ["rss", "ninjs"], "languages": ["zh"]},
    )
    assert created.status_code == 201, created.text
    key = created.json()["api_key"]
    assert key.startswith("dst_")
    assert client.get("/partners/feed/rss", headers={"X-Api-Key": key}).status_code in (200, 503)
    shown = client.get("/api/v1/partners/Taipei Daily", headers=headers).json()
    assert "api_key" not in shown
    changed = client.patch(
        "/api/v1/partners/Taipei Daily", headers=headers, json={"territory": "tw"}
    )
    assert changed.json()["territory"] == "TW"
    rotated = client.post("/api/v1/partners/Taipei Daily/rotate-key", headers=headers)
    assert rotated.json()["api_key"] != key
    # (the old key stops within the feed cache's 2 s: tests/integration/test_feeds_http.py)
    private = client.post(
        "/api/v1/partners",
        headers=headers,
        json={"name": "Loopback", "push_url": "http://127.0.0.1:9/hook"},
    )
    assert private.status_code == 422

    source = client.post(
        "/api/v1/sources", headers=headers, json={"url": "http://127.0.0.1/feed.xml"}
    )
    assert source.status_code == 422  # a loopback feed is refused unless allowed
    listed = client.get("/api/v1/sources", headers=headers)
    assert listed.json() == {"sources": []}

    audit = client.get("/api/v1/audit", headers=headers, params={"action": "partner."})
    actions = [entry["action"] for entry in audit.json()["entries"]]
    assert actions == ["partner.rotate_key", "partner.update", "partner.create"]


def test_the_openapi_document_needs_a_token_and_describes_the_api(
    site: tuple[Settings, TestClient],
) -> None:
    _settings, client = site
    assert client.get("/api/v1/openapi.json").status_code == 401
    document = client.get("/api/v1/openapi.json", headers=_as(_token(EDITOR)))
    assert document.status_code == 200
    spec = document.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["version"] == "1"
    assert {"/api/v1/issues", "/api/v1/lists", "/api/v1/partners", "/api/v1/audit"} <= set(
        spec["paths"]
    )
    assert "/api/v1/openapi.json" not in spec["paths"]
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    # The interactive documentation stays off without API_DOCS.
    assert client.get("/api/docs").status_code == 404


def test_a_user_creates_and_revokes_a_token_in_the_desk(
    site: tuple[Settings, TestClient],
) -> None:
    _settings, client = site
    page = client.get("/login")
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token_field
    signed_in = client.post(
        "/login",
        data={"email": EDITOR, "password": PASSWORD, "csrf_token": token_field.group(1)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    tokens_page = client.get("/account/tokens")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', tokens_page.text)
    assert csrf
    created = client.post(
        "/account/tokens", data={"name": "CMS script", "csrf_token": csrf.group(1)}
    )
    assert created.status_code == 201
    shown = re.search(r'value="(dtok_[^"]+)"', created.text)
    assert shown, "the new token is shown once"
    token = shown.group(1)
    assert client.get("/api/v1/me", headers=_as(token)).json()["email"] == EDITOR
    assert token not in client.get("/account/tokens").text  # never shown again
    token_id = re.search(r"/account/tokens/(\d+)/revoke", created.text)
    assert token_id
    client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf.group(1)})
    assert client.get("/api/v1/me", headers=_as(token)).status_code == 401


def test_schedules_through_the_api_are_audited_as_the_tokens_user(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    headers = _as(_token(EDITOR))
    assert client.post("/api/v1/lists", headers=headers, json={"name": "weekly"}).status_code == 201
    assert client.get("/api/v1/schedules").status_code == 401
    created = client.post(
        "/api/v1/schedules",
        headers=headers,
        json={
            "name": "friday",
            "list": "weekly",
            "cron": "0 8 * * fri",
            "timezone": "Asia/Hong_Kong",
        },
    )
    assert created.status_code == 201, created.text
    paused = client.post("/api/v1/schedules/friday/pause", headers=headers)
    assert paused.json()["paused"] is True
    bad = client.patch("/api/v1/schedules/friday", headers=headers, json={"cron": "every day"})
    assert bad.status_code == 422
    with unit_of_work(settings.database_url) as session:
        actions = [
            (entry.action, entry.actor.split(" ")[0])
            for entry in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_type == "schedule")
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [("schedule.create", EDITOR), ("schedule.pause", EDITOR)]
