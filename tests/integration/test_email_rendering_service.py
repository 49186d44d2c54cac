"""Rendering stored issues: mapping rows, storing the render, freezing it while sending."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from distributor.config import Settings
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.db.session import unit_of_work
from distributor.rendering.email import PLACEHOLDERS
from distributor.services.rendering import (
    IssueNotFoundError,
    archive_page,
    first_name_of,
    preview_issue,
    render_issue_by_id,
    subscriber_substitutions,
    web_archive_url,
)
from tests.conftest import make_settings
from tests.factories.email_rows import insert_article, store_issue
from tests.factories.email_stories import chinese_article, english_article
from tests.unit.rendering.email_properties import visible_text


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


def test_article_from_row_keeps_every_field_and_the_order(db_settings: Settings) -> None:
    original = english_article(3, co_author=True)
    with unit_of_work(db_settings.database_url) as db:
        article_id = insert_article(db, original)
    with unit_of_work(db_settings.database_url) as db:
        mapped = article_from_row(db.get(models.Article, article_id))
    assert [author.name for author in mapped.authors] == [a.name for a in original.authors]
    assert [image.url for image in mapped.images] == [i.url for i in original.images]
    # Storage adds the bookkeeping: the source (the desk here) and when it was first stored.
    assert mapped.source_id is not None
    assert mapped.stored_at is not None
    assert mapped == replace(
        original,
        id=article_id,
        source_id=mapped.source_id,
        stored_at=mapped.stored_at,
        guid_is_feed_id=False,
    )


def test_render_is_stored_once_and_redone_only_when_content_changes(db_settings: Settings) -> None:
    with unit_of_work(db_settings.database_url) as db:
        issue_id = store_issue(db, [english_article(0), english_article(1), chinese_article(2)])
    with unit_of_work(db_settings.database_url) as db:
        first = render_issue_by_id(db, db_settings, issue_id)
    with unit_of_work(db_settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue.rendered_html == first.html
        assert issue.rendered_text == first.text
        assert issue.rendered_hash == first.content_hash
        assert issue.html_size == first.html_bytes
        assert issue.web_token
        assert len(issue.web_token) >= 16
        stamp = issue.rendered_at
        again = render_issue_by_id(db, db_settings, issue_id)
        assert again.content_hash == first.content_hash
        assert db.get(models.Issue, issue_id).rendered_at == stamp
        row = db.scalars(select(models.Article).where(models.Article.guid.like("%1001"))).one()
        row.title = "A corrected headline"
    with unit_of_work(db_settings.database_url) as db:
        changed = render_issue_by_id(db, db_settings, issue_id)
        assert "A corrected headline" in changed.html
        assert db.get(models.Issue, issue_id).rendered_hash == changed.content_hash
        assert db.get(models.Issue, issue_id).rendered_at >= stamp


def test_issue_order_and_list_title_come_from_the_database(db_settings: Settings) -> None:
    stories = [english_article(index) for index in (4, 2, 7)]
    with unit_of_work(db_settings.database_url) as db:
        issue_id = store_issue(db, stories, list_title="Night Shift Notes")
        rendered = render_issue_by_id(db, db_settings, issue_id)
    positions = [rendered.text.index(story.title[:40]) for story in stories]
    assert positions == sorted(positions)
    assert "Night Shift Notes" in rendered.text


def test_once_sending_the_stored_email_is_used_unchanged(db_settings: Settings) -> None:
    with unit_of_work(db_settings.database_url) as db:
        issue_id = store_issue(db, [english_article(0)])
        before = render_issue_by_id(db, db_settings, issue_id)
        db.get(models.Issue, issue_id).status = "sending"
        for row in db.scalars(select(models.Article)):
            row.title = "Changed while sending"
    with unit_of_work(db_settings.database_url) as db:
        during = render_issue_by_id(db, db_settings, issue_id)
    assert during.html == before.html
    assert during.content_hash == before.content_hash


def test_missing_issue_is_a_clear_error(db_settings: Settings) -> None:
    with (
        unit_of_work(db_settings.database_url) as db,
        pytest.raises(IssueNotFoundError, match="issue 999"),
    ):
        render_issue_by_id(db, db_settings, 999)


def test_preview_is_personalised_for_a_sample_reader(db_settings: Settings) -> None:
    with unit_of_work(db_settings.database_url) as db:
        issue_id = store_issue(db, [chinese_article(0)], language="zh-Hans")
        preview = preview_issue(db, db_settings, issue_id)
        archive = web_archive_url(db_settings, db.get(models.Issue, issue_id))
    for token in PLACEHOLDERS:
        assert token not in preview.html
        assert token not in preview.text
    assert "亲爱的读者：" in visible_text(preview.html)
    assert archive in preview.text
    assert archive.startswith("https://news.example.org/archive/")
    assert preview.warning is None


def test_archive_is_public_only_after_the_issue_went_out(db_settings: Settings) -> None:
    with unit_of_work(db_settings.database_url) as db:
        issue_id = store_issue(db, [english_article(0)])
        render_issue_by_id(db, db_settings, issue_id)
        token = db.get(models.Issue, issue_id).web_token
        with pytest.raises(IssueNotFoundError):
            archive_page(db, db_settings, token)
        db.get(models.Issue, issue_id).status = "sent"
        page = archive_page(db, db_settings, token)
        with pytest.raises(IssueNotFoundError):
            archive_page(db, db_settings, "not-a-token")
    assert "/unsubscribe/" not in page
    assert "-unsubscribe_url-" not in page
    assert english_article(0).title in visible_text(page)


def test_subscriber_substitutions_carry_signed_links(db_settings: Settings) -> None:
    from distributor.domain.links import MANAGE_PURPOSE
    from distributor.domain.tokens import read_token

    values = subscriber_substitutions(
        db_settings,
        language="en",
        name="Mara Ellison",
        subscriber_id=41,
        list_id=5,
        web_url="https://news.example.org/archive/x",
    )
    assert set(values) == set(PLACEHOLDERS)
    assert values["-first_name-"] == "Mara"
    token = values["-unsubscribe_url-"].rsplit("/", 1)[1]
    claims = read_token(db_settings.secret_key(), MANAGE_PURPOSE, token, None)
    assert (claims.subscriber_id, claims.list_id) == (41, 5)
    assert "41" not in token


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "Mara Ellison",
        "陈思远",
        "  Tomás   de la Cruz ",
        "<b>Bo</b> & co",
        "Ann\x07ie",
        "\u200b",
    ],
)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_personaliser_gives_the_values_of_substitutions_for(
    db_settings: Settings, name: str | None, language: str
) -> None:
    """The per-batch fast path and the one-recipient path must never drift apart."""
    from distributor.rendering.email import fallback_first_name, substitutions_for
    from distributor.services.rendering import Personaliser, recipient_for

    web_url = "https://news.example.org/archive/x"
    personaliser = Personaliser(
        db_settings, language=language, web_url=web_url, issued_at=1_700_000_000
    )
    for subscriber_id, list_id in ((1, 1), (41, 5), (2**33, 7)):
        recipient = recipient_for(
            db_settings,
            email="",
            name=name,
            subscriber_id=subscriber_id,
            list_id=list_id,
            web_url=web_url,
            issued_at=1_700_000_000,
        )
        expected = substitutions_for(recipient, fallback_first_name(language))
        assert personaliser.substitutions(subscriber_id, list_id, name) == expected


def test_personaliser_refuses_a_base_url_that_would_need_escaping(
    db_settings: Settings,
) -> None:
    from distributor.services.rendering import Personaliser

    with pytest.raises(ValueError, match="web_url"):
        Personaliser(db_settings, language="en", web_url='https://x.example/"><script>')


def test_first_name_rules() -> None:
    assert first_name_of("Mara Ellison") == "Mara"
    assert first_name_of("陈思远") == "陈思远"
    assert first_name_of("  ") is None
    assert first_name_of(None, {"first_name": "Tomás"}) == "Tomás"
