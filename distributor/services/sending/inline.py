"""Embedded mode: drive one issue to its end in this process, without a broker."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.adapters.email_base import EmailSender
from distributor.clock import SYSTEM_CLOCK, Clock
from distributor.config import Settings
from distributor.db.models import Issue
from distributor.domain.issues import IssueStatus
from distributor.services.sending.batches import send_batch
from distributor.services.sending.reconcile import reconcile_batches
from distributor.services.sending.sweep import sweep_batches


def run_sending_inline(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    issue_id: int,
    *,
    on_progress: Callable[[], None] | None = None,
    max_seconds: float | None = None,
    clock: Clock = SYSTEM_CLOCK,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Drive one started issue to its end in this process, without a broker.

    Used by the CLI in embedded mode (no ``REDIS_URL``): the same services run synchronously,
    with the "doorbell" being a local list. Retries wait for their ``next_attempt_at`` on
    ``clock``; between passes the loop waits with ``sleep`` (tests pass one that moves a
    :class:`~distributor.clock.FixedClock` instead). ``max_seconds`` is real elapsed time.
    """
    doorbell: list[int] = []
    started = time.monotonic()
    while True:
        sweep_batches(session, settings, doorbell.append, clock.now())
        reconcile_batches(session, settings, clock.now())
        while doorbell:
            send_batch(session, settings, sender, doorbell.pop(0), now=clock.now)
            if on_progress is not None:
                on_progress()
        status = session.execute(select(Issue.status).where(Issue.id == issue_id)).scalar_one()
        session.commit()
        if status != IssueStatus.SENDING:
            return
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            return
        sleep(min(1.0, settings.SCHEDULER_TICK_SECONDS))
