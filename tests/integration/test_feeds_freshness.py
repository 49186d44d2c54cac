"""Feeds are fresh at once: each change that affects them (API post, CLI ingest, desk fix,
partner created or re-selected, embargo release) is in the stored feed documents as soon as the
change's request or command returns, with no periodic tick in between."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.feeds import (
    FeedChanges,
    document_key,
    load_feed_document,
    partner_audience_key,
    rebuild_feeds,
    send_rebuilds_with,
)
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import csrf_from, seed_newsroom, sign_in

API_KEY = "api-key-for-tests-0123456789"


@pytest.fixture(autouse=True)
def _no_rebuild_sender() -> Iterator[None]:
    """Each test starts with inline rebuilds; a test that installs a sender has it removed."""
    send_rebuilds_with(None)
    yield
    send_rebuilds_with(None)


@pytest.fixture
def newsroom(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[TestClient, Settings, dict[str, int]]]:
    """The seeded desk (SQLite and PostgreSQL) whose feeds were built once, before the test."""
    settings = make_settings(
        tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"), API_KEY=API_KEY
    )
    ids = seed_newsroom(settings.database_url)
    with unit_of_work(settings.database_url) as db:
        rebuild_feeds(db, settings, None, datetime.now(UTC))
    app = create_app(settings)
    app.state.feed_cache_seconds = 0.0
    with TestClient(app, base_url="https://testserver") as client:
        yield client, settings, ids


def _public_rss(client: TestClient) -> Any:
    response = client.get("/feeds/public.rss")
    assert response.status_code == 200
    return feedparser.parse(response.content)


def _story(guid: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "guid": guid,
        "url": f"https://magazine.example.org/{guid.rsplit(':', 1)[-1]}",
        "title": title,
        "body_html": "<p>A story body long enough to be a story.</p>",
        "published_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "sections": ["Labour"],
        **extra,
    }


def test_api_post_is_in_the_public_feed_when_the_request_returns(newsroom) -> None:  # type: ignore[no-untyped-def]
    client, _settings, _ids = newsroom
    before = _public_rss(client)
    assert "Dock workers vote to strike" not in [entry.title for entry in before.entries]
    posted = client.post(
        "/api/articles",
        json=_story("urn:test:dock-strike", "Dock workers vote to strike"),
        headers={"X-Api-Key": API_KEY},
    )
    assert posted.status_code == 200, posted.text
    after = _public_rss(client)
    assert after.entries[0].title == "Dock workers vote to strike"


def test_desk_fix_is_in_the_feed_when_the_save_returns(newsroom) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = newsroom
    token = sign_in(client, "editor@example.org")
    with unit_of_work(settings.database_url) as db:
        image_id = db.scalars(
            select(models.Image.id).where(models.Image.article_id == ids["night-shift"])
        ).one()
    saved = client.post(
        f"/articles/{ids['night-shift']}/images/{image_id}",
        data={"csrf_token": token, "caption": "Harbour cranes.", "credit": "Ana Ruiz", "alt": ""},
    )
    assert saved.status_code == 200
    feed = _public_rss(client)
    entry = next(e for e in feed.entries if e.link.endswith("/night-shift"))
    assert entry.media_credit[0]["content"] == "Ana Ruiz"


def test_a_new_partner_gets_its_feed_at_once_with_either_key_header(newsroom) -> None:  # type: ignore[no-untyped-def]
    client, _settings, _ids = newsroom
    token = sign_in(client)
    created = client.post(
        "/partners",
        data={"csrf_token": token, "name": "Harbour Daily", "formats": ["rss", "jsonfeed"]},
    )
    assert created.status_code == 200
    key_match = re.search(r'id="api-key">([^<]+)<', created.text)
    assert key_match
    key = key_match.group(1)
    assert "X-Api-Key" in created.text
    by_header = client.get("/partners/feed/rss", headers={"X-Api-Key": key})
    assert by_header.status_code == 200, by_header.text
    assert len(feedparser.parse(by_header.content).entries) == 2  # the third is embargoed
    by_bearer = client.get("/partners/feed/jsonfeed", headers={"Authorization": f"Bearer {key}"})
    assert by_bearer.status_code == 200, by_bearer.text
    assert len(by_bearer.json()["items"]) == 2
    wrong = client.get("/partners/feed/rss", headers={"Authorization": "Bearer dst_nope_nope"})
    assert wrong.status_code == 401


def test_a_partner_selection_change_is_in_its_feed_at_once(newsroom) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ids = newsroom
    token = sign_in(client)
    created = client.post(
        "/partners", data={"csrf_token": token, "name": "Society Desk", "formats": ["rss"]}
    )
    key_match = re.search(r'id="api-key">([^<]+)<', created.text)
    assert key_match
    headers = {"X-Api-Key": key_match.group(1)}
    assert (
        len(feedparser.parse(client.get("/partners/feed/rss", headers=headers).content).entries)
        == 2
    )
    with unit_of_work(settings.database_url) as db:
        partner_id = db.scalars(
            select(models.Partner.id).where(models.Partner.name == "Society Desk")
        ).one()
    page = client.get(f"/partners/{partner_id}").text
    saved = client.post(
        f"/partners/{partner_id}",
        data={"csrf_token": csrf_from(page), "formats": ["rss"], "sections": "Society"},
    )
    assert saved.status_code == 200
    entries = feedparser.parse(client.get("/partners/feed/rss", headers=headers).content).entries
    assert [entry.title for entry in entries] == ["河边小镇的冬天"]


# ----------------------------------------------------------------------------------- CLI


def _stored_items(settings: Settings, key: str) -> list[str] | None:
    with unit_of_work(settings.database_url) as db:
        stored = load_feed_document(db, key)
    if stored is None:
        return None
    return [item["title"] for item in json.loads(stored.body)["items"]]


def test_cli_ingest_and_partner_create_rebuild_feeds_before_returning(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, sqlite_url))
    runner = CliRunner()
    public_json = document_key("public", _format("jsonfeed"))
    assert _stored_items(settings, public_json) is None
    story = tmp_path / "story.json"
    story.write_text(json.dumps(_story("urn:test:ferry", "The last ferry home")))
    ingested = runner.invoke(cli, ["ingest", str(story)])
    assert ingested.exit_code == 0, ingested.output
    assert _stored_items(settings, public_json) == ["The last ferry home"]

    created = runner.invoke(cli, ["partners", "create", "Night Desk", "--format", "jsonfeed"])
    assert created.exit_code == 0, created.output
    with unit_of_work(settings.database_url) as db:
        partner_id = db.scalars(select(models.Partner.id)).one()
    partner_json = document_key(partner_audience_key(partner_id), _format("jsonfeed"))
    assert _stored_items(settings, partner_json) == ["The last ferry home"]

    updated = runner.invoke(cli, ["partners", "update", "Night Desk", "--section", "Opinion"])
    assert updated.exit_code == 0, updated.output
    assert _stored_items(settings, partner_json) == []


def _format(name: str) -> Any:
    from distributor.domain.partners import parse_feed_format

    return parse_feed_format(name)


# ----------------------------------------------------------------- embedded worker, no tick


@pytest.mark.slow
def test_embargo_release_reaches_the_feeds_at_its_time_without_a_periodic_tick(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    """The embedded worker, with the periodic ticks an hour apart: a story posted with an
    embargo ending in 3 s is in the public feed moments after the embargo ends."""
    from workers.celery_app import app as celery_app
    from workers.embedded import EmbeddedRuntime
    from workers.tasks import enqueue_feed_changes

    settings = use_settings(
        make_settings(tmp_path, sqlite_url, API_KEY=API_KEY, SCHEDULER_TICK_SECONDS="3600")
    )
    runtime = EmbeddedRuntime(celery_app, settings.SCHEDULER_TICK_SECONDS)
    runtime.start()
    send_rebuilds_with(enqueue_feed_changes)
    public_json = document_key("public", _format("jsonfeed"))
    try:
        # The ticks published at start (one each) build the empty feeds.
        _wait_for(lambda: _stored_items(settings, public_json) == [], 20)
        app = create_app(settings)
        with TestClient(app) as client:
            ends = datetime.now(UTC) + timedelta(seconds=3)
            posted = client.post(
                "/api/articles",
                json=[
                    _story("urn:test:open", "An open story"),
                    _story("urn:test:held", "A held story", embargo_until=ends.isoformat()),
                ],
                headers={"X-Api-Key": API_KEY},
            )
            assert posted.status_code == 200, posted.text
        _wait_for(lambda: _stored_items(settings, public_json) == ["An open story"], 10)
        _wait_for(lambda: "A held story" in (_stored_items(settings, public_json) or []), 10)
        released_at = datetime.now(UTC)
        assert released_at >= ends
        assert (released_at - ends).total_seconds() < 4
    finally:
        send_rebuilds_with(None)
        runtime.stop()


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {seconds} s")
        time.sleep(0.1)


def test_with_a_worker_the_partner_current_feed_is_built_at_once_and_the_rest_is_queued(
    newsroom,  # type: ignore[no-untyped-def]
) -> None:
    """As under ``serve``: a sender hands rebuilds to the worker (here a recording twin)."""
    client, _settings, _ids = newsroom
    queued: list[FeedChanges] = []
    send_rebuilds_with(queued.append)
    token = sign_in(client)
    created = client.post(
        "/partners", data={"csrf_token": token, "name": "Quay Post", "formats": ["atom"]}
    )
    key_match = re.search(r'id="api-key">([^<]+)<', created.text)
    assert key_match
    feed = client.get("/partners/feed/atom", headers={"X-Api-Key": key_match.group(1)})
    assert feed.status_code == 200
    assert len(feedparser.parse(feed.content).entries) == 2
    assert len(queued) == 1
    assert queued[0].partner_ids
    assert not queued[0].article_ids
    posted = client.post(
        "/api/articles",
        json=_story("urn:test:queued", "Queued for the worker"),
        headers={"X-Api-Key": API_KEY},
    )
    assert posted.status_code == 200
    assert len(queued) == 2
    assert queued[1].article_ids
    assert not queued[1].partner_ids
    # Not rebuilt in the request: the worker does it.
    assert "Queued for the worker" not in [e.title for e in _public_rss(client).entries]


def test_the_periodic_check_rebuilds_a_partner_whose_rebuild_was_lost(
    tmp_path: Path, database_url: str
) -> None:
    from distributor.services.events import release_embargoes
    from distributor.services.feeds import PartnerSettings, create_partner

    settings = make_settings(tmp_path, database_url)
    now = datetime.now(UTC)
    with unit_of_work(settings.database_url) as db:
        rebuild_feeds(db, settings, None, now)
    with unit_of_work(settings.database_url) as db:  # committed, nothing rebuilt after
        create_partner(db, "Lost Message", PartnerSettings(), now)
    with unit_of_work(settings.database_url) as db:
        assert release_embargoes(db, now).rebuild_all
        rebuild_feeds(db, settings, None, now)
    with unit_of_work(settings.database_url) as db:
        assert not release_embargoes(db, now).rebuild_all
