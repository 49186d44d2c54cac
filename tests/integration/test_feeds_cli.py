"""The partners and feed commands, and the feed tasks, on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.domain.partners import hash_api_key
from tests.conftest import make_settings
from tests.factories.feed_stories import chinese_feed_article, english_feed_article, upsert_article


def _settings(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> Settings:
    return use_settings(make_settings(tmp_path, sqlite_url))


def test_partner_lifecycle_and_feed_command(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = _settings(tmp_path, sqlite_url, use_settings)
    with unit_of_work(settings.database_url) as session:
        upsert_article(session, english_feed_article(1))
        upsert_article(session, chinese_feed_article())
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "partners",
            "create",
            "Taipei Daily",
            "--language",
            "zh",
            "--format",
            "rss",
            "--format",
            "ninjs",
            "--territory",
            "tw",
            "--push-url",
            "https://taipei.example.net/hook",
            "--json",
        ],
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    key = data["api_key"]
    assert key.startswith("dst_")
    assert data["push_secret"].startswith("whsec_")
    assert data["territory"] == "TW"
    assert set(data["feeds"]) == {"rss", "ninjs"}
    with unit_of_work(settings.database_url) as session:
        stored = session.scalar(select(models.Partner))
        assert stored is not None
        assert stored.api_key_hash == hash_api_key(key)
        assert key not in (stored.api_key_hash or "")
    listed = runner.invoke(app, ["partners", "list", "--json"])
    assert "api_key" not in json.loads(listed.output)[0]
    shown = runner.invoke(app, ["partners", "show", "Taipei Daily", "--json"])
    assert json.loads(shown.output)["languages"] == ["zh"]
    # update changes what it is given and keeps the rest.
    updated = runner.invoke(
        app, ["partners", "update", "Taipei Daily", "--section", "stories", "--json"]
    )
    assert updated.exit_code == 0, updated.output
    changed = json.loads(updated.output)
    assert changed["sections"] == ["stories"]
    assert changed["languages"] == ["zh"]
    assert changed["territory"] == "TW"
    assert changed["push_url"] == "https://taipei.example.net/hook"
    assert changed["formats"] == ["rss", "ninjs"]
    cleared = runner.invoke(
        app,
        ["partners", "update", "Taipei Daily", "--clear", "section", "--allow-embargoed", "--json"],
    )
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.output)["sections"] == []
    assert json.loads(cleared.output)["allow_embargoed"] is True
    assert json.loads(cleared.output)["territory"] == "TW"
    for bad_update, message in [
        (["--clear", "colour"], "choose one of"),
        (["--clear", "territory", "--territory", "GB"], "both given"),
        ([], "nothing to change"),
        (["--territory", "Taiwan"], "--territory"),
    ]:
        refused = runner.invoke(app, ["partners", "update", "Taipei Daily", *bad_update])
        assert refused.exit_code == 1
        assert message in refused.output
    rotated = runner.invoke(app, ["partners", "rotate-key", "Taipei Daily", "--json"])
    assert json.loads(rotated.output)["api_key"] != key
    duplicate = runner.invoke(app, ["partners", "create", "Taipei Daily"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    bad = runner.invoke(
        app, ["partners", "create", "Bad", "--format", "pdf", "--territory", "Taiwan"]
    )
    assert bad.exit_code == 1
    assert "--format" in bad.output
    assert "--territory" in bad.output

    public = runner.invoke(app, ["feed", "--format", "rss"])
    assert public.exit_code == 0
    assert len(feedparser.parse(public.stdout_bytes).entries) == 2
    partner = runner.invoke(app, ["feed", "--format", "ninjs", "--partner", "Taipei Daily"])
    items = json.loads(partner.stdout_bytes)["items"]
    assert [item["language"] for item in items] == ["zh-Hans"]
    disabled = runner.invoke(app, ["feed", "--format", "atom", "--partner", "Taipei Daily"])
    assert disabled.exit_code == 1
    assert "not enabled" in disabled.output
    unknown = runner.invoke(app, ["feed", "--format", "xml"])
    assert unknown.exit_code == 1
    assert "jsonfeed" in unknown.output
    log = runner.invoke(app, ["partners", "log", "Taipei Daily", "--json"])
    assert json.loads(log.output) == []


def test_feed_tasks_round_trip_json_arguments(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = _settings(tmp_path, sqlite_url, use_settings)
    from workers import tasks

    with unit_of_work(settings.database_url) as session:
        article_id = upsert_article(session, english_feed_article(1))
    arguments = json.loads(json.dumps([[article_id]]))
    result = tasks.rebuild_feeds.run(*arguments)
    assert result["changed"] == 4
    assert tasks.rebuild_feeds.run(None)["changed"] == 0
    released = tasks.release_embargoes.run()
    assert released == {"released": [], "rebuild_all": False}
    assert tasks.push_partners.run() == {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
