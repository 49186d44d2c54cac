"""Storage on both backends: migrations, round trips, constraints, aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from distributor.db import models
from distributor.db.migrate import check
from distributor.db.session import unit_of_work
from distributor.domain.sources import SourceKind
from distributor.services.ingest import builtin_source


def test_migrations_match_models(database_url: str) -> None:
    check(database_url)  # raises when `alembic check` would report drift


def test_article_with_authors_and_images_round_trips(database_url: str) -> None:
    published = datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    with unit_of_work(database_url) as session:
        author = models.Author(key="lin-qiao", name="Lin Qiao", bio="Based in Taipei.")
        article = models.Article(
            guid="urn:demo:1",
            source_id=builtin_source(session, SourceKind.DESK).id,
            canonical_url="https://magazine.example.org/stories/1",
            title="女工们的夜班",
            body_html="<p>“We worked nights,” she said — 500 yuan (£53).</p>",
            language="zh-Hans",
            notes=["*Names have been changed to ensure the safety of sources"],
            tags=["labour"],
            published_at=published,
            content_hash="0" * 64,
        )
        article.authors.append(models.ArticleAuthor(author=author, position=0))
        article.images.append(
            models.Image(url="https://img.example.org/1.jpg", caption="A rally.", credit="X")
        )
        session.add(article)
    with unit_of_work(database_url) as session:
        stored = session.scalars(select(models.Article)).one()
        assert stored.title == "女工们的夜班"
        assert stored.published_at == published
        assert stored.published_at.tzinfo is not None
        assert stored.published_at.utcoffset() == timedelta(0)
        assert stored.notes == ["*Names have been changed to ensure the safety of sources"]
        assert [link.author.bio for link in stored.authors] == ["Based in Taipei."]
        assert [image.credit for image in stored.images] == ["X"]


def test_naive_datetimes_are_refused(database_url: str) -> None:
    with pytest.raises(Exception, match="naive datetime"), unit_of_work(database_url) as session:
        session.add(models.MailingList(name="weekly", created_at=datetime(2026, 1, 1)))


def test_delivery_is_unique_per_issue_and_subscriber(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        mailing_list = models.MailingList(name="weekly")
        subscriber = models.Subscriber(email="r@example.org", email_hash="h" * 64)
        issue = models.Issue(subject="Weekly")
        session.add_all([mailing_list, subscriber, issue])
        session.flush()
        batch = models.SendBatch(issue_id=issue.id, seq=0)
        session.add(batch)
        session.flush()
        session.add(
            models.Delivery(issue_id=issue.id, batch_id=batch.id, subscriber_id=subscriber.id)
        )
        ids = (issue.id, batch.id, subscriber.id)
    with pytest.raises(IntegrityError), unit_of_work(database_url) as session:
        session.add(models.Delivery(issue_id=ids[0], batch_id=ids[1], subscriber_id=ids[2]))


def test_times_come_back_in_utc(database_url: str) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with unit_of_work(database_url) as session:
        session.add(models.Issue(subject="s", send_at=moment, schedule_timezone="Europe/London"))
    with unit_of_work(database_url) as session:
        issue = session.scalars(select(models.Issue)).one()
        assert issue.send_at == moment
        assert issue.send_at.tzinfo == UTC
