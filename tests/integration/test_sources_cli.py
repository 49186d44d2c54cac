"""``distributor sources pause|resume|remove``: what an editor does with a registered feed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.sources import source_health
from tests.conftest import make_settings

FEED = "https://cms.example.net/feed.xml"
EXPORT = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>CMS</title>
<link>https://cms.example.net/</link><description>d</description>
<item><guid>urn:cms:1</guid><title>From the CMS</title><link>https://cms.example.net/1</link>
<description>A story.</description><pubDate>Fri, 04 Dec 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""


def _row(settings: Settings, source_id: int) -> tuple[bool, int, datetime | None]:
    with unit_of_work(settings.database_url) as session:
        source = session.get(models.Source, source_id)
        assert source is not None
        return source.active, source.consecutive_failures, source.next_poll_at


def test_pause_resume_and_remove_a_feed(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    runner = CliRunner()
    added = runner.invoke(cli, ["sources", "add", FEED, "--name", "Magazine CMS", "--json"])
    assert added.exit_code == 0, added.output
    source_id = json.loads(added.stdout)["id"]

    paused = runner.invoke(cli, ["sources", "pause", "magazine cms"])
    assert paused.exit_code == 0, paused.output
    assert f"source {source_id} paused" in paused.output
    assert _row(settings, source_id)[0] is False
    listed = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).stdout)
    assert [(row["id"], row["active"]) for row in listed] == [(source_id, False)]

    # A failing feed in back-off: resume polls it from now and forgets the failures.
    later = datetime.now(UTC) + timedelta(hours=6)
    with unit_of_work(settings.database_url) as session:
        source = session.get(models.Source, source_id)
        assert source is not None
        source.consecutive_failures = 4
        source.next_poll_at = later
        source.last_error = "HTTP 503 from cms.example.net"
        assert source_health(session, source).state == "paused"
    resumed = runner.invoke(cli, ["sources", "resume", str(source_id), "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["active"] is True
    active, failures, next_poll = _row(settings, source_id)
    assert active is True
    assert failures == 0
    assert next_poll is not None
    assert next_poll < later

    # A feed whose stories name it is refused, with what to do instead; it stays.
    export = tmp_path / "export.xml"
    export.write_bytes(EXPORT)
    taken = runner.invoke(cli, ["ingest", str(export), "--source", str(source_id), "--json"])
    assert taken.exit_code == 0, taken.output
    refused = runner.invoke(cli, ["sources", "remove", FEED])
    assert refused.exit_code == 1
    assert "1 story came from https://cms.example.net/feed.xml" in refused.output
    assert "pause it instead" in refused.output
    assert _row(settings, source_id)[0] is True

    # A feed that brought nothing is forgotten.
    other = runner.invoke(cli, ["sources", "add", "https://other.example.net/rss", "--json"])
    other_id = json.loads(other.stdout)["id"]
    removed = runner.invoke(cli, ["sources", "remove", str(other_id)])
    assert removed.exit_code == 0, removed.output
    assert "removed https://other.example.net/rss" in removed.output
    remaining = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).stdout)
    assert [row["id"] for row in remaining] == [source_id]

    # Built-in sources and unknown names are refused by name.
    builtin = runner.invoke(cli, ["sources", "pause", "api"])
    assert builtin.exit_code == 1
    assert "built-in source" in builtin.output
    unknown = runner.invoke(cli, ["sources", "resume", "nowhere"])
    assert unknown.exit_code == 1
    assert "no source 'nowhere'" in unknown.output
