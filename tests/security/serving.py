"""A real ``distributor serve`` process for the security tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port
from tests.support.serve_process import inherited_environment, running_serve

SECRET = "test-secret-key-0123456789abcdef"


@contextmanager
def served(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``distributor serve`` (embedded, SQLite under ``data_dir``); yields its base URL."""
    port = free_port()
    environ = inherited_environment(
        {"REDIS_URL", "DATABASE_URL", "DEMO_MODE", "SECRET_KEY", "DATA_DIR"}
    )
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
    log = data_dir / "serve.log"
    with running_serve(extra, environ, port, log, stop=signal.SIGINT):
        yield f"http://127.0.0.1:{port}"
