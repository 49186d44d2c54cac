"""Malformed input gets a 4xx with a reason instead of a 500; private files are private;
the API schema and Flower are not open to anyone."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import REPO_ROOT, make_settings
from tests.support.live_app import live_app
from tests.support.webhook_signing import EventSigner, event_body

EDITOR = ("errors.editor@example.org", "errors editor password 1")


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url)
    with unit_of_work(settings.database_url) as db:
        create_user(db, EDITOR[0], EDITOR[1], name="Errors Editor", role="editor")
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        client.post(
            "/login",
            data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token.group(1)},
        )
        yield client


def test_a_non_ascii_digit_in_the_webhook_timestamp_is_a_400(tmp_path: Path) -> None:
    signer = EventSigner()
    settings = make_settings(tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key_b64)
    body = event_body([{"event": "delivered", "email": "a@example.org", "sg_event_id": "x"}])
    headers = signer.sign(body)
    # Latin-1 "²": str.isdigit() says yes, int() and .encode("ascii") say no.
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    raw_headers = [
        (name, b"\xb2" if name.lower() == b"x-twilio-email-event-webhook-timestamp" else value)
        for name, value in raw_headers
    ]
    with live_app(settings) as base:
        response = httpx.post(f"{base}/webhooks/sendgrid", content=body, headers=raw_headers)
        assert response.status_code == 400, response.text
        assert "timestamp" in response.json()["error"]


def test_a_control_character_in_the_path_is_a_400(desk: TestClient) -> None:
    response = desk.get("/static/desk.js%00.png")
    assert response.status_code == 400
    assert "control character" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/subscribers/99999999999999999999",
        "/issues/99999999999999999999",
        "/lists/99999999999999999999",
        "/subscribers?page=99999999999999999999",
    ],
)
def test_a_number_too_large_for_the_database_is_not_a_500(desk: TestClient, path: str) -> None:
    response = desk.get(path)
    assert response.status_code in (400, 404), response.text
    if response.status_code == 400:
        assert "too large" in response.text


def test_database_and_secret_key_files_are_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, SECRET_KEY="")
    upgrade(settings.database_url)
    engine_for(settings.database_url).dispose()
    settings.secret_key()
    database_file = tmp_path / "var" / "distributor.db"
    for path in (database_file, tmp_path / "var" / "secret.key"):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, f"{path.name} is {oct(mode)}"


# The schema generator warns about the feeds' GET+HEAD routes sharing an operation id.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_api_docs_and_schema_are_off_unless_enabled(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        assert client.get("/api/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    with TestClient(create_app(make_settings(tmp_path, API_DOCS="true"))) as client:
        assert client.get("/api/docs").status_code == 200
        assert client.get("/openapi.json").json()["info"]["title"] == "Distributor"


def test_flower_requires_a_login() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    flower = compose["services"]["flower"]
    command = " ".join(flower.get("command", []))
    environment = flower.get("environment", {})
    assert "--basic-auth" in command or "FLOWER_BASIC_AUTH" in environment
    # No default password: compose refuses to start without one (${VAR:?message}).
    assert ":?" in str(environment.get("FLOWER_BASIC_AUTH", command))
