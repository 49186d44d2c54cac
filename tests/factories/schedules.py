"""Factories for schedule tests and the schedules benchmark: stories with a publication
time and filters, desk users."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from distributor.db.models import Article, User
from distributor.domain.sources import SourceKind
from distributor.services.ingest import builtin_source


def story(
    session: Session,
    number: int,
    published_at: datetime,
    *,
    language: str = "en",
    sections: tuple[str, ...] = ("News",),
    tags: tuple[str, ...] = (),
    source_id: int | None = None,
    embargo_until: datetime | None = None,
    title: str | None = None,
) -> Article:
    """One invented story published at ``published_at``."""
    article = Article(**story_values(session, number, published_at, language=language))
    article.sections = list(sections)
    article.tags = list(tags)
    article.embargo_until = embargo_until
    if source_id is not None:
        article.source_id = source_id
    if title is not None:
        article.title = title
    session.add(article)
    session.flush()
    return article


def story_values(
    session: Session, number: int, published_at: datetime, *, language: str = "en"
) -> dict[str, Any]:
    """Column values of one story (for bulk inserts)."""
    return {
        "guid": f"urn:test:schedule-story:{number}",
        "source_id": builtin_source(session, SourceKind.DESK).id,
        "canonical_url": f"https://magazine.example.org/stories/s{number}",
        "title": f"Harbour notes, number {number}",
        "dek": "Short news from the harbour.",
        "body_html": "<p>The tide came in.</p>",
        "language": language,
        "sections": ["News"],
        "tags": [],
        "published_at": published_at,
        "content_hash": hashlib.sha256(f"schedule-story-{number}".encode()).hexdigest(),
    }


def bulk_stories(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many stories at once (values from :func:`story_values`)."""
    session.execute(insert(Article), rows)
    session.flush()


def desk_user(session: Session, email: str, *, disabled: bool = False) -> User:
    """A desk account (its password hash is a placeholder: these tests never sign in)."""
    user = User(email=email, name="Desk", password_hash="!disabled" if disabled else "x")
    session.add(user)
    session.flush()
    return user
