"""Editors' corrections survive new revisions from the CMS, until the CMS changes that field.

Runs on SQLite and PostgreSQL, through the same store the ingest path uses.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.db import models
from distributor.domain.articles import Article, Author, Image
from distributor.services.article_edits import update_article_notes, update_image_fields
from distributor.services.ingest import get_article, store_articles

PHOTO = "https://magazine.example.org/images/ferry.jpg"
LEAD = "https://magazine.example.org/images/lead.jpg"


def _story(**changes: object) -> Article:
    story = Article(
        guid="urn:test:ferry-crews",
        title="The ferry crews of the upper river",
        canonical_url="https://magazine.example.org/stories/ferry-crews",
        body_html="<p>The ferry left at dawn.</p>",
        authors=(Author("Lin Mei"),),
        images=(
            Image(url=LEAD, caption="The upper river.", credit="Staff"),
            Image(url=PHOTO, caption="Crew at the rail."),
        ),
    )
    return replace(story, **changes)  # type: ignore[arg-type]


def _stored(db: Session, article_id: int) -> Article:
    article = get_article(db, article_id)
    assert article is not None
    return article


def _photo(article: Article) -> Image:
    return next(image for image in article.images if image.url == PHOTO)


def _photo_id(db: Session, article_id: int) -> int:
    return int(
        db.scalars(
            select(models.Image.id).where(
                models.Image.article_id == article_id, models.Image.url == PHOTO
            )
        ).one()
    )


def _fixes(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(models.ArticleFix)) or 0)


def test_a_desk_correction_survives_cms_revisions_until_the_cms_changes_it(db: Session) -> None:
    article_id = store_articles(db, [_story()]).created[0]
    photo_id = _photo_id(db, article_id)
    update_image_fields(
        db, article_id, photo_id, caption="Crew at the rail.", credit="Jane Doe", alt=None
    )
    update_article_notes(db, article_id, ["Names have been changed to protect sources."])
    db.commit()
    assert _fixes(db) == 2

    # The same item again: nothing changes, the correction stands.
    assert store_articles(db, [_story()]).unchanged == [article_id]
    # The CMS edits the text but still has no credit: the correction is applied again.
    assert store_articles(db, [_story(title="The ferry crews")]).revised == [article_id]
    db.commit()
    stored = _stored(db, article_id)
    assert stored.title == "The ferry crews"
    assert _photo(stored).credit == "Jane Doe"
    assert stored.notes == ("Names have been changed to protect sources.",)
    snapshot = db.scalars(
        select(models.ArticleRevision.snapshot)
        .where(models.ArticleRevision.article_id == article_id)
        .order_by(models.ArticleRevision.revision.desc())
    ).first()
    assert snapshot is not None
    assert [image["credit"] for image in snapshot["images"]] == ["Staff", "Jane Doe"]

    # The CMS now sends its own credit and notes: the newer CMS values win, the fixes go.
    store_articles(
        db,
        [
            _story(
                title="The ferry crews",
                images=(
                    Image(url=LEAD, caption="The upper river.", credit="Staff"),
                    Image(url=PHOTO, caption="Crew at the rail.", credit="River Agency"),
                ),
                notes=("Some names have been changed.",),
            )
        ],
    )
    db.commit()
    stored = _stored(db, article_id)
    assert _photo(stored).credit == "River Agency"
    assert stored.notes == ("Some names have been changed.",)
    assert _fixes(db) == 0
    # And they stay gone: a later revision without a credit is taken as the CMS sends it.
    store_articles(db, [_story(title="The ferry crews, revisited")])
    db.commit()
    assert _photo(_stored(db, article_id)).credit is None


def test_a_correction_back_to_the_cms_value_is_forgotten(db: Session) -> None:
    article_id = store_articles(db, [_story()]).created[0]
    photo_id = _photo_id(db, article_id)
    update_image_fields(db, article_id, photo_id, caption="Crew.", credit="Jane Doe", alt="Crew")
    update_image_fields(db, article_id, photo_id, caption="Crew.", credit="J. Doe", alt="Crew")
    assert {
        (fix.field, fix.before, fix.after) for fix in db.scalars(select(models.ArticleFix))
    } == {
        ("image.caption", "Crew at the rail.", "Crew."),
        ("image.credit", None, "J. Doe"),
        ("image.alt", None, "Crew"),
    }
    update_image_fields(
        db, article_id, photo_id, caption="Crew at the rail.", credit=None, alt=None
    )
    assert _fixes(db) == 0
    db.commit()
    store_articles(db, [_story(title="The ferry crews")])
    assert _photo(_stored(db, article_id)) == Image(url=PHOTO, caption="Crew at the rail.")


def test_a_correction_waits_while_its_image_is_missing(db: Session) -> None:
    article_id = store_articles(db, [_story()]).created[0]
    photo_id = _photo_id(db, article_id)
    update_image_fields(
        db, article_id, photo_id, caption="Crew at the rail.", credit="Jane Doe", alt=None
    )
    db.commit()
    without = _story(title="Update", images=(Image(url=LEAD, caption="The upper river."),))
    store_articles(db, [without])
    db.commit()
    assert [image.url for image in _stored(db, article_id).images] == [LEAD]
    assert _fixes(db) == 1
    store_articles(db, [_story(title="Update 2")])
    db.commit()
    assert _photo(_stored(db, article_id)).credit == "Jane Doe"
