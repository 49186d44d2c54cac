"""The audit log: desk, API and command-line actions are recorded with who, when, what and the
before/after of what changed; readers never appear by address, and an erasure blanks what the
log says about them; admins read it in the desk and on the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import AuditEntry, MailingList, Subscriber
from distributor.db.session import unit_of_work
from distributor.services.demo import load_demo
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import article_row

ADMIN = "admin@example.org"
EDITOR = "editor@example.org"
PASSWORD = "a long desk password 4 tests"


def _entries(settings: Settings) -> list[AuditEntry]:
    with unit_of_work(settings.database_url) as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Settings, TestClient]]:
    settings = make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox")
    with unit_of_work(settings.database_url) as session:
        load_demo(session, settings)
        create_user(session, ADMIN, PASSWORD, role="admin")
        create_user(session, EDITOR, PASSWORD, role="editor")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield settings, client


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": _csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    return response.status_code


def test_desk_actions_are_recorded_with_the_user_and_what_changed(
    site: tuple[Settings, TestClient],
) -> None:
    settings, client = site
    assert _sign_in(client, EDITOR, "not the password at all") == 401
    assert _sign_in(client, "nobody@example.org", "not the password at all") == 401
    assert _sign_in(client, EDITOR) == 303
    with unit_of_work(settings.database_url) as session:
        list_id = session.scalar(select(MailingList.id).where(MailingList.name == "weekly"))
    page = client.get(f"/lists/{list_id}")
    changed = client.post(
        f"/lists/{list_id}",
        data={
            "csrf_token": _csrf(page.text),
            "title": "The Friday Dispatch",
            "description": "Every Friday",
            "language": "en",
            "opt_in": "single",
            "visibility": "public",
        },
        follow_redirects=False,
    )
    assert changed.status_code in (200, 303), changed.text

    entries = _entries(settings)
    actions = [(entry.action, entry.actor, entry.actor_kind) for entry in entries]
    assert ("user.sign_in_failed", EDITOR, "anonymous") in actions
    assert ("user.sign_in_failed", "unknown account", "anonymous") in actions
    assert ("user.sign_in", EDITOR, "user") in actions
    update = next(entry for entry in entries if entry.action == "list.update")
    assert update.actor == EDITOR
    assert update.target_type == "list"
    assert update.target_id == "weekly"
    assert update.changes["title"] == ["The Weekly Dispatch", "The Friday Dispatch"]
    assert update.client
    # The failed attempt for an unknown account did not store the address typed.
    assert all("nobody@example.org" not in json.dumps(entry.changes) for entry in entries)
    assert all(entry.actor != "nobody@example.org" for entry in entries)


def test_only_admins_read_the_log_and_filters_work(site: tuple[Settings, TestClient]) -> None:
    _settings, client = site
    assert _sign_in(client, EDITOR) == 303
    assert client.get("/admin/audit").status_code == 403
    client.post("/logout", data={"csrf_token": _csrf(client.get("/").text)})
    assert _sign_in(client, ADMIN) == 303
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "user.sign_in" in page.text
    assert EDITOR in page.text
    only_admin = client.get("/admin/audit", params={"actor": ADMIN})
    assert ADMIN in only_admin.text
    assert f"<td>{EDITOR}" not in only_admin.text
    assert "No entries match." in client.get("/admin/audit", params={"action": "issue."}).text
    users_only = client.get("/admin/audit", params={"action": "user."}).text
    assert "user.sign_in" in users_only
    bad = client.get("/admin/audit", params={"since": "last tuesday"})
    assert bad.status_code == 400
    assert "is not a date" in bad.text


def test_command_line_actions_name_the_operating_system_user(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox"))
    with unit_of_work(settings.database_url) as session:
        article = article_row(session)
        article_id = article.id
    runner = CliRunner()
    made = runner.invoke(cli, ["lists", "create", "weekly", "--title", "Weekly", "--json"])
    assert made.exit_code == 0, made.output
    issue = runner.invoke(
        cli,
        [
            "issues",
            "create",
            "--list",
            "weekly",
            "--subject",
            "Ferries",
            "--article",
            str(article_id),
            "--json",
        ],
    )
    assert issue.exit_code == 0, issue.output
    issue_id = json.loads(issue.output)["id"]
    cancelled = runner.invoke(cli, ["issues", "cancel", str(issue_id)])
    assert cancelled.exit_code == 0, cancelled.output

    listed = runner.invoke(cli, ["audit", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert [entry["action"] for entry in entries] == ["issue.cancel", "issue.create", "list.create"]
    assert all(entry["actor"].startswith("cli:") for entry in entries)
    assert entries[0]["changes"]["status"] == ["draft", "cancelled"]
    only_issues = runner.invoke(cli, ["audit", "list", "--action", "issue.", "--json"])
    assert len(json.loads(only_issues.output)) == 2
    nobody = runner.invoke(cli, ["audit", "list", "--actor", "someone@example.org", "--json"])
    assert json.loads(nobody.output) == []
    later = runner.invoke(cli, ["audit", "list", "--since", "2999-01-01", "--json"])
    assert json.loads(later.output) == []
    wrong = runner.invoke(cli, ["audit", "list", "--since", "soon"])
    assert wrong.exit_code == 1
    assert "not an ISO 8601 time" in wrong.output


def test_erasing_a_reader_blanks_what_the_log_says_about_them(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox"))
    runner = CliRunner()
    assert runner.invoke(cli, ["lists", "create", "weekly"]).exit_code == 0
    added = runner.invoke(
        cli,
        [
            "subscribers",
            "add",
            "reader.one@example.org",
            "--list",
            "weekly",
            "--name",
            "Reader One",
            "--confirmed",
        ],
    )
    assert added.exit_code == 0, added.output
    with unit_of_work(settings.database_url) as session:
        reader_id = session.scalar(select(Subscriber.id))
    before = [entry for entry in _entries(settings) if entry.target_type == "subscriber"]
    assert [entry.action for entry in before] == ["subscriber.add"]
    assert before[0].target_id == str(reader_id)

    erased = runner.invoke(cli, ["subscribers", "erase", "reader.one@example.org"])
    assert erased.exit_code == 0, erased.output

    entries = _entries(settings)
    dumped = json.dumps(
        [[entry.summary, entry.changes, entry.actor, entry.target_id] for entry in entries]
    )
    assert "reader.one" not in dumped
    assert "Reader One" not in dumped
    about = [entry for entry in entries if entry.target_type == "subscriber"]
    assert [entry.action for entry in about] == ["subscriber.add", "subscriber.erase"]
    assert about[0].summary == "[erased reader]"
    assert about[0].changes == {}
