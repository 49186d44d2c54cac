"""A real ``distributor serve`` process for tests that need the whole service over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.paths import REPO_ROOT

# Settings a test environment must not inherit from the developer's shell or CI.
SERVICE_VARIABLES = frozenset(
    {"REDIS_URL", "DATABASE_URL", "SENDGRID_API_KEY", "SMTP_URL", "DEMO_MODE", "SECRET_KEY"}
)


def inherited_environment(drop: frozenset[str] | set[str] = SERVICE_VARIABLES) -> dict[str, str]:
    """This process's environment without the variables in ``drop``."""
    return {key: value for key, value in os.environ.items() if key not in drop}


@contextmanager
def running_serve(
    args: Sequence[str],
    env: Mapping[str, str],
    port: int,
    log: Path,
    stop: signal.Signals = signal.SIGTERM,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``distributor serve --port PORT *args`` until ``/healthz`` answers; stop it after.

    Its output goes to ``log``, which a failed start prints. The process runs in its own session so
    that the workers an embedded service starts are stopped with it.
    """
    with log.open("wb") as log_handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "distributor.cli.main", "serve", "--port", str(port), *args],
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("distributor serve did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.2)
        yield server
    finally:
        os.killpg(server.pid, stop)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
