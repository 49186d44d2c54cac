"""Migration 0011 on a database written by the previous version (SQLite and PostgreSQL): every
article gets a source (the built-in desk source when it had none), (source, GUID) becomes the
unique identity, and on SQLite the rebuilt ``articles`` table keeps every row that points at
it (bylines, images, revisions, fixes, issue contents) with its foreign keys intact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from distributor.db.migrate import check, upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.ingest import store_articles
from tests.factories.feed_stories import english_feed_article
from tests.support.old_database import database_at

NOW = "2026-11-01 10:00:00"
ARTICLE_COLUMNS = (
    "guid, source_id, canonical_url, title, body_html, language, sections, tags, notes,"
    " territories_allow, territories_deny, revision, content_hash, status, ingested_at,"
    " modified_at"
)
ARTICLE_VALUES = (
    ":guid, :source, :url, :title, '<p>Body</p>', 'en', '[]', '[]', '[]', '[]', '[]', 1,"
    " 'h', 'published', :now, :now"
)
# (guid, from the registered feed?) of the stories stored before the upgrade.
STORIES = (
    ("https://magazine.example.org/stories/1", True),
    ("urn:cms:2", False),
    ("https://magazine.example.org/stories/3", False),
)


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated to revision 0010 only."""
    with database_at(request.param, "0010", tmp_path) as url:
        yield url


def _fill(url: str) -> dict[str, int]:
    """Stories (one from a registered feed, two without a source) with everything that
    points at them; article ids by GUID."""
    ids: dict[str, int] = {}
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (url, name, interval_seconds, active, consecutive_failures,"
                " created_at) VALUES ('https://magazine.example.org/feed', 'Magazine', 900,"
                " :yes, 0, :now)"
            ),
            {"yes": True, "now": NOW},
        )
        feed = connection.execute(text("SELECT id FROM sources")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO issues (subject, preheader, editor_note, language, status,"
                " consecutive_failures, created_at, updated_at)"
                " VALUES ('Weekly', '', '', 'en', 'draft', 0, :now, :now)"
            ),
            {"now": NOW},
        )
        issue = connection.execute(text("SELECT id FROM issues")).scalar_one()
        for position, (guid, from_feed) in enumerate(STORIES):
            connection.execute(
                text(f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({ARTICLE_VALUES})"),
                {
                    "guid": guid,
                    "source": feed if from_feed else None,
                    "url": f"https://magazine.example.org/{position}",
                    "title": f"Story {position}",
                    "now": NOW,
                },
            )
            article = connection.execute(
                text("SELECT id FROM articles WHERE guid = :guid"), {"guid": guid}
            ).scalar_one()
            ids[guid] = article
            connection.execute(
                text("INSERT INTO authors (key, name, updated_at) VALUES (:key, :name, :now)"),
                {"key": f"name:author {position}", "name": f"Author {position}", "now": NOW},
            )
            author = connection.execute(
                text("SELECT id FROM authors WHERE key = :key"),
                {"key": f"name:author {position}"},
            ).scalar_one()
            for statement in (
                "INSERT INTO article_authors (article_id, author_id, position)"
                " VALUES (:article, :author, 0)",
                "INSERT INTO images (article_id, position, url, credit, is_lead)"
                " VALUES (:article, 0, 'https://img.example.org/1.jpg', 'Photo: A', :no)",
                "INSERT INTO article_revisions (article_id, revision, content_hash, snapshot,"
                " created_at) VALUES (:article, 1, 'h', '{}', :now)",
                "INSERT INTO article_fixes (article_id, field, target, created_at)"
                " VALUES (:article, 'notes', '', :now)",
                "INSERT INTO issue_articles (issue_id, article_id, position)"
                " VALUES (:issue, :article, :position)",
            ):
                connection.execute(
                    text(statement),
                    {
                        "article": article,
                        "author": author,
                        "issue": issue,
                        "position": position,
                        "no": False,
                        "now": NOW,
                    },
                )
    return ids


CHILDREN = ("article_authors", "images", "article_revisions", "article_fixes", "issue_articles")


def _children(url: str) -> dict[str, list[int]]:
    with engine_for(url).connect() as connection:
        return {
            table: sorted(
                connection.execute(text(f"SELECT article_id FROM {table}")).scalars().all()
            )
            for table in CHILDREN
        }


def test_upgrade_gives_every_story_a_source_and_keeps_what_points_at_it(
    old_database: str,
) -> None:
    ids = _fill(old_database)
    before = _children(old_database)
    assert all(len(rows) == len(STORIES) for rows in before.values())

    upgrade(old_database)

    # Nothing that pointed at a story was lost or left dangling by the table rebuild.
    assert _children(old_database) == before
    engine = engine_for(old_database)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        sources = {
            url: (kind, name)
            for url, kind, name in connection.execute(text("SELECT url, kind, name FROM sources"))
        }
        assert sources == {
            "https://magazine.example.org/feed": ("feed", "Magazine"),
            "distributor:desk": ("desk", "desk"),
        }
        rows = {
            guid: (source_url, bool(own))
            for guid, source_url, own in connection.execute(
                text(
                    "SELECT a.guid, s.url, a.guid_is_feed_id FROM articles a"
                    " JOIN sources s ON s.id = a.source_id"
                )
            )
        }
    assert rows == {
        "https://magazine.example.org/stories/1": ("https://magazine.example.org/feed", True),
        "urn:cms:2": ("distributor:desk", False),
        "https://magazine.example.org/stories/3": ("distributor:desk", True),
    }
    check(old_database)  # the migrated schema is the models' schema

    with unit_of_work(old_database) as session:
        # The desk keeps revising its own story by GUID after the upgrade...
        result = store_articles(
            session, [english_feed_article(1, guid="urn:cms:2", title="Story 1, corrected")]
        )
        assert result.revised == [ids["urn:cms:2"]]
        # ...and the registered feed now has a story of its own with that GUID.
        feed = session.execute(text("SELECT id FROM sources WHERE kind = 'feed'")).scalar_one()
        other = store_articles(session, [english_feed_article(1, guid="urn:cms:2")], source_id=feed)
        assert other.created
        assert other.created != result.revised


def test_one_source_cannot_hold_a_guid_twice_after_the_upgrade(old_database: str) -> None:
    _fill(old_database)
    upgrade(old_database)
    engine = engine_for(old_database)
    duplicate = text(
        f"INSERT INTO articles ({ARTICLE_COLUMNS}, guid_is_feed_id) VALUES ({ARTICLE_VALUES}, :no)"
    )
    with engine.connect() as connection:
        desk = connection.execute(text("SELECT id FROM sources WHERE kind = 'desk'")).scalar_one()
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            duplicate,
            {
                "guid": "urn:cms:2",
                "source": desk,
                "url": "https://x",
                "title": "x",
                "now": NOW,
                "no": False,
            },
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            duplicate,
            {
                "guid": "urn:cms:9",
                "source": None,
                "url": "https://x",
                "title": "x",
                "now": NOW,
                "no": False,
            },
        )


def test_downgrade_is_refused_once_two_sources_share_a_guid(old_database: str) -> None:
    _fill(old_database)
    upgrade(old_database)
    with unit_of_work(old_database) as session:
        feed = session.execute(text("SELECT id FROM sources WHERE kind = 'feed'")).scalar_one()
        store_articles(session, [english_feed_article(1, guid="urn:cms:2")], source_id=feed)
    from alembic import command

    from distributor.db.migrate import alembic_config

    with pytest.raises(RuntimeError, match="belongs to several stories"):
        command.downgrade(alembic_config(old_database), "0010")
