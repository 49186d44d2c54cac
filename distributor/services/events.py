"""What happens downstream when an article changes: partner pushes and feed rebuilds.

Ingest calls :func:`article_changed` inside its own transaction, so the push rows commit (or
roll back) with the article itself. After the commit, the task layer calls
:func:`take_dirty_article_ids` and enqueues ``distributor.rebuild_feeds`` with the ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.partners import PushEvent, PushStatus, matches
from distributor.services.feeds import (
    articles_released_since,
    feeds_are_stale,
    last_build_time,
    partner_selection,
)

_DIRTY_KEY = "distributor.feeds_dirty_article_ids"
DIRTY_ARTICLES_KEY = _DIRTY_KEY  # read by services.feeds.has_feed_changes


def article_changed(
    session: Session, article_ids: list[int], event: str, now: datetime | None = None
) -> None:
    """Record pending pushes for partners that want these articles and mark feeds dirty.

    ``event`` is one of published, revised, withdrawn, released. A push row is unique per
    (partner, article, revision, event), so calling this twice records nothing new.
    Embargoed stories still get rows: the sender holds them back (or sends them as
    withheld to partners allowed early access) and "released" rows follow at release.
    """
    kind = PushEvent(event)
    moment = now or SYSTEM_CLOCK.now()
    dirty: set[int] = session.info.setdefault(_DIRTY_KEY, set())
    dirty.update(article_ids)
    if not article_ids:
        return
    partners = list(
        session.scalars(
            select(models.Partner).where(
                models.Partner.active.is_(True), models.Partner.push_url.is_not(None)
            )
        )
    )
    if not partners:
        return
    selections = [(partner, partner_selection(partner)) for partner in partners]
    rows = list(session.scalars(select(models.Article).where(models.Article.id.in_(article_ids))))
    # What is already recorded, in one query rather than one per article and partner.
    recorded: set[tuple[int, int, int]] = {
        (partner_id, article_id, revision)
        for partner_id, article_id, revision in session.execute(
            select(
                models.PartnerPush.partner_id,
                models.PartnerPush.article_id,
                models.PartnerPush.revision,
            ).where(
                models.PartnerPush.article_id.in_(article_ids),
                models.PartnerPush.event == kind.value,
            )
        )
    }
    for row in rows:
        article = article_from_row(row)
        early = article.is_embargoed(moment) and kind is not PushEvent.WITHDRAWN
        for partner, selection in selections:
            if early and not partner.allow_embargoed:
                continue
            if not matches(article, selection):
                continue
            if (partner.id, row.id, row.revision) in recorded:
                continue
            session.add(
                models.PartnerPush(
                    partner_id=partner.id,
                    article_id=row.id,
                    revision=row.revision,
                    event=kind.value,
                    status=PushStatus.PENDING.value,
                    next_attempt_at=moment,
                    created_at=moment,
                )
            )
    session.flush()


def take_dirty_article_ids(session: Session) -> list[int]:
    """The article ids marked by :func:`article_changed` in this session (then forgotten).

    Call after commit; enqueue ``distributor.rebuild_feeds`` with the result when non-empty.
    """
    dirty: set[int] = session.info.pop(_DIRTY_KEY, set())
    return sorted(dirty)


def released_article_events(session: Session, article_ids: Sequence[int], now: datetime) -> None:
    """Record "released" pushes for stories whose embargo just ended."""
    if article_ids:
        article_changed(session, list(article_ids), PushEvent.RELEASED.value, now)


# Pushes for stories released up to this long ago are (re)checked on every tick; the
# uniqueness of push rows makes the repeat harmless and covers missed ticks.
RELEASE_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ReleaseDecision:
    """What the periodic release check found."""

    released_article_ids: list[int]
    rebuild_all: bool

    @property
    def needs_rebuild(self) -> bool:
        """True when feeds must be rebuilt."""
        return self.rebuild_all or bool(self.released_article_ids)


def release_embargoes(session: Session, now: datetime) -> ReleaseDecision:
    """Find stories whose embargo ended since the last feed build, record their release pushes,
    and say whether feeds need rebuilding (also when an article changed after the last build,
    i.e. a rebuild message was lost)."""
    watermark = last_build_time(session)
    released = articles_released_since(session, watermark, now)
    recent = articles_released_since(session, now - RELEASE_LOOKBACK, now)
    released_article_events(session, recent, now)
    session.info.pop(_DIRTY_KEY, None)  # the decision below carries the ids
    return ReleaseDecision(released, rebuild_all=feeds_are_stale(session, watermark))
