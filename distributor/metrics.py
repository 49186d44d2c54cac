"""Prometheus metrics: what each process counts, and what the database says at scrape time.

Two kinds, on purpose:

- **Process counters and histograms** (this module's objects): provider answers, webhook event
  lag, reconciliation outcomes, feed requests, ingest items and problems, HTTP latency. Each
  process counts what it did. With ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts),
  every process of a host — web workers and each Celery pool process — writes its figures to
  files in that directory and ``/metrics`` adds them up (prometheus-client's multiprocess mode);
  without it, ``/metrics`` shows the serving process's own figures (embedded mode runs the
  worker in that process).
- **State read at scrape time** (:class:`DatabaseCollector`): issues and batches by status,
  recipients by ledger status, provider events by kind, partner pushes by status, failing
  sources and the depth of each Celery queue. The database is the truth shared by every host,
  so these figures are the same whichever web process is asked.

Labels never carry a reader's address, a token or a story's text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger("distributor.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # each process writes its figures there from the start
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)

# --------------------------------------------------------------------- process counters
PROVIDER_ANSWERS = Counter(
    "distributor_provider_answers",
    "Answers of the mail provider to batch requests, by class: accepted (2xx), rate_limited "
    "(429), transient (5xx, network), refused (4xx, never retried), no_answer (outcome unknown).",
    ["answer"],
)
RECIPIENTS_REQUESTED = Counter(
    "distributor_recipients_requested",
    "Recipients put into provider requests, by the request's answer.",
    ["answer"],
)
WEBHOOK_EVENTS = Counter(
    "distributor_webhook_events_received",
    "Provider events received by the webhook (new ones; repeats are not counted), by kind.",
    ["kind"],
)
WEBHOOK_LAG = Histogram(
    "distributor_webhook_event_lag_seconds",
    "Time from a provider event happening to its arrival at the webhook.",
    buckets=(1, 5, 15, 60, 300, 900, 3600, 21600, 86400),
)
RECONCILIATIONS = Counter(
    "distributor_reconciliations",
    "Batches with an unknown outcome resolved by the reconciler: confirmed by provider events, "
    "requeued (no trace after the grace period) or parked.",
    ["outcome"],
)
FEED_REQUESTS = Counter(
    "distributor_feed_requests",
    "Feed documents served, by audience (public, partner), format and status (200, 304).",
    ["audience", "format", "status"],
)
INGEST_ITEMS = Counter(
    "distributor_ingest_items",
    "Feed items seen when polling or reading a source, by source.",
    ["source"],
)
INGEST_PROBLEMS = Counter(
    "distributor_ingest_problems",
    "Problems reported while taking a source's items in (skipped or repaired), by source.",
    ["source"],
)
HTTP_LATENCY = Histogram(
    "distributor_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def count_provider_answer(answer: str, recipients: int) -> None:
    """One provider request ended with ``answer`` (see :data:`PROVIDER_ANSWERS`)."""
    PROVIDER_ANSWERS.labels(answer).inc()
    RECIPIENTS_REQUESTED.labels(answer).inc(recipients)


# --------------------------------------------------------------- state at scrape time
QUEUE_PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport: "<queue>\x06\x16<priority>"


class DatabaseCollector(Collector):
    """Figures read from the database (and the broker) each time ``/metrics`` is asked."""

    def __init__(
        self,
        sessions: Callable[[], Any],
        queue_depths: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._queue_depths = queue_depths

    def collect(self) -> Iterator[Metric]:
        from distributor.db.models import (
            Delivery,
            Issue,
            PartnerPush,
            ProviderEvent,
            SendBatch,
            Source,
        )

        with self._sessions() as session:
            yield _grouped(
                session,
                GaugeMetricFamily("distributor_issues", "Issues by status.", labels=["status"]),
                Issue.status,
            )
            yield _grouped(
                session,
                GaugeMetricFamily(
                    "distributor_batches", "Send batches by status.", labels=["status"]
                ),
                SendBatch.status,
            )
            yield _grouped(
                session,
                CounterMetricFamily(
                    "distributor_recipients",
                    "Recipients in the send ledger by status (sent, failed, skipped, pending, "
                    'delivered, bounced, ...); rate() of status="sent" is the send rate.',
                    labels=["status"],
                ),
                Delivery.status,
            )
            yield _grouped(
                session,
                CounterMetricFamily(
                    "distributor_provider_events",
                    "Provider events stored, by kind (processed, delivered, bounce, ...).",
                    labels=["event"],
                ),
                ProviderEvent.event,
            )
            yield _grouped(
                session,
                GaugeMetricFamily(
                    "distributor_partner_pushes",
                    "Partner webhook pushes by status (pending, delivered, failed, ...).",
                    labels=["status"],
                ),
                PartnerPush.status,
            )
            failing = GaugeMetricFamily(
                "distributor_source_consecutive_failures",
                "Polls of a CMS feed that failed in a row (0 = the last poll worked).",
                labels=["source"],
            )
            for url, failures in session.execute(
                select(Source.url, Source.consecutive_failures).where(
                    Source.kind == "feed", Source.active.is_(True)
                )
            ):
                failing.add_metric([url], float(failures or 0))
            yield failing
        if self._queue_depths is not None:
            depth = GaugeMetricFamily(
                "distributor_queue_depth",
                "Messages waiting in each Celery queue.",
                labels=["queue"],
            )
            try:
                depths = self._queue_depths()
            except Exception as exc:  # the broker being down must not hide the other figures
                log.warning("queue depth unavailable: %s", type(exc).__name__)
                depths = {}
            for queue, waiting in sorted(depths.items()):
                depth.add_metric([queue], float(waiting))
            yield depth


def _grouped(session: Session, family: Any, column: Any) -> Any:
    for value, count in session.execute(select(column, func.count()).group_by(column)):
        family.add_metric([str(value)], float(count))
    return family


def redis_queue_depths(broker_url: str, queues: Iterable[str]) -> Callable[[], dict[str, int]]:
    """A function reading how many messages wait in each queue (all priority levels)."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
    names = tuple(queues)

    def depths() -> dict[str, int]:
        keys = [
            f"{queue}{QUEUE_PRIORITY_SEPARATOR}{priority}" if priority else queue
            for queue in names
            for priority in (0, 3, 6, 9)
        ]
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            pipeline.llen(key)
        lengths = pipeline.execute()
        result = dict.fromkeys(names, 0)
        for key, length in zip(keys, lengths, strict=True):
            result[key.split(QUEUE_PRIORITY_SEPARATOR)[0]] += int(length)
        return result

    return depths


class _ProcessRegistry(Collector):
    """This process's own counters (the default registry), for single-process serving."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(database: DatabaseCollector) -> bytes:
    """The ``/metrics`` document: process figures (all processes of the host in multiprocess
    mode) and the database's state."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessRegistry())
    registry.register(database)
    return generate_latest(registry)


def serve_pool_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve the process figures of every process of this host (multiprocess mode) on an
    internal port, for a Celery worker: ``distributor worker --metrics-port``. The database's
    figures come from the web app's ``/metrics``."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        raise RuntimeError(
            f"{MULTIPROC_ENV} is not set: set it to an empty directory in the worker's "
            "environment before it starts, so that each pool process can write its figures"
        )
    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
