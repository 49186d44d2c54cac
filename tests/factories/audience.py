"""Test and benchmark factories: lists, synthetic subscribers in bulk, articles, issues.

Direct inserts (not the user-facing import), fast enough for a million rows on PostgreSQL.
Every address is on example.org, made up, and numbered.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from distributor.db.models import Article, MailingList, Subscriber, Subscription, Suppression
from distributor.domain.sources import SourceKind
from distributor.services.ingest import builtin_source
from distributor.services.suppression import address_hash, address_hasher


def _hmac_pads() -> tuple[bytes, bytes]:
    """The inner and outer HMAC-SHA256 pads of the address hash key, so PostgreSQL can compute
    the keyed address hash with its built-in sha256() (RFC 2104; no extension needed)."""
    return address_hasher().hmac_pads()


def make_list(session: Session, name: str = "weekly", language: str = "en") -> MailingList:
    """A mailing list (single opt-in for tests)."""
    mailing_list = MailingList(name=name, title=name.title(), opt_in="single", language=language)
    session.add(mailing_list)
    session.flush()
    return mailing_list


def article_row(session: Session, number: int = 1, language: str = "en") -> Article:
    """A small invented article, stored as a row."""
    article = Article(
        guid=f"urn:test:article:{number}",
        source_id=builtin_source(session, SourceKind.DESK).id,
        canonical_url=f"https://magazine.example.org/stories/{number}",
        title=f"River towns count the cost, part {number}",
        dek="A reporter spends a season with the ferry crews.",
        body_html="<p>The ferry left at dawn.</p>",
        language=language,
        content_hash=hashlib.sha256(f"article-{number}".encode()).hexdigest(),
    )
    session.add(article)
    session.flush()
    return article


def address(prefix: str, number: int) -> str:
    """The synthetic address number ``number`` of a run."""
    return f"{prefix}-{number:07d}@example.org"


def bulk_subscribers(
    session: Session,
    list_id: int,
    count: int,
    prefix: str = "reader",
    status: str = "confirmed",
) -> None:
    """Create ``count`` subscribers ``prefix-0000001@example.org``... subscribed to ``list_id``."""
    now = datetime.now(UTC)
    if session.get_bind().dialect.name == "postgresql":
        inner, outer = _hmac_pads()
        session.execute(
            text(
                """
                INSERT INTO subscribers (email, email_hash, name, attributes, status,
                                         soft_bounces, created_at, updated_at)
                SELECT e,
                       encode(sha256(:outer || sha256(:inner || convert_to(
                           encode(sha256(convert_to(e, 'UTF8')), 'hex'), 'UTF8'))), 'hex'),
                       'Reader ' || g, '{}',
                       'active', 0, now(), now()
                FROM generate_series(1, :count) AS g,
                     LATERAL (SELECT :prefix || '-' || lpad(g::text, 7, '0') || '@example.org'
                              AS e) AS made
                ON CONFLICT (email) DO NOTHING
                """
            ),
            {"count": count, "prefix": prefix, "inner": inner, "outer": outer},
        )
        session.execute(
            text(
                """
                INSERT INTO subscriptions (subscriber_id, list_id, status, created_at,
                                           confirmed_at)
                SELECT s.id, :list_id, :status, now(), now() FROM subscribers s
                WHERE s.email LIKE :pattern
                ON CONFLICT DO NOTHING
                """
            ),
            {"list_id": list_id, "status": status, "pattern": f"{prefix}-%@example.org"},
        )
        session.flush()
        return
    subscribers = [
        Subscriber(
            email=address(prefix, number),
            email_hash=address_hash(address(prefix, number)),
            name=f"Reader {number}",
            created_at=now,
            updated_at=now,
        )
        for number in range(1, count + 1)
    ]
    session.add_all(subscribers)
    session.flush()
    session.add_all(
        Subscription(subscriber_id=subscriber.id, list_id=list_id, status=status, confirmed_at=now)
        for subscriber in subscribers
    )
    session.flush()


def subscribe(
    session: Session, email: str, list_id: int, status: str = "confirmed", name: str | None = None
) -> Subscriber:
    """One subscriber on one list."""
    subscriber = Subscriber(email=email, email_hash=address_hash(email), name=name)
    session.add(subscriber)
    session.flush()
    session.add(Subscription(subscriber_id=subscriber.id, list_id=list_id, status=status))
    session.flush()
    return subscriber


def suppress(session: Session, email: str, reason: str = "hard_bounce") -> None:
    """Suppress ``email`` for every list."""
    session.add(Suppression(email_hash=address_hash(email), reason=reason))
    session.flush()
