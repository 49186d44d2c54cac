"""Polled CMS feeds as the desk and the command line manage them: pause, resume, remove, health.

Registering and polling a feed are :func:`distributor.services.ingest.add_source` and
:func:`~distributor.services.ingest.poll_due_sources`; this module adds what an editor does with a
registered feed afterwards. A paused feed keeps its address, name and interval and is not polled
until resumed; resuming forgets the back-off and polls at the next scheduler tick. A feed is
removed only while no story names it: stories keep their source, so a feed that brought stories
is paused instead, and the refusal says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db import models
from distributor.domain.sources import SourceKind
from distributor.services.ingest import SourceError, backoff_delay, find_source


@dataclass(frozen=True)
class SourceHealth:
    """What the desk and ``sources list`` say about one feed."""

    state: str  # "polling", "failing ×3", "paused"
    stories: int
    backoff_seconds: int  # the wait before the next try while failing, else 0


def _feed(session: Session, reference: str) -> models.Source:
    source = find_source(session, reference)
    if source.kind != SourceKind.FEED.value:
        raise SourceError(
            f"{source.name or source.url!r} is a built-in source ({source.kind}); "
            "only polled feeds can be paused, resumed or removed"
        )
    return source


def pause_source(session: Session, reference: str) -> models.Source:
    """Stop polling a feed (by id, URL or name) until it is resumed."""
    source = _feed(session, reference)
    source.active = False
    session.flush()
    return source


def resume_source(session: Session, reference: str, now: datetime | None = None) -> models.Source:
    """Poll a paused or failing feed again from now, its back-off forgotten."""
    source = _feed(session, reference)
    source.active = True
    source.consecutive_failures = 0
    source.next_poll_at = now or SYSTEM_CLOCK.now()
    session.flush()
    return source


def story_count(session: Session, source_id: int) -> int:
    """How many stored stories came from the source."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(models.Article)
            .where(models.Article.source_id == source_id)
        )
        or 0
    )


def remove_source(session: Session, reference: str) -> str:
    """Forget a feed that brought no story; its address is returned.

    Raises :class:`SourceError` when stories came from it: they keep naming their source, so
    the feed can only be paused.
    """
    source = _feed(session, reference)
    stories = story_count(session, source.id)
    if stories:
        raise SourceError(
            f"{stories} stor{'y' if stories == 1 else 'ies'} came from {source.url} and still "
            "name it, so it cannot be removed; pause it instead (it is then never polled)"
        )
    address = source.url
    session.delete(source)
    session.flush()
    return address


def source_health(session: Session, source: models.Source) -> SourceHealth:
    """The feed's state, its story count and its current back-off."""
    failures = source.consecutive_failures or 0
    if not source.active:
        state = "paused"
    elif failures:
        state = f"failing ×{failures}"
    else:
        state = "polling"
    backoff = (
        int(backoff_delay(source.interval_seconds, failures).total_seconds())
        if failures and source.active
        else 0
    )
    return SourceHealth(state, story_count(session, source.id), backoff)
