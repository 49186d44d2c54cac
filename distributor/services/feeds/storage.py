"""Rebuilding stored feed documents after a change: render what is affected, store what
changed (bytes, ETag, Last-Modified), remove what no longer exists.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db import models
from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat, matches
from distributor.services.feeds.addresses import PUBLIC_KEY
from distributor.services.feeds.audiences import partner_audience, public_audience
from distributor.services.feeds.documents import BuiltDocument, build_documents, load_articles


def entity_tag(body: bytes) -> str:
    """A strong ETag derived from the body only, so equal bodies always share it."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def gzip_body(body: bytes) -> bytes:
    """Deterministic gzip (no timestamp in the header)."""
    return gzip.compress(body, compresslevel=6, mtime=0)


@dataclass
class RebuildReport:
    """What a rebuild changed."""

    built: int = 0
    changed_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    public_topics_changed: list[str] = field(default_factory=list)


def _store(
    session: Session, documents: Sequence[BuiltDocument], now: datetime, report: RebuildReport
) -> None:
    keys = [document.key for document in documents]
    existing = {
        row.key: row
        for row in session.scalars(
            select(models.FeedDocument).where(models.FeedDocument.key.in_(keys))
        )
    }
    # HTTP dates have whole seconds; a finer Last-Modified would never compare equal.
    moment = now.astimezone(UTC).replace(microsecond=0)
    for document in documents:
        etag = entity_tag(document.body)
        row = existing.get(document.key)
        report.built += 1
        if row is not None and row.etag == etag:
            row.built_at = moment
            continue
        if row is None:
            row = models.FeedDocument(key=document.key)
            session.add(row)
        row.content_type = document.content_type
        row.body = document.body
        row.body_gzip = gzip_body(document.body)
        row.etag = etag
        row.last_modified = moment
        row.item_count = document.item_count
        row.built_at = moment
        report.changed_keys.append(document.key)
        if document.key.startswith(PUBLIC_KEY + ":") and ":archive:" not in document.key:
            report.public_topics_changed.append(document.url)


def _remove_stale(
    session: Session, audience_key: str, keep: set[str], report: RebuildReport
) -> None:
    pattern = audience_key + ":%"
    stale = [
        key
        for key in session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like(pattern))
        )
        if key not in keep
        and key.split(":")[len(audience_key.split(":"))] in {f.value for f in FeedFormat}
    ]
    if stale:
        session.execute(delete(models.FeedDocument).where(models.FeedDocument.key.in_(stale)))
        report.removed_keys.extend(stale)


def rebuild_feeds(
    session: Session,
    settings: Settings,
    article_ids: Sequence[int] | None,
    now: datetime,
    partner_ids: Sequence[int] = (),
    *,
    archives: bool = True,
) -> RebuildReport:
    """Re-render the documents affected by ``article_ids`` (None: every document).

    Affected: the public feeds, each active partner whose selection includes one of the
    articles, and the partners in ``partner_ids`` (created, or their selection changed). With
    no article ids but partner ids, only those partners' documents are built. Unchanged
    documents keep their bytes, ETag and Last-Modified. ``archives=False`` builds the current
    documents only and leaves the archive pages as they are (a worker builds them next).

    Every document is rendered before the first write, so the write transaction lasts only as
    long as storing the bytes, not as long as the rendering.
    """
    articles = load_articles(session)
    partners = list(session.scalars(select(models.Partner).where(models.Partner.active.is_(True))))
    touched: list[Article] | None = None
    if article_ids is not None:
        wanted = set(article_ids)
        touched = [article for article in articles if article.id in wanted]
    chosen_partners = set(partner_ids)
    report = RebuildReport()
    audiences = []
    if article_ids is None or article_ids or not chosen_partners:
        audiences.append(public_audience(settings))
    for partner in partners:
        audience = partner_audience(settings, partner)
        selection = audience.selection
        if partner.id not in chosen_partners and (
            touched is not None
            and selection is not None
            and not any(matches(article, selection) for article in touched)
        ):
            continue
        audiences.append(audience)
    rendered = [
        (audience, build_documents(settings, audience, articles, now, archives=archives))
        for audience in audiences
    ]
    for audience, documents in rendered:
        _store(session, documents, now, report)
        if archives:
            _remove_stale(session, audience.key, {doc.key for doc in documents}, report)
    if article_ids is None:
        # Documents of partners that were removed or deactivated must not stay servable.
        live = {audience.key for audience in audiences}
        for key in session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like("partner:%"))
        ):
            if ":".join(key.split(":")[:2]) not in live:
                session.execute(delete(models.FeedDocument).where(models.FeedDocument.key == key))
                report.removed_keys.append(key)
    session.flush()
    return report
