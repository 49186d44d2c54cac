"""Desk pages end to end through the real app: articles, fixes, issues, subscribers, partners."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.partners import hash_api_key
from distributor.services.subscribers import add_subscriber, create_list
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings

PASSWORD = "a long enough password"


def seed_newsroom(url: str) -> dict[str, int]:
    """Three stories (one embargoed, one with an uncredited photo), a list, two readers."""
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    with unit_of_work(url) as db:
        create_user(db, "admin@example.org", PASSWORD, role="admin")
        create_user(db, "editor@example.org", PASSWORD, role="editor")
        source = models.Source(url="https://magazine.example.org/feed.xml", name="Magazine")
        db.add(source)
        db.flush()
        with_bio = models.Author(key="mei-lin", name="Mei Lin", bio="Mei Lin reports on labour.")
        no_bio = models.Author(key="tom-hart", name="Tom Hart", bio=None)
        stories = [
            (
                "night-shift",
                "The night shift at the harbour",
                "en",
                ["Labour"],
                with_bio,
                None,
                "Harbour cranes at dusk.",
            ),
            (
                "river-towns",
                "河边小镇的冬天",
                "zh-Hans",
                ["Society"],
                with_bio,
                "Photo agency",
                "冬天的河边",
            ),
            (
                "budget-leak",
                "What the budget leak shows",
                "en",
                ["Politics"],
                no_bio,
                "Staff photographer",
                None,
            ),
        ]
        for position, (slug, title, language, sections, author, credit, alt) in enumerate(stories):
            article = models.Article(
                guid=f"urn:test:{slug}",
                source_id=source.id,
                canonical_url=f"https://magazine.example.org/{slug}",
                title=title,
                dek=f"Standfirst of {slug}.",
                body_html=f"<p>Body of {slug}.</p>",
                language=language,
                sections=sections,
                notes=[],
                published_at=now - timedelta(days=position + 1),
                content_hash="0" * 64,
                embargo_until=now + timedelta(days=2) if slug == "budget-leak" else None,
            )
            article.authors.append(models.ArticleAuthor(author=author, position=0))
            article.images.append(
                models.Image(
                    url=f"https://img.example.org/{slug}.jpg",
                    caption=f"Caption of {slug}.",
                    credit=credit,
                    alt=alt,
                    is_lead=True,
                )
            )
            db.add(article)
            db.flush()
            ids[slug] = article.id
        weekly = create_list(db, "weekly", title="The Weekly")
        ids["list"] = weekly.id
        add_subscriber(db, "reader.one@example.org", "weekly", confirmed=True)
        add_subscriber(db, "reader.two@example.org", "weekly", confirmed=True)
    return ids


@pytest.fixture
def desk(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[TestClient, Settings, dict[str, int]]]:
    """A signed-out browser on the desk over a seeded database (SQLite and PostgreSQL)."""
    settings = make_settings(tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    ids = seed_newsroom(settings.database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, settings, ids


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def sign_in(client: TestClient, email: str = "admin@example.org") -> str:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return csrf_from(client.get("/").text)


def test_article_list_shows_stories_and_filters_them(desk) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = desk
    sign_in(client)
    page = client.get("/articles").text
    assert "The night shift at the harbour" in page
    assert "河边小镇的冬天" in page
    assert "3 articles" in page
    chinese = client.get("/articles", params={"language": "zh-Hans"}).text
    assert "河边小镇的冬天" in chinese
    assert "night shift" not in chinese
    embargoed = client.get("/articles", params={"embargoed": "yes"}).text
    assert "What the budget leak shows" in embargoed
    assert "night shift" not in embargoed
    # The list's old address (the desk's home page) still answers its searches.
    by_author = client.get("/", params={"q": "Tom Hart"}).text
    assert "What the budget leak shows" in by_author
    assert "河边" not in by_author
    by_section = client.get("/articles", params={"section": "labour"}).text
    assert "night shift" in by_section
    assert "budget" not in by_section
    bad_date = client.get("/articles", params={"date_from": "yesterday"})
    assert "is not a date" in bad_date.text


def test_article_page_warns_and_a_missing_credit_can_be_added(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client, "editor@example.org")
    page = client.get(f"/articles/{ids['night-shift']}").text
    assert "Image 1 has no credit" in page
    assert "Mei Lin reports on labour." in page
    with unit_of_work(settings.database_url) as db:
        image_id = db.scalars(
            select(models.Image.id).where(models.Image.article_id == ids["night-shift"])
        ).one()
    response = client.post(
        f"/articles/{ids['night-shift']}/images/{image_id}",
        data={
            "csrf_token": token,
            "caption": "Harbour cranes.",
            "credit": "Credit: Ana Ruiz",
            "alt": "Cranes against an orange sky",
        },
    )
    assert response.status_code == 200
    assert "Image details saved" in response.text
    assert "Image 1 has no credit" not in response.text
    with unit_of_work(settings.database_url) as db:
        image = db.get(models.Image, image_id)
        article = db.get(models.Article, ids["night-shift"])
        assert image is not None
        assert article is not None
        assert image.credit == "Ana Ruiz"
        assert article.revision == 2
        revisions = db.scalars(
            select(models.ArticleRevision).where(models.ArticleRevision.article_id == article.id)
        ).all()
        assert [revision.revision for revision in revisions] == [2]


def test_bio_and_embargo_warnings(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    page = client.get(f"/articles/{ids['budget-leak']}").text
    assert "Tom Hart has no bio" in page
    assert "Embargoed until" in page
    assert "has no alt text" in page
    with unit_of_work(settings.database_url) as db:
        author_id = db.scalars(
            select(models.Author.id).where(models.Author.key == "tom-hart")
        ).one()
    client.post(
        f"/articles/{ids['budget-leak']}/authors/{author_id}",
        data={"csrf_token": token, "bio": "Tom Hart covers public money."},
    )
    page = client.get(f"/articles/{ids['budget-leak']}").text
    assert "Tom Hart has no bio" not in page
    assert "Tom Hart covers public money." in page


def _create_issue(client: TestClient, token: str, ids: dict[str, int]) -> int:
    chosen = [ids["river-towns"], ids["night-shift"], ids["budget-leak"]]
    form_page = client.post("/issues", data={"csrf_token": token, "article_id": chosen})
    assert form_page.status_code == 200
    assert "New issue" in form_page.text
    response = client.post(
        "/issues",
        data={
            "csrf_token": token,
            "article_id": chosen,
            "subject": "This week",
            "preheader": "Three stories",
            "editor_note": "Hello readers.",
            "list_id": [ids["list"]],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    match = re.fullmatch(r"/issues/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def test_compose_reorder_preview_and_test_send(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        assert [entry.article_id for entry in issue.articles] == [
            ids["river-towns"],
            ids["night-shift"],
            ids["budget-leak"],
        ]
    client.post(
        f"/issues/{issue_id}/articles/{ids['night-shift']}/move",
        data={"csrf_token": token, "direction": "up"},
    )
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        assert [entry.article_id for entry in issue.articles][:2] == [
            ids["night-shift"],
            ids["river-towns"],
        ]
    saved = client.post(
        f"/issues/{issue_id}/content",
        data={
            "csrf_token": token,
            "subject": "This week, revised",
            "preheader": "p",
            "editor_note": "n",
            "list_id": [ids["list"]],
        },
    )
    assert "Saved" in saved.text
    empty = client.post(
        f"/issues/{issue_id}/content",
        data={"csrf_token": token, "subject": " ", "list_id": [ids["list"]]},
    )
    assert "the subject is empty" in empty.text
    page = client.get(f"/issues/{issue_id}").text
    assert f'src="/issues/{issue_id}/preview/desktop"' in page
    assert f'src="/issues/{issue_id}/preview/mobile"' in page
    assert 'id="size-badge"' in page
    assert "The night shift at the harbour" in page  # in the plain-text preview
    assert client.get(f"/issues/{issue_id}/preview/desktop").status_code == 200
    bad = client.post(
        f"/issues/{issue_id}/test-send", data={"csrf_token": token, "addresses": "not-an-address"}
    )
    assert "not email addresses" in bad.text
    # The issue carries an embargoed story: a test goes only to desk users.
    outsider = client.post(
        f"/issues/{issue_id}/test-send", data={"csrf_token": token, "addresses": "desk@example.org"}
    )
    assert "Test not sent" in outsider.text
    assert "desk@example.org" in outsider.text
    assert not list(settings.outbox_dir.glob("*.eml"))
    sent = client.post(
        f"/issues/{issue_id}/test-send",
        data={"csrf_token": token, "addresses": "editor@example.org"},
    )
    assert "Test sent to editor@example.org" in sent.text
    messages = list(settings.outbox_dir.glob("*.eml"))
    assert len(messages) == 1
    assert "[TEST] [EMBARGOED until" in messages[0].read_text(encoding="utf-8", errors="replace")


def test_schedule_reschedule_and_cancel(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    past = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2020-01-01",
            "send_time": "08:00",
            "timezone": "Europe/London",
        },
    )
    assert "has already passed" in past.text
    bad_zone = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-01-01",
            "send_time": "08:00",
            "timezone": "Mars/Olympus",
        },
    )
    assert "unknown time zone" in bad_zone.text
    ok = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-07-01",
            "send_time": "08:00",
            "timezone": "Asia/Taipei",
            "confirm": "1",
        },
    )
    assert "Scheduled" in ok.text
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        assert issue.status == "scheduled"
        assert issue.send_at == datetime(2099, 7, 1, 0, 0, tzinfo=UTC)  # 08:00 in Taipei
    again = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-07-02",
            "send_time": "09:30",
            "timezone": "UTC",
            "confirm": "1",
        },
    )
    assert "Rescheduled" in again.text
    progress = client.get(f"/issues/{issue_id}/progress").json()
    assert progress["status"] == "scheduled"
    assert {"sent", "failed", "remaining"} <= set(progress)
    cancelled = client.post(f"/issues/{issue_id}/cancel", data={"csrf_token": token})
    assert "cancelled" in cancelled.text
    locked = client.post(
        f"/issues/{issue_id}/content",
        data={"csrf_token": token, "subject": "Too late", "list_id": [ids["list"]]},
    )
    assert "only draft or scheduled issues can be changed" in locked.text


def test_partner_key_is_shown_once(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = desk
    token = sign_in(client)
    created = client.post(
        "/partners",
        data={
            "csrf_token": token,
            "name": "Harbour Daily",
            "formats": ["rss", "ninjs"],
            "languages": "en",
            "territory": "gb",
        },
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    key = re.search(r'id="api-key">([^<]+)<', created.text)
    assert key
    api_key = key.group(1).strip()
    with unit_of_work(settings.database_url) as db:
        partner = db.scalars(select(models.Partner)).one()
        assert partner.api_key_hash == hash_api_key(api_key)
        assert partner.territory == "GB"
        partner_id = partner.id
    for path in ("/partners", f"/partners/{partner_id}"):
        assert api_key not in client.get(path).text
    rotated = client.post(f"/partners/{partner_id}/rotate", data={"csrf_token": token})
    new_key = re.search(r'id="api-key">([^<]+)<', rotated.text)
    assert new_key
    assert new_key.group(1).strip() != api_key
    assert new_key.group(1).strip() not in client.get(f"/partners/{partner_id}").text
    duplicate = client.post(
        "/partners", data={"csrf_token": token, "name": "Harbour Daily", "formats": ["rss"]}
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.text
    saved = client.post(
        f"/partners/{partner_id}",
        data={
            "csrf_token": token,
            "formats": ["atom", "ninjs"],
            "languages": "en, zh-Hans",
            "rate_limit": "30",
        },
    )
    assert saved.status_code == 200
    refused = client.post(f"/partners/{partner_id}", data={"csrf_token": token, "formats": []})
    assert "choose at least one feed format" in refused.text
    with unit_of_work(settings.database_url) as db:
        partner = db.get(models.Partner, partner_id)
        assert partner is not None
        assert sorted(partner.formats) == ["atom", "ninjs"]
        assert list(partner.languages) == ["en", "zh-Hans"]
        assert partner.rate_limit_per_minute == 30


def test_csv_import_report_and_suppression(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ids = desk
    token = sign_in(client, "editor@example.org")
    csv_bytes = (
        b"email,name,language\nnew.reader@example.org,New Reader,en\nbroken-address,Someone,en\n"
    )
    response = client.post(
        "/subscribers/import",
        data={"csrf_token": token, "list_name": "weekly"},
        files={"file": ("readers.csv", csv_bytes, "text/csv")},
    )
    assert response.status_code == 200
    assert 'id="import-report"' in response.text
    assert re.search(r"<td>3</td>", response.text)  # the bad row is reported by its line
    found = client.get("/subscribers", params={"q": "new.reader"}).text
    assert "new.reader@example.org" in found
    assert "reader.one" not in found
    suppressed = client.post(
        "/suppressions", data={"csrf_token": token, "email": "reader.one@example.org"}
    )
    assert "is suppressed" in suppressed.text
    with unit_of_work(settings.database_url) as db:
        subscriber_id = db.scalars(
            select(models.Subscriber.id).where(models.Subscriber.email == "reader.one@example.org")
        ).one()
    page = client.get(f"/subscribers/{subscriber_id}").text
    assert "The Weekly" in page
    assert "manual" in page


def test_pages_render_for_every_nav_entry(desk) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = desk
    sign_in(client)
    for path in (
        "/",
        "/issues",
        "/subscribers",
        "/lists",
        "/suppressions",
        "/subscribers/import",
        "/partners",
        "/admin/users",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<main id="main"' in response.text
        assert response.headers["cache-control"] == "no-store"


def test_list_settings_can_be_changed(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client, "editor@example.org")
    assert f'href="/lists/{ids["list"]}"' in client.get("/lists").text
    page = client.get(f"/lists/{ids['list']}").text
    assert 'value="The Weekly"' in page
    form = {"csrf_token": token, "title": "The Friday Weekly", "language": "en-GB"}
    bad = client.post(f"/lists/{ids['list']}", data={**form, "opt_in": "triple"})
    assert bad.status_code == 400
    assert "Choose single or double opt-in." in bad.text
    bad_language = client.post(
        f"/lists/{ids['list']}", data={**form, "language": "not a tag!", "opt_in": "single"}
    )
    assert bad_language.status_code == 400
    assert "List not changed" in bad_language.text
    saved = client.post(f"/lists/{ids['list']}", data={**form, "opt_in": "single"})
    assert "List weekly updated." in saved.text
    assert "The Friday Weekly" in saved.text
    with unit_of_work(settings.database_url) as db:
        stored = db.get(models.MailingList, ids["list"])
        assert stored is not None
        assert (stored.name, stored.title, stored.language, stored.opt_in) == (
            "weekly",
            "The Friday Weekly",
            "en-GB",
            "single",
        )
    assert client.get("/lists/999999").status_code == 404


def test_a_list_is_archived_and_opened_again_from_its_page(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client, "editor@example.org")
    page = client.get(f"/lists/{ids['list']}").text
    assert f'action="/lists/{ids["list"]}/archive"' in page
    archived = client.post(f"/lists/{ids['list']}/archive", data={"csrf_token": token})
    assert "List weekly archived" in archived.text
    assert "archived</span>" in client.get("/lists").text
    # Archived lists are not offered for a new issue.
    story = client.get(f"/issues/new?article_id={ids['river-towns']}").text
    assert "Send to" in story
    assert f'name="list_id" value="{ids["list"]}"' not in story
    page = client.get(f"/lists/{ids['list']}").text
    assert "Open the list again" in page
    opened = client.post(f"/lists/{ids['list']}/unarchive", data={"csrf_token": token})
    assert "List weekly is open again." in opened.text
    with unit_of_work(settings.database_url) as db:
        stored = db.get(models.MailingList, ids["list"])
        assert stored is not None
        assert stored.archived_at is None
    forged = client.post(f"/lists/{ids['list']}/archive", data={"csrf_token": "forged"})
    assert forged.status_code in {400, 403}
    with unit_of_work(settings.database_url) as db:
        stored = db.get(models.MailingList, ids["list"])
        assert stored is not None
        assert stored.archived_at is None


def test_an_admin_erases_a_reader_after_typing_the_address(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ids = desk
    with unit_of_work(settings.database_url) as db:
        reader = db.scalars(
            select(models.Subscriber).where(models.Subscriber.email == "reader.two@example.org")
        ).one()
        reader_id, reader_hash = reader.id, reader.email_hash
    token = sign_in(client, "editor@example.org")
    assert "Erase on request" not in client.get(f"/subscribers/{reader_id}").text
    refused = client.post(
        f"/subscribers/{reader_id}/erase",
        data={"csrf_token": token, "confirm_email": "reader.two@example.org"},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client)
    assert "Erase on request" in client.get(f"/subscribers/{reader_id}").text
    mistyped = client.post(
        f"/subscribers/{reader_id}/erase",
        data={"csrf_token": token, "confirm_email": "reader.one@example.org"},
        follow_redirects=True,
    )
    assert "Not erased" in mistyped.text
    erased = client.post(
        f"/subscribers/{reader_id}/erase",
        data={"csrf_token": token, "confirm_email": " Reader.Two@example.org "},
        follow_redirects=True,
    )
    assert "Erased." in erased.text
    assert f"Erased subscriber #{reader_id}" in erased.text
    assert "reader.two@example.org" not in erased.text
    with unit_of_work(settings.database_url) as db:
        gone = db.get(models.Subscriber, reader_id)
        assert gone is not None
        assert (gone.email, gone.name, gone.status) == (None, None, "erased")
        kept = db.scalars(
            select(models.Suppression).where(models.Suppression.email_hash == reader_hash)
        ).one()
        assert kept.reason == "erased"
