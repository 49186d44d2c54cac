"""A real Celery worker process consumes a task from the machine's Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from distributor.config import load_settings
from workers.celery_app import create_celery


def test_worker_process_consumes_from_redis(
    redis_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 32,
        "PUBLIC_BASE_URL": "https://news.example.org",
        "MAIL_FROM": "news@news.example.org",
        "PUBLISHER_NAME": "The Example Review",
        "PUBLISHER_ADDRESS": "2 Example Road, Hong Kong",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributor.cli.main", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        app = create_celery(load_settings({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)}))
        reply = app.send_task("distributor.ping", args=["from-test"]).get(timeout=60)
        assert reply["pong"] is True
        assert reply["note"] == "from-test"
        assert reply["pid"] != os.getpid()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def _run_one_task_embedded(data_dir: Path, note: str) -> list[tuple[str, int]]:
    """Start an embedded runtime on a new app, run one task through it, stop it."""
    import threading

    from workers.embedded import EmbeddedRuntime

    app = create_celery(load_settings({"DATA_DIR": str(data_dir)}))
    seen: list[tuple[str, int]] = []
    done = threading.Event()

    @app.task(name=f"tests.record.{note}", queue="send")
    def record(note: str) -> None:
        seen.append((note, os.getpid()))
        done.set()

    runtime = EmbeddedRuntime(app, tick_seconds=60)
    runtime.start()
    try:
        record.delay(note)
        assert done.wait(timeout=30), f"the embedded worker did not run the {note} task"
    finally:
        runtime.stop()
    return seen


@pytest.mark.slow
def test_embedded_runtime_runs_tasks_without_redis(tmp_path: Path) -> None:
    assert _run_one_task_embedded(tmp_path, "embedded") == [("embedded", os.getpid())]


@pytest.mark.slow
def test_a_second_embedded_runtime_in_the_same_process_runs_its_own_tasks(
    tmp_path: Path,
) -> None:
    # Each runtime has its own app; the second must not look its tasks up in the first.
    assert _run_one_task_embedded(tmp_path / "first", "first") == [("first", os.getpid())]
    assert _run_one_task_embedded(tmp_path / "second", "second") == [("second", os.getpid())]


@pytest.mark.slow
def test_a_new_embedded_runtime_does_not_run_messages_left_in_memory(tmp_path: Path) -> None:
    """A message published while no runtime ran (an earlier app in this process, whose ids name
    another database's rows) is not run by the next runtime; the runtime's own messages are."""
    import threading

    from workers.embedded import EmbeddedRuntime

    app = create_celery(load_settings({"DATA_DIR": str(tmp_path)}))
    seen: list[str] = []
    own = threading.Event()

    @app.task(name="tests.record.leftover", queue="send")
    def record(note: str) -> None:
        seen.append(note)
        if note == "own":
            own.set()

    record.delay("left by an earlier runtime")
    runtime = EmbeddedRuntime(app, tick_seconds=60)
    runtime.start()
    try:
        record.delay("own")
        assert own.wait(timeout=30), "the embedded worker did not run its own task"
    finally:
        runtime.stop()
    assert seen == ["own"]


def test_every_route_and_tick_names_a_registered_task(tmp_path: Path) -> None:
    from workers.celery_app import PERIODIC, QUEUES, ROUTES

    app = create_celery(load_settings({"DATA_DIR": str(tmp_path)}))
    app.loader.import_default_modules()
    registered = set(app.tasks)
    assert set(ROUTES) <= registered
    assert {task for task, _ in PERIODIC.values()} <= registered
    assert {route["queue"] for route in ROUTES.values()} <= set(QUEUES)
