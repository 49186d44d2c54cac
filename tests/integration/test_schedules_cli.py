"""`distributor schedules ...` end to end on SQLite and PostgreSQL: create, list, show,
update, pause, resume, delete and run-due, with --json and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import Issue
from distributor.db.session import unit_of_work
from tests.conftest import REPO_ROOT, TEST_SECRET_KEY, make_settings
from tests.factories.audience import make_list
from tests.factories.schedules import desk_user, story
from tests.support.outbox import body_text, read_outbox
from tests.support.serve_process import inherited_environment

# Friday 4 January 2030, 08:00 in Hong Kong; the schedule is created "now" (before it).
OCCURRENCE = datetime(2030, 1, 4, 0, 0, tzinfo=UTC)


def _newsroom(settings: Settings) -> None:
    with unit_of_work(settings.database_url) as db:
        make_list(db, "weekly", language="en-GB")
        desk_user(db, "editor@news.example.org")
        desk_user(db, "gone@news.example.org", disabled=True)
        story(db, 1, datetime(2030, 1, 1, tzinfo=UTC), title="Ferry fares fall", tags=("boats",))
        story(db, 2, datetime(2030, 1, 2, tzinfo=UTC), title="Tide tables change")


def test_create_run_due_and_manage(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    _newsroom(settings)
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "schedules",
            "create",
            "friday",
            "--list",
            "weekly",
            "--cron",
            "0 8 * * fri",
            "--timezone",
            "Asia/Hong_Kong",
            "--mode",
            "draft",
            "--layout",
            "full",
            "--min-stories",
            "1",
            "--max-stories",
            "10",
            "--subject",
            "{date}: {first_title} and {count} more",
            "--json",
        ],
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert data["name"] == "friday"
    assert data["layout"] == "full"
    assert data["next_occurrence_local"].endswith("T08:00+08:00")

    listed = runner.invoke(cli, ["schedules", "list", "--json"])
    assert [row["name"] for row in json.loads(listed.stdout)] == ["friday"]

    ran = runner.invoke(cli, ["schedules", "run-due", "--at", "2030-01-04T08:05+08:00", "--json"])
    assert ran.exit_code == 0, ran.output
    [row] = json.loads(ran.stdout)
    assert row["status"] == "created"
    assert row["occurs_at"] == OCCURRENCE.isoformat()
    assert row["issue_status"] == "draft"
    assert row["stories"] == 2
    # Run again: the occurrence is done, nothing new.
    again = runner.invoke(cli, ["schedules", "run-due", "--at", "2030-01-04T09:00+08:00"])
    assert again.exit_code == 0
    assert "no schedule was due" in again.stdout

    # The desk user (not the disabled account) got an email with a link to the draft.
    [message] = read_outbox(settings.outbox_dir, "desk-notification-")
    assert message["To"] == "editor@news.example.org"
    assert "4 January 2030: Tide tables change and 2 more" in str(message["Subject"])
    assert f"https://news.example.org/issues/{row['issue_id']}" in body_text(message)

    shown = runner.invoke(cli, ["schedules", "show", "friday"])
    assert shown.exit_code == 0
    assert f"issue {row['issue_id']}" in shown.stdout

    updated = runner.invoke(
        cli, ["schedules", "update", "friday", "--tag", "boats", "--mode", "auto", "--json"]
    )
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["tag"] == "boats"
    assert json.loads(updated.stdout)["mode"] == "auto"
    paused = runner.invoke(cli, ["schedules", "pause", "friday", "--json"])
    assert json.loads(paused.stdout)["paused"] is True
    assert json.loads(paused.stdout)["next_occurrence"] is None
    resumed = runner.invoke(cli, ["schedules", "resume", "friday", "--json"])
    assert json.loads(resumed.stdout)["paused"] is False
    deleted = runner.invoke(cli, ["schedules", "delete", "friday"])
    assert deleted.exit_code == 0
    assert runner.invoke(cli, ["schedules", "show", "friday"]).exit_code == 1


def test_errors_name_the_option_and_exit_non_zero(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    _newsroom(settings)
    runner = CliRunner()
    base = ["schedules", "create", "x", "--list", "weekly", "--timezone", "UTC"]
    bad_cron = runner.invoke(cli, [*base, "--cron", "every friday"])
    assert bad_cron.exit_code == 1
    assert "--cron 'every friday'" in bad_cron.stderr
    bad_field = runner.invoke(cli, [*base, "--cron", "0 8 * * *", "--subject", "{headline}"])
    assert bad_field.exit_code == 1
    assert "unknown field {headline}" in bad_field.stderr
    bad_zone = runner.invoke(
        cli,
        [
            "schedules",
            "create",
            "x",
            "--list",
            "weekly",
            "--cron",
            "0 8 * * *",
            "--timezone",
            "Moon/Base",
        ],
    )
    assert "--timezone 'Moon/Base'" in bad_zone.stderr
    bad_at = runner.invoke(cli, ["schedules", "run-due", "--at", "friday"])
    assert bad_at.exit_code == 1
    assert "--at 'friday'" in bad_at.stderr
    missing = runner.invoke(cli, ["schedules", "pause", "nope"])
    assert missing.exit_code == 1
    assert "no schedule is called 'nope'" in missing.stderr


def test_two_run_due_processes_at_once_make_each_issue_once(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    _newsroom(settings)
    runner = CliRunner()
    for number in range(8):
        made = runner.invoke(
            cli,
            [
                "schedules",
                "create",
                f"digest-{number}",
                "--list",
                "weekly",
                "--cron",
                "0 8 * * fri",
                "--timezone",
                "Asia/Hong_Kong",
            ],
        )
        assert made.exit_code == 0, made.output
    env = inherited_environment()
    env.update(
        {
            "DATA_DIR": str(settings.DATA_DIR),
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": TEST_SECRET_KEY,
            "PUBLIC_BASE_URL": "https://news.example.org",
        }
    )
    command = [sys.executable, "-m", "distributor.cli.main", "schedules", "run-due"]
    command += ["--at", "2030-01-04T08:01+08:00", "--json"]
    processes = [
        subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    reported = [row for stdout, _ in outputs for row in json.loads(stdout)]
    # A third run (the next tick) finishes whatever a busy database made one of them leave.
    again = runner.invoke(cli, ["schedules", "run-due", "--at", "2030-01-04T08:02+08:00", "--json"])
    reported += json.loads(again.stdout)
    names = [row["schedule"] for row in reported]
    assert sorted(names) == sorted(f"digest-{number}" for number in range(8))
    with unit_of_work(settings.database_url) as db:
        assert db.scalar(select(func.count()).select_from(Issue)) == 8
