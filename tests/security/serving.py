"""A real ``distributor serve`` process for the security tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port

DISTRIBUTOR = Path(sys.executable).parent / "distributor"
SECRET = "test-secret-key-0123456789abcdef"


@contextmanager
def served(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``distributor serve`` (embedded, SQLite under ``data_dir``); yields its base URL."""
    port = free_port()
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "DEMO_MODE", "SECRET_KEY", "DATA_DIR"}
    }
    environ.update(
        {
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": SECRET,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "LOG_FORMAT": "text",
            "SCHEDULER_TICK_SECONDS": "3600",
            **(env or {}),
        }
    )
    process = subprocess.Popen(
        [str(DISTRIBUTOR), "serve", "--port", str(port), *extra],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "distributor serve did not start"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
