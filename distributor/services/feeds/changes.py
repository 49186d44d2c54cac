"""Feeds follow committed changes: rebuilt right after the commit of the change that affects them.

Services mark what changed on the session (``article_changed`` in services.events for stories,
:func:`partner_changed` here for partners); whoever commits the unit of work then calls
:func:`rebuild_after_commit`. The periodic ``release_embargoes`` check (:mod:`.freshness`)
stays as the safety net for a lost message or a crash between the commit and the rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from distributor.adapters.websub import WebSubPublisher
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.services.feeds.storage import RebuildReport, rebuild_feeds
from distributor.services.feeds.websub import notify_hub

_CHANGED_PARTNERS_KEY = "distributor.feeds_changed_partner_ids"


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """What committed changes affect: stories (by id) and partners (created or re-selected)."""

    article_ids: tuple[int, ...] = ()
    partner_ids: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.article_ids or self.partner_ids)


RebuildSender = Callable[[FeedChanges], None]
_rebuild_sender: list[RebuildSender] = []


def send_rebuilds_with(sender: RebuildSender | None) -> None:
    """Install how this process hands story rebuilds to a worker (a task queue that has a
    consumer: Redis, or the embedded worker of ``serve``). None: rebuild inline."""
    _rebuild_sender.clear()
    if sender is not None:
        _rebuild_sender.append(sender)


def partner_changed(session: Session, partner_id: int) -> None:
    """Mark a partner's documents for a rebuild after this session commits."""
    changed: set[int] = session.info.setdefault(_CHANGED_PARTNERS_KEY, set())
    changed.add(partner_id)


def take_feed_changes(session: Session) -> FeedChanges:
    """What this session marked (then forgotten). Call after commit."""
    from distributor.services.events import take_dirty_article_ids

    partners: set[int] = session.info.pop(_CHANGED_PARTNERS_KEY, set())
    return FeedChanges(tuple(take_dirty_article_ids(session)), tuple(sorted(partners)))


def has_feed_changes(session: Session) -> bool:
    """True when this session marked something that affects the feeds."""
    from distributor.services.events import DIRTY_ARTICLES_KEY

    return bool(session.info.get(_CHANGED_PARTNERS_KEY) or session.info.get(DIRTY_ARTICLES_KEY))


def rebuild_after_commit(
    session: Session,
    settings: Settings,
    units: Callable[[], AbstractContextManager[Session]],
    now: datetime | None = None,
    publisher: WebSubPublisher | None = None,
) -> RebuildReport | None:
    """Rebuild what ``session`` (just committed) changed.

    With an installed sender (a worker consumes this process's tasks) everything goes to the
    worker, which rebuilds within moments; a changed partner's current documents are built
    here first (one audience, 50 items a format), because the partner is about to use the key
    it was just shown. Without a sender, everything is rebuilt here. Rebuilds here run in a
    new unit of work from ``units``. Returns the report of what was built here, or None.
    """
    changes = take_feed_changes(session)
    if not changes:
        return None
    sender = _rebuild_sender[0] if _rebuild_sender else None
    report = None
    if changes.partner_ids or sender is None:
        with units() as unit:
            report = rebuild_feeds(
                unit,
                settings,
                [] if sender is not None else list(changes.article_ids),
                now or SYSTEM_CLOCK.now(),
                changes.partner_ids,
                archives=sender is None,
            )
        if publisher is not None:
            notify_hub(settings, publisher, report.public_topics_changed)
    if sender is not None:
        sender(changes)
    return report
