"""Celery tasks: thin wrappers that open a unit of work, call one service and return.

Arguments are ids and small JSON values; names are explicit and stable. Every task is safe to
run twice: the services they call check database state before acting.
"""

from __future__ import annotations

import logging
from typing import Any

from distributor.config import get_settings
from workers.celery_app import app

log = logging.getLogger("distributor.tasks")


def _database_url() -> str:
    return get_settings().database_url


@app.task(name="distributor.ping", ignore_result=False)
def ping(note: str = "") -> dict[str, Any]:
    """Liveness probe for a worker: records nothing, returns who answered."""
    import os
    import socket

    return {"pong": True, "note": note, "pid": os.getpid(), "host": socket.gethostname()}


# ----------------------------------------------------------------------------- ingest ----
# ----------------------------------------------------------------------------- feeds -----
# ----------------------------------------------------------------------------- sending ---
# ----------------------------------------------------------------------------- subscribers
