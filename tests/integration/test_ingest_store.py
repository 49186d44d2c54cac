"""Storing ingested articles: identity, revisions, sources polled with conditional GET and
back-off, the CLI, the JSON API and the demo stories. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from distributor.adapters.feed_fetcher import HttpxFeedFetcher, InMemoryFeedFetcher
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.demo import load_demo
from distributor.services.ingest import (
    add_source,
    get_article,
    ingest_document,
    poll_due_sources,
)
from tests.conftest import make_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
FEED_URL = "https://cms.example.org/feed.rss"


def _count(url: str, model: type[models.Base]) -> int:
    with unit_of_work(url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        "<link>https://cms.example.org/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _item(guid: str, title: str, body: str = "<p>Body</p>") -> str:
    return (
        f"<item><title>{title}</title><link>https://cms.example.org/{guid}</link>"
        f'<guid isPermaLink="false">urn:test:{guid}</guid><dc:creator>Jo Bloggs</dc:creator>'
        f"<description><![CDATA[{body}]]></description></item>"
    )


def test_same_item_twice_changes_nothing_and_an_edit_is_a_revision(database_url: str) -> None:
    feed = _feed(_item("a", "First"), _item("b", "Second"))
    with unit_of_work(database_url) as session:
        first = ingest_document(session, feed, "feed", now=NOW)
    assert len(first.stored.created) == 2
    with unit_of_work(database_url) as session:
        again = ingest_document(session, feed, "feed", now=NOW + timedelta(minutes=5))
    assert again.stored.created == []
    assert again.stored.revised == []
    assert sorted(again.stored.unchanged) == sorted(first.stored.created)
    assert _count(database_url, models.ArticleRevision) == 2

    edited = _feed(_item("a", "First, corrected"))  # b disappears from the feed
    later = NOW + timedelta(hours=1)
    with unit_of_work(database_url) as session:
        outcome = ingest_document(session, edited, "feed", now=later)
    assert len(outcome.stored.revised) == 1
    with unit_of_work(database_url) as session:
        article = get_article(session, outcome.stored.revised[0])
        assert article is not None
        assert article.title == "First, corrected"
        assert article.revision == 2
        assert article.updated_at == later
        revisions = session.scalars(
            select(models.ArticleRevision.revision).where(
                models.ArticleRevision.article_id == article.id
            )
        ).all()
        assert sorted(revisions) == [1, 2]
    assert _count(database_url, models.Article) == 2  # b was not deleted


def test_authors_are_shared_and_a_given_bio_is_kept(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        ingest_document(session, (FIXTURES / "seed-story-en.rss").read_bytes(), "en", now=NOW)
    with unit_of_work(database_url) as session:
        bio = session.scalar(select(models.Author.bio).where(models.Author.name == "Wen Shu"))
    assert bio == "Wen Shu is a Chengdu-based writer who covers water and infrastructure."
    # Another story by the same person without a bio does not erase it.
    with unit_of_work(database_url) as session:
        ingest_document(
            session,
            json.dumps({"guid": "x", "url": "https://x.example/1", "title": "T",
                        "authors": [{"name": "Wen Shu"}]}).encode(),
            "api",
            now=NOW,
        )  # fmt: skip
        rows = session.scalars(select(models.Author).where(models.Author.name == "Wen Shu")).all()
    assert len(rows) == 1
    assert rows[0].bio == bio


def test_not_a_feed_is_rejected_and_stores_nothing(sqlite_url: str) -> None:
    from distributor.ingest.report import NotAFeedError

    with (
        pytest.raises(NotAFeedError, match="not an RSS or Atom feed"),
        unit_of_work(sqlite_url) as session,
    ):
        ingest_document(session, b"<html><body><p>Hello</p></body></html>", "page.html")
    with pytest.raises(NotAFeedError, match="empty"), unit_of_work(sqlite_url) as session:
        ingest_document(session, b"  ", "empty.xml")
    assert _count(sqlite_url, models.Article) == 0


def test_demo_is_idempotent_with_its_warnings_and_embargo(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        first = load_demo(session, now=NOW)
    with unit_of_work(database_url) as session:
        second = load_demo(session, now=NOW)
    assert len(first.created) == 4
    assert second.changed_ids == []
    with unit_of_work(database_url) as session:
        articles = [get_article(session, i) for i in first.created]
    assert all(a is not None for a in articles)
    stories = [a for a in articles if a is not None]
    assert sum(1 for a in stories for i in a.images if not i.credit) == 1
    assert sum(1 for a in stories for au in a.authors if not au.bio) == 1
    assert [a.title for a in stories if a.is_embargoed(NOW)] == [
        "Leaked files show how a delivery app scores its riders"
    ]
    assert {a.language for a in stories} == {"en", "zh-CN"}
    assert all(a.notes for a in stories)


# ----------------------------------------------------------------------------- sources
def test_polling_uses_conditional_get_and_backs_off(database_url: str) -> None:
    fetcher = InMemoryFeedFetcher(documents={FEED_URL: _feed(_item("a", "One"))})
    with unit_of_work(database_url) as session:
        add_source(session, FEED_URL, interval_seconds=600, now=NOW)
        add_source(session, "https://down.example.org/feed", interval_seconds=600, now=NOW)
    fetcher.failures["https://down.example.org/feed"] = "connection refused"

    with unit_of_work(database_url) as session:
        outcomes = poll_due_sources(session, fetcher, now=NOW)
    assert outcomes[FEED_URL].ok
    assert len(outcomes[FEED_URL].stored.created) == 1
    assert not outcomes["https://down.example.org/feed"].ok

    with unit_of_work(database_url) as session:  # not due yet
        assert poll_due_sources(session, fetcher, now=NOW + timedelta(minutes=5)) == {}

    with unit_of_work(database_url) as session:
        outcomes = poll_due_sources(session, fetcher, now=NOW + timedelta(minutes=10))
    assert outcomes[FEED_URL].not_modified
    assert fetcher.requests[-1] == (
        FEED_URL,
        InMemoryFeedFetcher.etag_for(fetcher.documents[FEED_URL]),
        None,
    )
    with unit_of_work(database_url) as session:
        down = session.scalars(select(models.Source).where(models.Source.url.like("%down%"))).one()
        # 1st failure at NOW waits 2 intervals; 2nd failure (at +20 min) waits 4.
        assert down.consecutive_failures == 1
        assert down.next_poll_at == NOW + timedelta(seconds=1200)
        assert "connection refused" in (down.last_error or "")
    with unit_of_work(database_url) as session:
        poll_due_sources(session, fetcher, now=NOW + timedelta(minutes=20))
        down = session.scalars(select(models.Source).where(models.Source.url.like("%down%"))).one()
        assert down.consecutive_failures == 2
        assert down.next_poll_at == NOW + timedelta(minutes=20) + timedelta(seconds=2400)
    assert _count(database_url, models.Article) == 1


def test_a_source_that_stops_being_a_feed_keeps_what_was_stored(sqlite_url: str) -> None:
    fetcher = InMemoryFeedFetcher(documents={FEED_URL: _feed(_item("a", "One"))})
    with unit_of_work(sqlite_url) as session:
        add_source(session, FEED_URL, now=NOW)
        poll_due_sources(session, fetcher, now=NOW)
    fetcher.documents[FEED_URL] = b"<html>maintenance</html>"
    with unit_of_work(sqlite_url) as session:
        outcome = poll_due_sources(session, fetcher, now=NOW + timedelta(hours=1))[FEED_URL]
    assert not outcome.ok
    assert "not an RSS or Atom feed" in outcome.report.problems[0].reason
    assert _count(sqlite_url, models.Article) == 1


class _ConditionalFeedHandler(BaseHTTPRequestHandler):
    body = _feed(_item("http-1", "Over HTTP"))
    etag = '"v1"'
    hits: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.send_header("ETag", self.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _ConditionalFeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.rss"
    server.shutdown()
    server.server_close()


def test_real_http_fetcher_gets_a_304_for_an_unchanged_feed(
    sqlite_url: str, feed_server: str
) -> None:
    fetcher = HttpxFeedFetcher(timeout_seconds=5, allow_private_addresses=True)
    try:
        with unit_of_work(sqlite_url) as session:
            add_source(session, feed_server, interval_seconds=60, now=NOW)
            first = poll_due_sources(session, fetcher, now=NOW)[feed_server]
        with unit_of_work(sqlite_url) as session:
            second = poll_due_sources(session, fetcher, now=NOW + timedelta(minutes=2))[feed_server]
    finally:
        fetcher.close()
    assert len(first.stored.created) == 1
    assert second.not_modified
    assert _ConditionalFeedHandler.hits[-1] == '"v1"'


# ---------------------------------------------------------------------------- CLI, API
@pytest.mark.slow
def test_cli_ingest_list_show_and_exit_codes(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from distributor.cli.main import app

    use_settings(make_settings(tmp_path, sqlite_url))
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(FIXTURES / "seed-story-en.rss"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["created"]) == 2
    assert {p["reason"] for p in data["report"]["problems"]} >= {"no title"}

    listed = json.loads(runner.invoke(app, ["articles", "list", "--json"]).stdout)
    assert {a["title"] for a in listed} == {
        "Harvest workers on the salt flats count the cost of a dry year",
        "Two reporters, one river: a correction travels with the story",
    }
    shown = json.loads(
        runner.invoke(app, ["articles", "show", str(listed[0]["id"]), "--json"]).stdout
    )
    assert shown["images"]
    assert shown["authors"]

    bad = tmp_path / "page.html"
    bad.write_text("<html><body>not a feed</body></html>")
    assert runner.invoke(app, ["ingest", str(bad)]).exit_code == 1
    empty = tmp_path / "nothing.json"
    empty.write_text(json.dumps([{"guid": "x", "title": "no url"}]))
    assert runner.invoke(app, ["ingest", str(empty)]).exit_code == 1
    assert runner.invoke(app, ["ingest", str(tmp_path / "missing.xml")]).exit_code == 1

    added = runner.invoke(app, ["sources", "add", FEED_URL, "--interval", "300", "--json"])
    assert added.exit_code == 0, added.output
    sources = json.loads(runner.invoke(app, ["sources", "list", "--json"]).stdout)
    assert [(s["url"], s["interval_seconds"]) for s in sources] == [(FEED_URL, 300)]
    assert runner.invoke(app, ["sources", "add", "ftp://x", "--json"]).exit_code == 1


def test_api_post_and_get_articles(tmp_path: Path, sqlite_url: str) -> None:
    from distributor.web.app import create_app

    settings = make_settings(tmp_path, sqlite_url, API_KEY="k-123")
    client = TestClient(create_app(settings))
    story = {"guid": "api-1", "url": "https://x.example/api-1", "title": "Via the API",
             "body_html": "<p>Hi <script>alert(1)</script></p>",
             "authors": [{"name": "Ana Ruiz", "bio": "Ana writes."}]}  # fmt: skip
    assert client.post("/api/articles", json=story).status_code == 401
    assert client.post("/api/articles", json=story, headers={"X-Api-Key": "no"}).status_code == 401
    response = client.post(
        "/api/articles",
        json=[story, {"guid": "api-2", "title": "No URL"}],
        headers={"X-Api-Key": "k-123"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["created"]) == 1
    assert body["report"]["problems"][0]["reason"] == "[1].url: Field required"
    article_id = body["created"][0]
    fetched = client.get(f"/api/articles/{article_id}", headers={"X-Api-Key": "k-123"}).json()
    assert fetched["authors"][0]["bio"] == "Ana writes."
    assert "<script" not in fetched["body_html"]
    listed = client.get("/api/articles", headers={"X-Api-Key": "k-123"}).json()
    assert [a["guid"] for a in listed["articles"]] == ["api-1"]
    invalid = client.post("/api/articles", json=[{"guid": "z"}], headers={"X-Api-Key": "k-123"})
    assert invalid.status_code == 422
    missing = client.get("/api/articles/999", headers={"X-Api-Key": "k-123"})
    assert missing.status_code == 404


def test_api_is_off_without_a_key(tmp_path: Path, sqlite_url: str) -> None:
    from distributor.web.app import create_app

    client = TestClient(create_app(make_settings(tmp_path, sqlite_url)))
    response = client.get("/api/articles", headers={"X-Api-Key": ""})
    assert response.status_code == 403
    assert "API_KEY" in response.json()["detail"]


def test_poll_sources_task_polls_and_never_raises(
    tmp_path: Path,
    sqlite_url: str,
    feed_server: str,
    use_settings: Callable[[Settings], Settings],
) -> None:
    from workers.tasks import poll_sources

    use_settings(make_settings(tmp_path, sqlite_url))
    with unit_of_work(sqlite_url) as session:
        add_source(session, feed_server, interval_seconds=60, now=NOW)
        add_source(session, "http://127.0.0.1:9/never-listening", interval_seconds=60, now=NOW)
    result = json.loads(json.dumps(poll_sources.apply().get()))
    assert result[feed_server]["ok"] is True
    assert result["http://127.0.0.1:9/never-listening"]["ok"] is False
    assert _count(sqlite_url, models.Article) == 1
