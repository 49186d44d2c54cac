"""`issues schedule` and `issues send --now`: pre-flight summary, --yes, no hanging without a
terminal, and embargoes refused with a non-zero exit (SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import Image, Issue
from distributor.db.session import unit_of_work
from distributor.services.issues import create_issue
from tests.conftest import REPO_ROOT, make_settings
from tests.factories.audience import article_row, make_list, subscribe

SECRET_TITLE = "Leaked files show the ministry knew"


def _html_body(path: Path) -> str:
    """The decoded HTML part of an outbox message (its transfer encoding varies with content)."""
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(("html",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


def _issue(settings: Settings, *, embargo: datetime | None) -> int:
    """An issue of two stories for two readers; the second is embargoed until ``embargo``."""
    with unit_of_work(settings.database_url) as db:
        weekly = make_list(db)
        subscribe(db, "ana@example.org", weekly.id)
        subscribe(db, "bo@example.org", weekly.id)
        first = article_row(db, 1)
        first.images.append(Image(url="https://img.example.org/a.jpg", credit=None, alt="Dawn"))
        second = article_row(db, 2)
        second.title = SECRET_TITLE
        second.embargo_until = embargo
        return create_issue(db, ["weekly"], "This week", [first.id, second.id]).id


def _status(settings: Settings, issue_id: int) -> str:
    with unit_of_work(settings.database_url) as db:
        issue = db.get(Issue, issue_id)
        assert issue is not None
        return issue.status


def test_send_now_and_schedule_before_the_embargo_exit_non_zero_naming_the_story(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    issue_id = _issue(settings, embargo=datetime(2030, 1, 1, 6, 0, tzinfo=UTC))
    runner = CliRunner()

    now = runner.invoke(cli, ["issues", "send", str(issue_id), "--now", "--yes"])
    assert now.exit_code == 1, now.output
    assert SECRET_TITLE in now.output
    assert "embargoed until 2030-01-01 06:00 UTC" in now.output
    assert "earliest allowed time is 2030-01-01 06:00 UTC" in now.output

    early = runner.invoke(
        cli,
        [
            "issues",
            "schedule",
            str(issue_id),
            "--at",
            "2029-12-31T09:00",
            "--timezone",
            "Asia/Hong_Kong",
            "--yes",
        ],
    )
    assert early.exit_code == 1, early.output
    assert "BLOCKED" in early.output
    assert "2030-01-01 14:00 Asia/Hong_Kong (2030-01-01 06:00 UTC)" in early.output
    assert _status(settings, issue_id) == "draft"
    assert not settings.outbox_dir.exists() or not list(settings.outbox_dir.glob("*.eml"))

    later = runner.invoke(
        cli,
        [
            "issues",
            "schedule",
            str(issue_id),
            "--at",
            "2030-01-01T14:00",
            "--timezone",
            "Asia/Hong_Kong",
            "--yes",
            "--json",
        ],
    )
    assert later.exit_code == 0, later.output
    data = json.loads(later.stdout)
    assert data["status"] == "scheduled"
    assert data["preflight"]["recipients"] == 2
    assert [item["kind"] for item in data["preflight"]["problems"]] == ["missing_credit"]


def test_without_yes_and_without_a_terminal_the_cli_refuses_instead_of_waiting(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    issue_id = _issue(settings, embargo=None)

    result = CliRunner().invoke(cli, ["issues", "send", str(issue_id), "--now"])

    assert result.exit_code == 1, result.output
    assert "Issue 1: 2 recipients, now." in result.output
    assert "warning: “River towns count the cost, part 1”: image 1 has no credit" in result.output
    assert "--yes" in result.output
    assert _status(settings, issue_id) == "draft"


def test_with_yes_an_issue_whose_embargo_has_passed_is_sent_to_every_reader(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    issue_id = _issue(settings, embargo=datetime(2020, 1, 1, tzinfo=UTC))

    result = CliRunner().invoke(cli, ["issues", "send", str(issue_id), "--now", "--yes"])

    assert result.exit_code == 0, result.output
    assert _status(settings, issue_id) == "sent"
    mailed = list(settings.outbox_dir.glob("issue-*.eml"))
    assert len(mailed) == 2
    assert all(SECRET_TITLE in _html_body(path) for path in mailed)


@pytest.mark.slow
def test_on_a_terminal_the_cli_asks_and_schedules_only_after_yes(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    issue_id = _issue(settings, embargo=None)
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL"}}
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "DATA_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "LOG_FORMAT": "text",
            "COLUMNS": "200",
        }
    )

    def run(answer: bytes) -> tuple[int, str]:
        main, child = pty.openpty()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributor.cli.main",
                "issues",
                "schedule",
                str(issue_id),
                "--at",
                "2099-01-01T08:00",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=child,
            stdout=child,
            stderr=child,
        )
        os.close(child)
        output = b""
        answered = False
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(main, answer + b"\n")
                answered = True
        os.close(main)
        return process.wait(timeout=60), output.decode("utf-8", "replace")

    code, output = run(b"n")
    assert code == 1, output
    assert "Send issue 1 to 2 recipient(s) at 2099-01-01 08:00 UTC" in output
    assert "not confirmed" in output
    assert _status(settings, issue_id) == "draft"

    code, output = run(b"y")
    assert code == 0, output
    assert _status(settings, issue_id) == "scheduled"
