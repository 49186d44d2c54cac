"""The periodic safety net's questions: when were feeds last built, what was released or
changed since, which partner has no documents yet, when does the next embargo end.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.db import models
from distributor.domain.partners import FeedFormat
from distributor.services.feeds.addresses import PUBLIC_KEY, document_key, partner_audience_key
from distributor.services.feeds.audiences import partner_formats


def last_build_time(session: Session) -> datetime | None:
    """When the public RSS document was last rebuilt (the feeds' watermark)."""
    return session.scalar(
        select(models.FeedDocument.built_at).where(
            models.FeedDocument.key == document_key(PUBLIC_KEY, FeedFormat.RSS)
        )
    )


def articles_released_since(session: Session, since: datetime | None, now: datetime) -> list[int]:
    """Ids of articles whose embargo ended in (since, now]."""
    query = select(models.Article.id).where(
        models.Article.embargo_until.is_not(None), models.Article.embargo_until <= now
    )
    if since is not None:
        query = query.where(models.Article.embargo_until > since)
    return list(session.scalars(query.order_by(models.Article.id)))


def feeds_are_stale(session: Session, watermark: datetime | None) -> bool:
    """True when feeds were never built, an article changed after the last build, or an
    active partner has no documents yet (its rebuild after creation was lost)."""
    if watermark is None:
        return True  # never built: build once, even empty, so the URLs answer
    if (
        session.scalar(
            select(models.Article.id).where(models.Article.modified_at > watermark).limit(1)
        )
        is not None
    ):
        return True
    return bool(partners_never_built(session))


def partners_never_built(session: Session) -> list[int]:
    """Ids of active partners with no current document for one of their formats."""
    built = set(
        session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like("partner:%"))
        )
    )
    missing = []
    for partner in session.scalars(
        select(models.Partner).where(models.Partner.active.is_(True)).order_by(models.Partner.id)
    ):
        audience_key = partner_audience_key(partner.id)
        formats = partner_formats(partner)
        if any(document_key(audience_key, each) not in built for each in formats):
            missing.append(partner.id)
    return missing


def next_embargo_end(session: Session, now: datetime) -> datetime | None:
    """When the next embargo ends (after ``now``), or None."""
    return session.scalar(
        select(models.Article.embargo_until)
        .where(models.Article.embargo_until > now)
        .order_by(models.Article.embargo_until)
        .limit(1)
    )
