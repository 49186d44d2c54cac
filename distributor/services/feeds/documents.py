"""Rendering an audience's documents: the current one per format and its RFC 5005 archive pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.articles import Article, ArticleStatus
from distributor.domain.partners import FeedFormat, matches
from distributor.rendering.feeds import format_record, render_feed
from distributor.rendering.feeds.common import order_key, select_entries
from distributor.services.feeds.addresses import document_key
from distributor.services.feeds.audiences import Audience, feed_policy, feed_spec


def load_articles(session: Session, article_ids: Iterable[int] | None = None) -> list[Article]:
    """Every distributable article (published or withdrawn), or only ``article_ids``."""
    query = select(models.Article).where(
        models.Article.status.in_([status.value for status in ArticleStatus])
    )
    if article_ids is not None:
        query = query.where(models.Article.id.in_(list(article_ids)))
    return [article_from_row(row) for row in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class BuiltDocument:
    """One rendered document, ready to store or print."""

    key: str
    url: str
    content_type: str
    body: bytes
    item_count: int


def audience_articles(audience: Audience, articles: Sequence[Article]) -> list[Article]:
    """The articles in an audience's topical selection (territory/embargo come later)."""
    if audience.selection is None:
        return list(articles)
    return [article for article in articles if matches(article, audience.selection)]


def build_documents(
    settings: Settings,
    audience: Audience,
    articles: Sequence[Article],
    now: datetime,
    formats: Iterable[FeedFormat] | None = None,
    *,
    archives: bool = True,
) -> list[BuiltDocument]:
    """Render every document of ``audience``: the current one per format plus archive pages
    (``archives=False``: the current ones only).

    The current document holds the newest ``FEED_PAGE_SIZE`` items. Archive page ``n`` holds
    items ``(n-1)*size .. n*size-1`` counted from the oldest, and exists only once full, so
    its membership never changes (RFC 5005 §4).
    """
    chosen = audience_articles(audience, articles)
    policy = feed_policy(audience, now)
    size = settings.FEED_PAGE_SIZE
    documents: list[BuiltDocument] = []
    for feed_format in formats or audience.formats:
        entries = select_entries(chosen, feed_format, policy)
        oldest_first = sorted((entry.article for entry in entries), key=order_key)
        pages = len(oldest_first) // size if len(oldest_first) > size else 0
        newest = oldest_first[-size:]
        content_type = format_record(feed_format).content_type
        spec = feed_spec(settings, audience, feed_format, None, pages)
        documents.append(
            BuiltDocument(
                key=document_key(audience.key, feed_format),
                url=spec.self_url,
                content_type=content_type,
                body=render_feed(feed_format, spec, newest, policy),
                item_count=len(newest),
            )
        )
        for page in range(1, pages + 1 if archives else 1):
            members = oldest_first[(page - 1) * size : page * size]
            spec = feed_spec(settings, audience, feed_format, page, pages)
            documents.append(
                BuiltDocument(
                    key=document_key(audience.key, feed_format, page),
                    url=spec.self_url,
                    content_type=content_type,
                    body=render_feed(feed_format, spec, members, policy),
                    item_count=len(members),
                )
            )
    return documents
