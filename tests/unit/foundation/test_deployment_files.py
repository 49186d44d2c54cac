"""The scaled-out deployment as written: docker-compose.yml is valid Compose, every service is
supervised and health-checked, and .env.example names every setting with a default that is the
real one (there is no Docker daemon here: the files are checked, not run)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from distributor.config import DEPLOYMENT_REQUIRED, Settings
from workers.celery_app import QUEUES

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "compose" / "compose-spec.json"
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return loaded


def _env_example() -> dict[str, tuple[bool, str]]:
    """NAME -> (commented out, value) for each setting line of .env.example."""
    found: dict[str, tuple[bool, str]] = {}
    for line in (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            name = match.group(2)
            assert name not in found, f".env.example names {name} twice"
            found[name] = (match.group(1) is not None, match.group(3))
    return found


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    if not SCHEMA.exists():
        pytest.fail(f"the Compose Specification schema is missing: {SCHEMA}")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [
        f"{error.json_path}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(_compose())
    ]
    assert errors == []


def test_every_long_running_service_restarts_and_has_a_health_check() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        if name == "migrate":  # a job: runs once, the others wait for it to succeed
            assert service["restart"] == "no"
            continue
        assert service.get("restart") == "unless-stopped", name
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no health check"
        assert not check.get("disable"), f"{name} has its health check disabled"


def test_the_application_starts_after_the_migration_and_healthy_stores() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["distributor", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in services.items():
        command = service.get("command", [])
        if name == "migrate" or command[:1] != ["distributor"]:
            continue
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_sending_workers_are_apart_from_the_others_and_all_queues_are_consumed() -> None:
    services = _compose()["services"]

    def queues(name: str) -> set[str]:
        command = services[name]["command"]
        return set(command[command.index("--queues") + 1].split(","))

    assert queues("worker-send") == {"send"}
    assert "send" not in queues("worker-other")
    assert queues("worker-send") | queues("worker-other") == set(QUEUES)
    for name in ("worker-send", "worker-other"):
        assert services[name]["deploy"]["replicas"] >= 1
        assert "container_name" not in services[name], f"{name} could not be scaled"


def test_nothing_is_published_beyond_this_host_and_flower_needs_a_login() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to every network"
    assert ":?" in services["flower"]["environment"]["FLOWER_BASIC_AUTH"]


def test_redis_keeps_every_queued_message() -> None:
    command = _compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_compose_refuses_to_start_without_the_required_settings() -> None:
    environment = _compose()["x-distributor-env"]
    for name in DEPLOYMENT_REQUIRED:
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name]), name
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert "demo" not in json.dumps(environment).lower()


def test_env_example_names_every_setting_and_marks_the_required_ones() -> None:
    example = _env_example()
    missing = set(Settings.model_fields) - set(example)
    assert not missing, f".env.example lacks {sorted(missing)}"
    unknown = set(example) - set(Settings.model_fields) - COMPOSE_ONLY
    assert not unknown, f".env.example names settings that do not exist: {sorted(unknown)}"
    text = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    for name in {*DEPLOYMENT_REQUIRED, *COMPOSE_ONLY}:
        commented, value = example[name]
        assert not commented, f"{name} must not be commented out"
        assert value == "", f"{name} must be empty (no default secret or demo value)"
        assert re.search(rf"# REQUIRED[^\n]*\n(#[^\n]*\n)*{name}=", text), f"{name} not marked"
    for name, (commented, _value) in example.items():
        if name not in DEPLOYMENT_REQUIRED and name not in COMPOSE_ONLY:
            assert commented, f"{name} is optional: .env.example shows it commented out"


def test_each_default_shown_in_env_example_is_the_real_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    for name, (commented, value) in _env_example().items():
        if not commented or name in COMPOSE_ONLY:
            continue
        default = Settings.model_fields[name].default
        if value == "":
            assert default in (None, "", Path("")), f"{name}: shown empty, default {default!r}"
            continue
        with monkeypatch.context() as env:
            env.setenv(name, value)
            parsed = getattr(Settings(_env_file=None), name)  # type: ignore[call-arg]
        assert parsed == default, f"{name}={value} in .env.example, default {default!r}"
