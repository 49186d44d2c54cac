"""The Celery application, configured from Settings.

Reliability settings follow the send ledger's design: Redis is a doorbell, the database is the
truth. Tasks ack late, are rejected (re-queued) when their worker process dies, and each worker
process reserves one message at a time.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue

from distributor.config import Settings, get_settings

QUEUES = ("default", "send", "feeds", "webhooks", "ingest")

# Task name -> queue. Names are a stable contract: never rename a task, add a new one.
ROUTES: dict[str, dict[str, str]] = {
    "distributor.send_batch": {"queue": "send"},
    "distributor.test_send": {"queue": "send"},
    "distributor.rebuild_feeds": {"queue": "feeds"},
    "distributor.push_partners": {"queue": "webhooks"},
    "distributor.poll_sources": {"queue": "ingest"},
    "distributor.send_confirmation": {"queue": "send"},
    "distributor.send_welcome": {"queue": "send"},
}

# Periodic ticks. Each one is idempotent and driven by database state, so a missed tick, a
# repeated tick or two schedulers running at once do no harm.
PERIODIC: dict[str, tuple[str, float]] = {
    "dispatch-due-issues": ("distributor.dispatch_due", 1.0),
    "sweep-send-batches": ("distributor.sweep_batches", 3.0),
    "reconcile-send-batches": ("distributor.reconcile_batches", 6.0),
    "poll-sources": ("distributor.poll_sources", 6.0),
    "push-partners": ("distributor.push_partners", 3.0),
    "release-embargoes": ("distributor.release_embargoes", 6.0),
    # Every minute at the default 10 s tick: cron's finest step. Each occurrence of a schedule
    # is claimed by a row insert, so an early, late or repeated tick makes no second issue.
    "run-schedules": ("distributor.run_schedules", 6.0),
    "notify-desk": ("distributor.notify_desk", 1.0),
    # Hourly at the default 10 s tick: retention is counted in days.
    "purge-event-payloads": ("distributor.purge_event_payloads", 360.0),
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings`` (periods in multiples of the tick)."""
    tick = settings.SCHEDULER_TICK_SECONDS
    visibility = max(3600, settings.SEND_LEASE_SECONDS * 4)
    transport: dict[str, Any] = {"visibility_timeout": visibility}
    if not settings.REDIS_URL:
        # The in-process queue is polled, once a second by default: ten times a second lets a
        # confirmation email leave as soon as the reader signs up, at no measurable cost.
        transport["polling_interval"] = 0.1
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Results are not used for work (the database is the record); only the worker
        # probe ``distributor.ping`` stores one, so operators and tests can see a worker answer.
        "task_ignore_result": True,
        "result_backend": settings.REDIS_URL,
        "result_expires": 600,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "default",
        "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        "task_routes": ROUTES,
        "task_default_exchange": "default",
        "task_default_routing_key": "default",
        "task_time_limit": max(300, settings.SEND_LEASE_SECONDS * 2),
        "worker_hijack_root_logger": False,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "beat_schedule": {
            entry: {"task": task, "schedule": tick * multiple}
            for entry, (task, multiple) in PERIODIC.items()
        },
        "timezone": "UTC",
        "enable_utc": True,
    }


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app bound to ``settings`` with every task registered."""
    settings = settings or get_settings()
    app = Celery("distributor", include=["workers.tasks"])
    app.conf.update(celery_config(settings))
    return app


app = create_celery()
