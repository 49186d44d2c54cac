"""The command, the health endpoints and the deployment file agree with the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from tests.conftest import REPO_ROOT

COMMANDS = [
    ["serve", "--help"],
    ["worker", "--help"],
    ["scheduler", "--help"],
    ["db", "upgrade", "--help"],
    ["ingest", "--help"],
    ["articles", "list", "--help"],
    ["lists", "create", "--help"],
    ["lists", "update", "--help"],
    ["subscribers", "import", "--help"],
    ["issues", "create", "--help"],
    ["issues", "schedule", "--help"],
    ["issues", "send", "--help"],
    ["issues", "cancel", "--help"],
    ["issues", "status", "--help"],
    ["render", "--help"],
    ["feed", "--help"],
    ["partners", "create", "--help"],
    ["users", "create", "--help"],
]


@pytest.mark.slow
def test_every_documented_command_exists() -> None:
    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, (command, result.output)


@pytest.mark.slow
def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "state"), "DATABASE_URL": ""}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "distributor.cli.main", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "state" / "distributor.db").exists()


@pytest.mark.slow
def test_bad_configuration_stops_the_command_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "REDIS_URL": "http://wrong"}
    done = subprocess.run(
        [sys.executable, "-m", "distributor.cli.main", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "REDIS_URL" in done.stderr


def test_health_endpoints(settings: object) -> None:
    from fastapi.testclient import TestClient

    from distributor.web.app import create_app

    client = TestClient(create_app(settings))  # type: ignore[arg-type]
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "embedded"}


def test_readyz_reports_a_dead_broker(tmp_path: Path, sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    from distributor.web.app import create_app
    from tests.conftest import free_port, make_settings

    dead = make_settings(tmp_path, sqlite_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = TestClient(create_app(dead)).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert "ConnectionError" in response.json()["checks"]["broker"]


def test_compose_file_names_real_services_and_commands() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "web",
        "worker-send",
        "worker-other",
        "scheduler",
        "flower",
        "migrate",
    } <= set(services)
    for name in ("postgres", "redis", "web", "worker-send", "worker-other"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) >= {"pgdata", "redisdata"}
    runner = CliRunner()
    for name in ("migrate", "web", "worker-send", "worker-other", "scheduler"):
        command = services[name]["command"]
        assert command[0] == "distributor"
        words = [word for word in command[1:] if not word.startswith("-")][:2]
        result = (
            runner.invoke(cli, [*words[:1], "--help"])
            if words[0] != "db"
            else runner.invoke(cli, [*words, "--help"])
        )
        assert result.exit_code == 0, (name, result.output)
        for option in (word for word in command if word.startswith("--")):
            assert option in result.output, (name, option)
    redis_command = services["redis"]["command"]
    assert "--appendonly" in redis_command
    assert "noeviction" in redis_command
