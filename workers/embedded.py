"""Embedded mode: the Celery worker and the periodic scheduler inside one process.

With no ``REDIS_URL`` the broker is Celery's in-memory transport. ``distributor serve`` starts a
worker (thread pool) and a scheduler thread next to the web app, so every task runs exactly as
it would on separate workers, without a server to install.

What it does not guarantee: messages live in this process's memory, so a crash or restart
drops the queued ones. Nothing is lost for good, because every piece of work is stored as
database rows first and the periodic ticks (dispatch, sweep, reconcile, poll) re-publish
whatever the database says is still due.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery

from workers.celery_app import PERIODIC, QUEUES

log = logging.getLogger("distributor.embedded")


class PeriodicScheduler:
    """A minimal beat: publishes each periodic task at its interval, in a daemon thread.

    Used in embedded mode and by ``distributor scheduler``; every periodic task is an
    idempotent database scan, so running two schedulers is harmless.
    """

    def __init__(self, app: Celery, tick_seconds: float) -> None:
        self._app = app
        self._tick = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_forever(self) -> None:
        """Publish due periodic tasks until :meth:`stop` is called."""
        next_run = dict.fromkeys(PERIODIC, 0.0)
        while not self._stop.is_set():
            now = time.monotonic()
            for entry, (task_name, multiple) in PERIODIC.items():
                if now < next_run[entry]:
                    continue
                next_run[entry] = now + self._tick * multiple
                if task_name not in self._app.tasks:
                    continue
                try:
                    self._app.send_task(task_name)
                except Exception:  # the broker may be down; the next tick tries again
                    log.warning("could not publish %s", task_name, exc_info=True)
            self._stop.wait(min(1.0, self._tick))

    def start(self) -> None:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run_forever, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait briefly for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class EmbeddedRuntime:
    """A Celery worker (thread pool) plus the periodic scheduler, in this process."""

    def __init__(self, app: Celery, tick_seconds: float, concurrency: int = 2) -> None:
        self._app = app
        self._concurrency = concurrency
        self._scheduler = PeriodicScheduler(app, tick_seconds)
        self._worker: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread, wait until it consumes, then start the scheduler."""
        self._app.loader.import_default_modules()
        # The thread pool runs each task through Celery's *default* app (as a worker process
        # does after setting its app as default): without this, a runtime started after
        # another app in the same process would look its tasks up in the wrong app.
        self._app.set_default()
        self._app.set_current()
        if self._app.conf.broker_url.startswith("memory://"):
            # The in-memory queues are shared by everything in this process and outlive a
            # stopped runtime. `distributor serve` starts its runtime before publishing
            # anything, so this empties nothing there; a runtime started after another in the
            # same process must not run messages whose ids name rows of another database.
            self._app.control.purge()
        ready = threading.Event()

        def on_ready(_consumer: Any) -> None:
            ready.set()

        self._worker = self._app.WorkController(
            app=self._app,
            pool="threads",
            concurrency=self._concurrency,
            queues=list(QUEUES),
            hostname="embedded@localhost",
            ready_callback=on_ready,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
        )
        self._thread = threading.Thread(target=self._worker.start, name="worker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("the embedded worker did not start within 30 s")
        # Starting a worker marks this process as "inside a task"; the web side of the process
        # is not, and may wait on results (as Celery's own in-process test worker allows).
        from celery._state import _set_task_join_will_block

        _set_task_join_will_block(False)
        self._scheduler.start()
        log.info("embedded worker and scheduler started")

    def stop(self) -> None:
        """Stop the scheduler and the worker."""
        self._scheduler.stop()
        if self._worker is not None:
            self._worker.stop(in_sighandler=False)
        if self._thread is not None:
            self._thread.join(timeout=10)
