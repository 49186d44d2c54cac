"""Storing a batch writes exactly the rows that storing its articles one at a time writes, and
a session that stored a revision sees the new byline and images. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.db.session import unit_of_work
from distributor.domain.articles import Article, Author, Image
from distributor.services.ingest import get_article, store_articles
from tests.factories.feed_stories import chinese_feed_article, english_feed_article

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


def _first_batch() -> list[Article]:
    plain = [english_feed_article(number, id=None) for number in range(1, 5)]
    repeated_author = dataclasses.replace(
        english_feed_article(5, id=None),
        authors=(Author("Mei Lin"), Author("mei  lin", bio="ignored: same person twice")),
    )
    no_images = dataclasses.replace(english_feed_article(6, id=None), images=(), updated_at=None)
    newcomer = dataclasses.replace(
        english_feed_article(7, id=None),
        authors=(Author("Ana Ruiz"), Author("Bo", bio="Bo writes.")),
    )
    newcomer_again = dataclasses.replace(
        english_feed_article(8, id=None),
        authors=(Author("ana ruiz", bio="Ana's bio.", email="ana@example.org"),),
    )
    return [
        *plain,
        repeated_author,
        no_images,
        newcomer,
        newcomer_again,
        chinese_feed_article(id=None),
    ]


def _second_batch(first: list[Article]) -> list[Article]:
    reordered = dataclasses.replace(
        first[0],
        title=first[0].title + " (corrected)",
        authors=tuple(reversed(first[0].authors)),
        images=first[0].images[:1],
    )
    undated = dataclasses.replace(first[1], body_html=first[1].body_html + "<p>Update.</p>")
    undated = dataclasses.replace(undated, updated_at=None)
    fresh = dataclasses.replace(
        english_feed_article(20, id=None),
        images=(Image(url="https://img.example.org/x.jpg", credit="C" * 1200, is_lead=True),),
    )
    # new before revised, unchanged in between, and a GUID twice (the last copy wins)
    return [fresh, reordered, first[2], undated, first[3], dataclasses.replace(fresh, dek="v2")]


def _store(url: str, batches: list[tuple[list[Article], datetime]], one_at_a_time: bool) -> None:
    for articles, now in batches:
        # One at a time, a repeated GUID would be a revision; a batch keeps only its last copy.
        unique = {article.guid: article for article in articles}.values()
        groups = [[article] for article in unique] if one_at_a_time else [articles]
        for group in groups:
            with unit_of_work(url) as session:
                store_articles(session, group, now=now)


def _tables(session: Session) -> dict[str, list[Any]]:
    """Every stored row, with ids replaced by natural keys (GUID, author key)."""
    guids = dict(session.execute(select(models.Article.id, models.Article.guid)).all())
    keys = dict(session.execute(select(models.Author.id, models.Author.key)).all())

    def values(row: object, skip: set[str]) -> dict[str, Any]:
        table = type(row).__table__  # type: ignore[attr-defined]
        return {c.name: getattr(row, c.name) for c in table.columns if c.name not in skip}

    revisions = []
    for row in session.scalars(select(models.ArticleRevision)):
        item = values(row, {"id", "article_id", "snapshot"})
        snapshot = dict(row.snapshot)
        assert snapshot.pop("id") == row.article_id
        item.update(guid=guids[row.article_id], snapshot=snapshot)
        revisions.append(item)
    return {
        "authors": sorted(
            (values(row, {"id", "updated_at"}) for row in session.scalars(select(models.Author))),
            key=lambda item: item["key"],
        ),
        "articles": sorted(
            (values(row, {"id"}) for row in session.scalars(select(models.Article))),
            key=lambda item: item["guid"],
        ),
        "article_authors": sorted(
            (guids[row.article_id], keys[row.author_id], row.position)
            for row in session.scalars(select(models.ArticleAuthor))
        ),
        "images": sorted(
            (
                {**values(row, {"id", "article_id"}), "guid": guids[row.article_id]}
                for row in session.scalars(select(models.Image))
            ),
            key=lambda item: (item["guid"], item["position"]),
        ),
        "revisions": sorted(revisions, key=lambda item: (item["guid"], item["revision"])),
    }


def _empty(url: str) -> None:
    with unit_of_work(url) as session:
        for model in (
            models.ArticleRevision,
            models.Image,
            models.ArticleAuthor,
            models.Article,
            models.Author,
        ):
            session.execute(delete(model))


def test_a_batch_stores_what_one_article_at_a_time_stores(database_url: str) -> None:
    first = _first_batch()
    batches = [(first, NOW), (_second_batch(first), LATER)]
    _store(database_url, batches, one_at_a_time=True)
    with unit_of_work(database_url) as session:
        expected = _tables(session)
    _empty(database_url)
    _store(database_url, batches, one_at_a_time=False)
    with unit_of_work(database_url) as session:
        stored = _tables(session)
    assert stored == expected
    assert len(stored["articles"]) == len(first) + 1
    assert len(stored["revisions"]) == len(first) + 3


def test_a_batch_reports_ids_in_feed_order(database_url: str) -> None:
    first = _first_batch()
    with unit_of_work(database_url) as session:
        created = store_articles(session, first, now=NOW).created
        guids = [session.get(models.Article, article_id).guid for article_id in created]  # type: ignore[union-attr]
    assert guids == [article.guid for article in first]
    assert created == sorted(created)


def test_the_storing_session_sees_the_revised_byline_and_images(database_url: str) -> None:
    article = english_feed_article(1, id=None)
    with unit_of_work(database_url) as session:
        store_articles(session, [article], now=NOW)
    edited = dataclasses.replace(
        article, authors=tuple(reversed(article.authors)), images=article.images[1:]
    )
    with unit_of_work(database_url) as session:
        loaded = session.get(
            models.Article, store_articles(session, [article], now=NOW).unchanged[0]
        )
        assert loaded is not None
        held = [*loaded.authors, *loaded.images]  # the caller still holds the old rows
        result = store_articles(session, [edited], now=LATER)
        assert len(held) == len(article.authors) + len(article.images)
        after = get_article(session, result.revised[0])
        assert after is not None
        assert [a.name for a in after.authors] == [a.name for a in edited.authors]
        assert [i.url for i in after.images] == [i.url for i in edited.images]
        assert after.revision == 2
        row = session.get(models.Article, result.revised[0])
        assert row is not None
        assert [(link.author.name, link.position) for link in row.authors] == [
            (author.name, position) for position, author in enumerate(edited.authors)
        ]
        mapped = article_from_row(row)  # orders by the stored positions
        assert [a.name for a in mapped.authors] == [a.name for a in edited.authors]
        assert [(i.url, i.position) for i in row.images] == [(edited.images[0].url, 0)]
