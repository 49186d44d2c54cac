"""What a person sees after `make serve`: a short banner, readable logs, no needless warnings."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from distributor.config import Settings
from distributor.services.users import DEMO_EMAIL, DEMO_PASSWORD
from tests.conftest import free_port
from tests.support.serve_process import running_serve

# Process-spawning: left out of `make test-fast`.
pytestmark = pytest.mark.slow


def test_the_demo_console_is_short_and_readable(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in Settings.model_fields}
    env.update({"DATA_DIR": str(tmp_path / "var"), "SCHEDULER_TICK_SECONDS": "1"})
    port = free_port()
    log = tmp_path / "serve.log"
    with running_serve(["--demo"], env, port, log, stop=signal.SIGINT):
        assert httpx.head(f"http://127.0.0.1:{port}/login").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/favicon.ico").status_code == 200
    text = log.read_text(encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    assert f"Distributor on {url} · sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}\n" in text
    # Text logs in demo mode (LOG_FORMAT unset), not JSON objects.
    assert "INFO uvicorn.error Uvicorn running on" in text
    assert '{"time"' not in text
    assert "No hostname was supplied" not in text
    assert "WARNING" not in text
    # The scheduler ticked every second, but its routine tasks stay out of the console.
    assert "succeeded in" not in text
