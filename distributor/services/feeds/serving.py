"""What the web app needs to serve feeds: stored documents, partner keys, fetch counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.db import models
from distributor.domain.partners import FeedFormat, api_key_prefix, hash_api_key
from distributor.services.feeds.audiences import partner_formats


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A stored document as the web app serves it."""

    key: str
    content_type: str
    body: bytes
    body_gzip: bytes
    etag: str
    last_modified: datetime
    item_count: int


def load_feed_document(session: Session, key: str) -> StoredFeed | None:
    """The stored document ``key``, or None when it was never built."""
    row = session.scalar(select(models.FeedDocument).where(models.FeedDocument.key == key))
    if row is None:
        return None
    return StoredFeed(
        key=row.key,
        content_type=row.content_type,
        body=row.body,
        body_gzip=row.body_gzip,
        etag=row.etag,
        last_modified=row.last_modified,
        item_count=row.item_count,
    )


@dataclass(frozen=True, slots=True)
class PartnerAccess:
    """What the web app needs to know about an authenticated partner."""

    partner_id: int
    name: str
    formats: tuple[FeedFormat, ...]
    rate_limit_per_minute: int | None


def authenticate_partner(session: Session, api_key: str) -> PartnerAccess | None:
    """The active partner holding ``api_key``, or None (malformed, unknown or inactive)."""
    if api_key_prefix(api_key) is None:
        return None
    partner = session.scalar(
        select(models.Partner).where(
            models.Partner.api_key_hash == hash_api_key(api_key), models.Partner.active.is_(True)
        )
    )
    if partner is None:
        return None
    return PartnerAccess(
        partner_id=partner.id,
        name=partner.name,
        formats=partner_formats(partner),
        rate_limit_per_minute=partner.rate_limit_per_minute,
    )


def record_partner_fetches(session: Session, counts: dict[int, int], at: datetime) -> None:
    """Add batched fetch counts (one UPDATE per partner, not one per request)."""
    for partner_id, count in sorted(counts.items()):
        session.execute(
            update(models.Partner)
            .where(models.Partner.id == partner_id)
            .values(fetch_count=models.Partner.fetch_count + count, last_fetch_at=at)
        )
