"""The public archive of a public list: the index page, its Atom feed (RFC 4287 required
elements, and a feedparser round trip), the link back from each web copy, private lists and
the embargo rule (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from distributor.config import Settings
from distributor.db.models import Issue, IssueArticle, IssueList
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import ListVisibility, OptIn
from distributor.services.newsletter_archive import newsletter_archive
from distributor.services.subscribers import create_list
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import article_row

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")
EMBARGOED_TITLE = "The ministry's leaked budget, line by line"


@dataclass
class Newsroom:
    settings: Settings
    client: TestClient
    embargo_until: datetime


def _issue(
    db: object,
    list_id: int,
    subject: str,
    article_ids: list[int],
    *,
    status: str = "sent",
    started: datetime | None = None,
    token: str,
) -> None:
    issue = Issue(subject=subject, status=status, started_at=started, web_token=token)
    issue.lists = [IssueList(list_id=list_id)]
    issue.articles = [
        IssueArticle(article_id=article_id, position=position)
        for position, article_id in enumerate(article_ids)
    ]
    db.add(issue)  # type: ignore[attr-defined]


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str) -> Iterator[Newsroom]:
    settings = make_settings(tmp_path, database_url)
    embargo_until = datetime.now(UTC) + timedelta(days=2)
    with unit_of_work(settings.database_url) as db:
        weekly = create_list(
            db, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE, description="River towns."
        )
        staff = create_list(db, "staff", title="Staff", visibility=ListVisibility.PRIVATE)
        first, secret, third = (article_row(db, number) for number in (1, 2, 3))
        secret.title = EMBARGOED_TITLE
        secret.embargo_until = embargo_until
        first.title = "Ferry crews count the cost"
        third.title = "A radio show nobody official hears"
        db.flush()
        _issue(
            db, weekly.id, "November: the ferries", [first.id, secret.id],
            started=datetime(2026, 11, 6, 8, tzinfo=UTC), token="nov-token",
        )  # fmt: skip
        _issue(
            db, weekly.id, "December: the radio", [third.id],
            started=datetime(2026, 12, 4, 8, tzinfo=UTC), token="dec-token",
        )  # fmt: skip
        _issue(
            db, weekly.id, "Only the leak", [secret.id],
            started=datetime(2026, 11, 20, 8, tzinfo=UTC), token="leak-token",
        )  # fmt: skip
        _issue(db, weekly.id, "A draft", [first.id], status="draft", token="draft-token")
        _issue(db, weekly.id, "A held issue", [first.id], status="paused", token="held-token")
        _issue(
            db, staff.id, "Staff memo", [first.id],
            started=datetime(2026, 12, 1, tzinfo=UTC), token="staff-token",
        )  # fmt: skip
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Newsroom(settings, client, embargo_until)


def test_the_index_lists_sent_issues_newest_first_with_a_signup_form(
    newsroom: Newsroom,
) -> None:
    page = newsroom.client.get("/newsletters/weekly")
    assert page.status_code == 200
    html = page.text
    december = html.index("December: the radio")
    november = html.index("November: the ferries")
    assert december < november
    assert "2026-12-04" in html
    assert "2026-11-06" in html
    assert "Ferry crews count the cost" in html
    assert "A radio show nobody official hears" in html
    assert "A draft" not in html
    assert "A held issue" not in html
    assert "Staff memo" not in html
    assert 'action="/signup/weekly"' in html
    assert 'name="email"' in html
    assert "https://news.example.org/archive/dec-token" in html
    assert 'type="application/atom+xml"' in html
    assert "<script" not in html


def test_no_story_is_shown_before_its_embargo(newsroom: Newsroom) -> None:
    html = newsroom.client.get("/newsletters/weekly").text
    feed = newsroom.client.get("/newsletters/weekly/feed.atom").text
    for document in (html, feed):
        assert "the ministry" not in document.lower()
        assert "Only the leak" not in document  # every story embargoed: the issue waits
    with unit_of_work(newsroom.settings.database_url) as db:
        later = newsletter_archive(
            db, newsroom.settings, "weekly", now=newsroom.embargo_until + timedelta(minutes=1)
        )
    subjects = [issue.subject for issue in later.issues]
    assert subjects == ["December: the radio", "Only the leak", "November: the ferries"]
    assert EMBARGOED_TITLE in later.issues[2].story_titles


def test_the_atom_feed_has_every_required_element_and_survives_feedparser(
    newsroom: Newsroom,
) -> None:
    response = newsroom.client.get("/newsletters/weekly/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    # RFC 4287 4.1.1: a feed has exactly one id, title and updated, and an author (no entry
    # here has its own), and should have a rel="self" link.
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert RFC3339.match(root.findtext(f"{ATOM}updated") or "")
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    self_links = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in self_links] == [
        "https://news.example.org/newsletters/weekly/feed.atom"
    ]
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    ids = []
    for entry in entries:
        # 4.1.2: exactly one id, title and updated; no content, so an alternate link.
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1
        ids.append(entry.findtext(f"{ATOM}id"))
    assert len(set(ids)) == len(ids)

    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "The Weekly"
    assert [entry.title for entry in parsed.entries] == [
        "December: the radio",
        "November: the ferries",
    ]
    assert parsed.entries[0].link == "https://news.example.org/archive/dec-token"
    assert "A radio show nobody official hears" in parsed.entries[0].content[0].value


def test_each_web_copy_links_back_to_the_index(newsroom: Newsroom) -> None:
    page = newsroom.client.get("/archive/dec-token")
    assert page.status_code == 200
    assert 'href="https://news.example.org/newsletters/weekly"' in page.text
    staff = newsroom.client.get("/archive/staff-token")
    assert staff.status_code == 200
    assert "/newsletters/" not in staff.text  # a private list has no public index


def test_private_and_unknown_lists_have_no_archive(newsroom: Newsroom) -> None:
    for name in ("staff", "nosuch"):
        assert newsroom.client.get(f"/newsletters/{name}").status_code == 404
        assert newsroom.client.get(f"/newsletters/{name}/feed.atom").status_code == 404
    assert "Staff" not in newsroom.client.get("/newsletters/staff").text
