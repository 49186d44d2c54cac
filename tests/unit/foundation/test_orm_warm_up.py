"""The worker's start-up warm-up configures the ORM mappers (a one-off otherwise paid by the
first ingest or send of each process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
from distributor.db import models
assert not models.Article.__mapper__.configured
from workers.tasks import _warm_up
_warm_up()
assert models.Article.__mapper__.configured
assert models.Image.__mapper__.configured
print("ok")
"""


@pytest.mark.slow
def test_worker_warm_up_configures_mappers() -> None:
    # A fresh interpreter: in this one other tests may have configured the mappers already.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
