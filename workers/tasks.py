"""Celery tasks: thin wrappers that open a unit of work, call one service and return.

Arguments are ids and small JSON values; names are explicit and stable. Every task is safe to
run twice: the services they call check database state before acting.
"""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime
from typing import Any

from celery.signals import worker_init

from distributor.clock import SYSTEM_CLOCK
from distributor.config import get_settings
from workers.celery_app import PERIODIC, app

log = logging.getLogger("distributor.tasks")

# Imported by the worker's main process before it forks its pool, so that every child (and
# every replacement for a child that died) starts warm instead of spending its first task
# importing the sending stack and the database driver (about 1.5 s per child, measured).
_WARM_MODULES = (
    "distributor.services.sending",
    "distributor.services.ingest",
    "distributor.services.feeds",
    "distributor.services.provider_events",
    "distributor.adapters.email_base",
    "distributor.adapters.sendgrid",
    "distributor.adapters.smtp",
    "distributor.adapters.outbox",
    "distributor.adapters.feed_fetcher",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.sqlite.pysqlite",
)


@worker_init.connect
def _warm_up(**_: Any) -> None:
    """Import what tasks use before the pool forks, and configure the ORM mappers (no
    connection is opened here)."""
    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional driver that is not installed
            log.debug("warm-up: %s not importable", name)
    # SQLAlchemy configures every mapper on first use (about 40 ms, measured): otherwise the
    # first ingest or send of each child pays it.
    from distributor.db.session import warm_up_orm

    warm_up_orm()
    # The language-identification model loads in about a second: once here, not per task.
    from distributor.ingest.languages import warm_up as warm_up_language_model

    warm_up_language_model()


def _database_url() -> str:
    return get_settings().database_url


@app.task(name="distributor.ping", ignore_result=False)
def ping(note: str = "") -> dict[str, Any]:
    """Liveness probe for a worker: records nothing, returns who answered."""
    import os
    import socket

    return {"pong": True, "note": note, "pid": os.getpid(), "host": socket.gethostname()}


# ----------------------------------------------------------------------------- ingest ----
# Ingest (distributor.services.ingest): periodic polling of registered CMS feeds.
@app.task(name="distributor.poll_sources")
def poll_sources() -> dict[str, Any]:
    """Poll the sources that are due (conditional GET); a failing source is recorded on its
    row and backed off, never raised. Feeds are rebuilt for what changed, after the commit."""
    from distributor.adapters.feed_fetcher import HttpxFeedFetcher
    from distributor.db.session import session_factory
    from distributor.services.events import take_dirty_article_ids
    from distributor.services.ingest import poll_due_sources

    fetcher = HttpxFeedFetcher.from_settings(get_settings())
    session = session_factory(_database_url())()
    try:
        outcomes = poll_due_sources(session, fetcher)
        session.commit()
        changed = take_dirty_article_ids(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        fetcher.close()
    if changed:
        enqueue_feed_rebuild(changed)
    return {
        url: {"ok": outcome.ok, "not_modified": outcome.not_modified, **outcome.stored.as_dict()}
        for url, outcome in outcomes.items()
    }


# ----------------------------------------------------------------------------- feeds -----
# Feeds and partner pushes (distributor.services.feeds / distributor.services.events).
_push_senders: dict[str, Any] = {}


def _partner_push_sender() -> Any:
    """One pooled HTTP client per worker process for partner webhooks."""
    from distributor.adapters.webhook_push import HttpxPushSender

    settings = get_settings()
    key = f"httpx-{settings.FETCH_ALLOW_PRIVATE_ADDRESSES}-{settings.FETCH_ALLOWED_NETWORKS}"
    sender = _push_senders.get(key)
    if sender is None:
        sender = _push_senders[key] = HttpxPushSender.from_settings(settings)
    return sender


def enqueue_feed_rebuild(
    article_ids: list[int] | None, partner_ids: list[int] | None = None
) -> None:
    """Publish ``distributor.rebuild_feeds`` (call after the commit that changed articles)."""
    args: list[Any] = [article_ids, partner_ids] if partner_ids else [article_ids]
    app.send_task("distributor.rebuild_feeds", args=args)


def enqueue_feed_changes(changes: Any) -> None:
    """The rebuild sender of processes whose tasks have a consumer (``FeedChanges`` in)."""
    enqueue_feed_rebuild(list(changes.article_ids), list(changes.partner_ids) or None)


# Embargo ends already timed in this process, so repeated rebuilds publish one timer each.
_embargo_timers: set[datetime] = set()


def _time_next_release(session: Any, now: datetime) -> None:
    """Publish ``release_embargoes`` for the moment the next embargo ends, when that is before
    the periodic release check would notice it: the story reaches the feeds at its time."""
    from distributor.services.feeds import next_embargo_end

    settings = get_settings()
    horizon = settings.SCHEDULER_TICK_SECONDS * PERIODIC["release-embargoes"][1]
    ends = next_embargo_end(session, now)
    if ends is None:
        return
    ends = ends if ends.tzinfo else ends.replace(tzinfo=UTC)
    wait = (ends - now).total_seconds()
    if wait > horizon or ends in _embargo_timers:
        return
    _embargo_timers.add(ends)
    if len(_embargo_timers) > 1000:
        _embargo_timers.clear()
    # A little after the end, so the release check sees the embargo as over.
    app.send_task("distributor.release_embargoes", countdown=max(0.0, wait) + 0.2)


def enqueue_feed_rebuild_after_commit(session: Any) -> None:
    """After ingest commits: rebuild the feeds of articles marked by ``article_changed``."""
    from distributor.services.events import take_dirty_article_ids

    article_ids = take_dirty_article_ids(session)
    if article_ids:
        enqueue_feed_rebuild(article_ids)


@app.task(
    name="distributor.rebuild_feeds",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def rebuild_feeds(
    article_ids: list[int] | None = None, partner_ids: list[int] | None = None
) -> dict[str, Any]:
    """Re-render the feed documents affected by ``article_ids`` (null: all) and of the
    partners ``partner_ids``, then ping the hub."""
    from distributor.adapters.websub import HttpxWebSubPublisher
    from distributor.db.session import unit_of_work
    from distributor.services import feeds

    settings = get_settings()
    now = SYSTEM_CLOCK.now()
    with unit_of_work(settings.database_url) as session:
        report = feeds.rebuild_feeds(session, settings, article_ids, now, partner_ids or ())
        _time_next_release(session, now)
    errors = feeds.notify_hub(
        settings, HttpxWebSubPublisher.from_settings(settings), report.public_topics_changed
    )
    for error in errors:
        log.warning("WebSub hub ping failed: %s", error)
    return {"built": report.built, "changed": len(report.changed_keys), "hub_errors": len(errors)}


@app.task(name="distributor.push_partners")
def push_partners() -> dict[str, Any]:
    """Send due partner webhook pushes (signed), retrying failures with back-off."""
    from functools import partial

    from distributor.db.session import unit_of_work
    from distributor.services import feeds

    settings = get_settings()
    report = feeds.push_due_partners(
        partial(unit_of_work, settings.database_url),
        settings,
        _partner_push_sender(),
        SYSTEM_CLOCK.now,
    )
    return {
        "delivered": report.delivered,
        "retrying": report.retrying,
        "failed": report.failed,
        "skipped": report.skipped,
    }


@app.task(name="distributor.release_embargoes")
def release_embargoes() -> dict[str, Any]:
    """Release stories whose embargo ended: record their pushes and rebuild their feeds."""
    from distributor.db.session import unit_of_work
    from distributor.services import events

    settings = get_settings()
    now = SYSTEM_CLOCK.now()
    with unit_of_work(settings.database_url) as session:
        decision = events.release_embargoes(session, now)
        _time_next_release(session, now)
    if decision.needs_rebuild:
        enqueue_feed_rebuild(None if decision.rebuild_all else decision.released_article_ids)
    return {"released": decision.released_article_ids, "rebuild_all": decision.rebuild_all}


# ----------------------------------------------------------------------------- feeds end -
# ----------------------------------------------------------------------------- sending ---
_email_senders: dict[str, Any] = {}


def _email_sender() -> Any:
    """One email sender per worker process (created after the fork, reused by every batch)."""
    from distributor.adapters.email_base import email_sender_for

    settings = get_settings()
    # Keyed by everything that shapes the sender: settings chosen anew in this process (a
    # test, a re-configured embedded service) never reuse a sender bound to the old ones.
    key = "|".join(
        str(part)
        for part in (
            settings.sender_kind,
            settings.outbox_dir,
            settings.SMTP_URL,
            settings.SENDGRID_API_HOST,
            settings.SENDGRID_API_KEY,
            settings.SENDGRID_TIMEOUT_SECONDS,
        )
    )
    sender = _email_senders.get(key)
    if sender is None:
        sender = _email_senders[key] = email_sender_for(settings)
    return sender


def _publish_batch(batch_id: int) -> None:
    app.send_task("distributor.send_batch", args=[batch_id])


@app.task(name="distributor.dispatch_due")
def dispatch_due() -> dict[str, Any]:
    """Start due issues and write their ledgers in chunks, publishing batches as they come."""
    from distributor.db.session import session_factory
    from distributor.services import sending

    settings = get_settings()
    session = session_factory(settings.database_url)()
    try:
        # Batches are published after each ledger chunk, so sending starts while the rest of
        # the ledger is written; the final call publishes any left (e.g. after a broker error).
        report = sending.dispatch_due(session, settings, publish=_publish_batch)
        published = sending.publish_pending_batches(session, settings, _publish_batch)
    finally:
        session.close()
    return {"issues": report.issues, "recipients": report.recipients, "published": published}


@app.task(name="distributor.send_batch")
def send_batch(batch_id: int) -> dict[str, Any]:
    """Claim and send one batch; a duplicate or redelivered message is a no-op."""
    from distributor.db.session import session_factory
    from distributor.services import sending

    settings = get_settings()
    session = session_factory(settings.database_url)()
    try:
        outcome = sending.send_batch(session, settings, _email_sender(), int(batch_id))
    finally:
        session.close()
    return {"batch": outcome.batch_id, "result": outcome.result, "sent": outcome.sent}


@app.task(name="distributor.sweep_batches")
def sweep_batches() -> dict[str, Any]:
    """Re-publish lost or due batches, expire leases, finish issues."""
    from distributor.db.session import session_factory
    from distributor.services import sending

    settings = get_settings()
    session = session_factory(settings.database_url)()
    try:
        report = sending.sweep_batches(session, settings, _publish_batch)
    finally:
        session.close()
    return {
        "expired": report.expired_leases,
        "published": report.published,
        "finished": report.finished,
    }


@app.task(name="distributor.reconcile_batches")
def reconcile_batches() -> dict[str, Any]:
    """Resolve ambiguous batches from provider events."""
    from distributor.db.session import session_factory
    from distributor.services import sending

    settings = get_settings()
    session = session_factory(settings.database_url)()
    try:
        report = sending.reconcile_batches(session, settings)
    finally:
        session.close()
    return {"confirmed": report.confirmed, "requeued": report.requeued, "parked": report.parked}


@app.task(name="distributor.test_send")
def test_send(issue_id: int, addresses: list[str]) -> dict[str, Any]:
    """Send a "[TEST]" copy of an issue to ``addresses`` (no ledger)."""
    from distributor.services import sending

    settings = get_settings()
    from distributor.db.session import unit_of_work

    with unit_of_work(settings.database_url) as session:
        receipt = sending.send_test_copies(
            session, settings, _email_sender(), int(issue_id), list(addresses)
        )
    return {"accepted": len(receipt.accepted_ids), "rejected": receipt.rejected}


# ----------------------------------------------------------------------------- subscribers
@app.task(
    name="distributor.send_confirmation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_confirmation(subscriber_id: int, list_id: int) -> dict[str, Any]:
    """Send the double opt-in email; a no-op once the membership is confirmed or left."""
    from distributor.adapters.email_base import TransientDeliveryError
    from distributor.db.session import unit_of_work
    from distributor.services.confirmation import send_confirmation as send

    settings = get_settings()
    try:
        with unit_of_work(settings.database_url) as session:
            sent = send(session, settings, int(subscriber_id), int(list_id), _email_sender())
    except TransientDeliveryError as exc:
        # Provider busy or unreachable: try again later (Celery backoff with jitter).
        raise OSError(exc.message) from exc
    return {"sent": sent}


# ----------------------------------------------------------------------------- automation
@app.task(name="distributor.run_schedules")
def run_schedules() -> dict[str, Any]:
    """Run the latest due occurrence of every recurring schedule, once each."""
    from distributor.db.session import unit_of_work
    from distributor.services.schedules import run_due

    settings = get_settings()
    with unit_of_work(settings.database_url) as session:
        report = run_due(session)
    return {
        "created": [item.issue_id for item in report.created],
        "occurrences": len(report.occurrences),
    }


@app.task(name="distributor.notify_desk")
def notify_desk() -> dict[str, Any]:
    """Mail the desk users the pending notifications (drafts ready, issues finished, paused
    or held); each is claimed before it is sent, so a repeated task sends nothing twice."""
    from distributor.db.session import unit_of_work
    from distributor.services.desk_notifications import deliver_notifications

    settings = get_settings()
    with unit_of_work(settings.database_url) as session:
        report = deliver_notifications(session, settings, _email_sender())
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}


# ----------------------------------------------------------------------------- personal data
@app.task(name="distributor.purge_event_payloads")
def purge_event_payloads() -> dict[str, Any]:
    """Scrub provider event payloads older than EVENT_RETENTION_DAYS, 1,000 rows per
    transaction and at most 20,000 per run (the next run continues)."""
    from distributor.db.session import unit_of_work
    from distributor.services.provider_events import purge_expired_payloads

    settings = get_settings()
    scrubbed = 0
    for _ in range(20):
        with unit_of_work(settings.database_url) as session:
            done = purge_expired_payloads(session, settings.EVENT_RETENTION_DAYS, limit=1000)
        scrubbed += done
        if done < 1000:
            break
    return {"scrubbed": scrubbed}


@app.task(
    name="distributor.send_welcome",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_welcome(subscriber_id: int, list_id: int) -> dict[str, Any]:
    """Send a list's welcome email to a reader whose subscription just became active; a no-op
    when it went already (one row per reader and list), or the list has none."""
    from distributor.adapters.email_base import TransientDeliveryError
    from distributor.db.session import unit_of_work
    from distributor.services.welcome import send_welcome as send

    settings = get_settings()
    try:
        with unit_of_work(settings.database_url) as session:
            sent = send(session, settings, int(subscriber_id), int(list_id), _email_sender())
    except TransientDeliveryError as exc:
        # Provider busy or unreachable: the claim was given back; try again later.
        raise OSError(exc.message) from exc
    return {"sent": sent}
