"""A real Celery worker process consumes a task from the machine's Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

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


def test_embedded_runtime_runs_tasks_without_redis(tmp_path: Path) -> None:
    import threading

    from workers.embedded import EmbeddedRuntime

    app = create_celery(load_settings({"DATA_DIR": str(tmp_path)}))
    seen: list[tuple[str, int]] = []
    done = threading.Event()

    @app.task(name="tests.record", queue="send")
    def record(note: str) -> None:
        seen.append((note, os.getpid()))
        done.set()

    runtime = EmbeddedRuntime(app, tick_seconds=60)
    runtime.start()
    try:
        record.delay("embedded")
        assert done.wait(timeout=30), "the embedded worker did not run the task"
        assert seen == [("embedded", os.getpid())]
    finally:
        runtime.stop()
