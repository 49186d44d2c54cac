"""The one mapping from stored rows to domain articles: the order and defaults its callers
(rendering, feeds, partner pushes, the API and the CLI) rely on."""

from __future__ import annotations

from datetime import UTC, datetime

from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.articles import ArticleStatus


def _row(**overrides: object) -> models.Article:
    fields: dict[str, object] = {
        "id": 7,
        "guid": "story-7",
        "source_id": 3,
        "canonical_url": "https://news.example/7",
        "title": "Seven",
        "revision": 2,
        "status": "published",
        "ingested_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "guid_is_feed_id": False,
    }
    fields.update(overrides)
    return models.Article(**fields)


def _byline(name: str, position: int) -> models.ArticleAuthor:
    return models.ArticleAuthor(position=position, author=models.Author(name=name))


def _image(url: str, position: int, *, is_lead: bool | None = False) -> models.Image:
    return models.Image(url=url, position=position, is_lead=is_lead)


def test_byline_and_images_follow_their_stored_positions_not_the_list_order() -> None:
    row = _row()
    row.authors = [_byline("Second", 1), _byline("First", 0), _byline("Third", 2)]
    row.images = [_image("https://img.example/b.jpg", 5), _image("https://img.example/a.jpg", 0)]
    article = article_from_row(row)
    assert [author.name for author in article.authors] == ["First", "Second", "Third"]
    assert [image.url for image in article.images] == [
        "https://img.example/a.jpg",
        "https://img.example/b.jpg",
    ]


def test_missing_values_take_the_domain_defaults() -> None:
    row = _row(
        body_html=None,
        language=None,
        sections=None,
        tags=None,
        notes=None,
        territories_allow=None,
        territories_deny=None,
        guid_is_feed_id=None,
    )
    row.images = [_image("https://img.example/a.jpg", 0, is_lead=None)]
    article = article_from_row(row)
    assert article.body_html == ""
    assert article.language == "en"
    assert article.sections == article.tags == article.notes == ()
    assert article.territories_allow == article.territories_deny == ()
    assert article.guid_is_feed_id is False
    assert article.images[0].is_lead is False


def test_list_fields_drop_empty_entries_and_keep_the_order() -> None:
    row = _row(
        sections=["World", "", None, "Europe"],
        tags=["b", "a", ""],
        notes=["Names changed.", None],
        territories_allow=["FR", "", "DE"],
        territories_deny=[None],
    )
    article = article_from_row(row)
    assert article.sections == ("World", "Europe")
    assert article.tags == ("b", "a")
    assert article.notes == ("Names changed.",)
    assert article.territories_allow == ("FR", "DE")
    assert article.territories_deny == ()


def test_bookkeeping_fields_are_carried_over() -> None:
    article = article_from_row(_row(status="withdrawn"))
    assert article.id == 7
    assert article.source_id == 3
    assert article.revision == 2
    assert article.status is ArticleStatus.WITHDRAWN
    assert article.stored_at == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
