"""A revision never lifts a running embargo by leaving it out, and never silently (audit M6).

On SQLite and PostgreSQL, through the service, the JSON API and the command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.domain.sources import SourceKind
from distributor.services.ingest import builtin_source, get_article, ingest_document
from tests.conftest import make_settings

GUID = "urn:newsroom:leaked-files"
EMBARGO = datetime(2030, 1, 1, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _story(title: str, embargo: datetime | None) -> bytes:
    story: dict[str, Any] = {
        "guid": GUID,
        "url": "https://newsroom.example/leaked-files",
        "title": title,
        "body_html": "<p>What the leaked files show.</p>",
        "published_at": "2026-11-30T08:00:00Z",
    }
    if embargo is not None:
        story["embargo_until"] = embargo.isoformat().replace("+00:00", "Z")
    return json.dumps(story).encode()


def _ingest(database_url: str, title: str, embargo: datetime | None, now: datetime) -> Any:
    with unit_of_work(database_url) as session:
        api = builtin_source(session, SourceKind.API).id
        return ingest_document(
            session, _story(title, embargo), "POST /api/articles", source_id=api, now=now
        )


def _stored(database_url: str, article_id: int) -> Any:
    with unit_of_work(database_url) as session:
        article = get_article(session, article_id)
    assert article is not None
    return article


def test_a_revision_without_an_embargo_keeps_the_running_one_and_says_so(
    database_url: str,
) -> None:
    first = _ingest(database_url, "Leaked files", EMBARGO, NOW)
    story_id = first.stored.created[0]
    revision = _ingest(database_url, "Leaked files, corrected", None, NOW + timedelta(hours=1))
    assert revision.stored.revised == [story_id]
    article = _stored(database_url, story_id)
    assert article.title == "Leaked files, corrected"  # the rest of the revision is taken
    assert article.embargo_until == EMBARGO
    assert article.is_embargoed(NOW + timedelta(hours=1))
    warnings = [(p.item, p.reason) for p in revision.report.warnings]
    assert warnings == [
        (
            GUID,
            f"embargo: the revision has no embargo; the embargo until {EMBARGO.isoformat()} "
            "is kept",
        )
    ]
    # The same revision again is unchanged: nothing is revised, nothing more is said.
    again = _ingest(database_url, "Leaked files, corrected", None, NOW + timedelta(hours=2))
    assert again.stored.unchanged == [story_id]
    assert again.report.warnings == []
    assert _stored(database_url, story_id).embargo_until == EMBARGO


def test_an_explicit_earlier_embargo_is_taken_and_reported(database_url: str) -> None:
    story_id = _ingest(database_url, "Leaked files", EMBARGO, NOW).stored.created[0]
    earlier = NOW + timedelta(days=2)
    revision = _ingest(database_url, "Leaked files", earlier, NOW + timedelta(hours=1))
    assert _stored(database_url, story_id).embargo_until == earlier
    assert [p.reason for p in revision.report.warnings] == [
        f"embargo: the revision moves the embargo earlier, from {EMBARGO.isoformat()} "
        f"to {earlier.isoformat()}"
    ]


def test_a_later_embargo_or_one_that_has_passed_changes_quietly(database_url: str) -> None:
    story_id = _ingest(database_url, "Leaked files", EMBARGO, NOW).stored.created[0]
    later = EMBARGO + timedelta(days=30)
    moved = _ingest(database_url, "Leaked files", later, NOW + timedelta(hours=1))
    assert moved.report.warnings == []
    assert _stored(database_url, story_id).embargo_until == later
    # Once the embargo has passed, a revision without one simply has none.
    after = later + timedelta(days=1)
    lifted = _ingest(database_url, "Leaked files, after", None, after)
    assert lifted.report.warnings == []
    article = _stored(database_url, story_id)
    assert article.embargo_until is None
    assert not article.is_embargoed(after)


def test_the_api_and_the_command_line_report_the_kept_embargo(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from distributor.web.app import create_app

    settings = use_settings(make_settings(tmp_path, database_url, API_KEY="k-123"))
    client = TestClient(create_app(settings))
    key = {"X-Api-Key": "k-123"}
    posted = client.post("/api/articles", content=_story("Leaked files", EMBARGO), headers=key)
    assert posted.status_code == 200, posted.text
    story_id = posted.json()["created"][0]

    again = client.post("/api/articles", content=_story("Leaked files, v2", None), headers=key)
    assert again.status_code == 200, again.text
    reasons = [problem["reason"] for problem in again.json()["report"]["problems"]]
    assert any("embargo until" in reason and "is kept" in reason for reason in reasons), reasons
    assert client.get(f"/api/articles/{story_id}", headers=key).json()["embargoed"] is True

    revision = tmp_path / "revision.json"
    revision.write_bytes(_story("Leaked files, v3", None))
    taken = CliRunner().invoke(cli, ["ingest", str(revision), "--source", "api"])
    assert taken.exit_code == 0, taken.output
    assert "is kept" in taken.output
    assert client.get(f"/api/articles/{story_id}", headers=key).json()["embargoed"] is True
