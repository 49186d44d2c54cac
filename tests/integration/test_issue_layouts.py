"""Issue layouts through the command line, the pre-flight and the desk: whole stories, stories
shown as excerpts, and fitting a full issue into the size budget (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import Issue
from distributor.db.session import unit_of_work
from distributor.domain.preflight import ProblemKind
from distributor.services.ingest import store_articles
from distributor.services.issues import preflight_issue
from distributor.services.rendering import preview_issue
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import make_list, subscribe
from tests.factories.full_stories import full_story, story_paragraphs
from tests.integration.test_desk_pages import PASSWORD, csrf_from, sign_in


def _stories(settings: Settings, count: int = 3) -> list[int]:
    """``count`` whole English stories (4 to 6 photos each) and a list with one reader."""
    with unit_of_work(settings.database_url) as db:
        weekly = make_list(db)
        subscribe(db, "ana@example.org", weekly.id)
        stories = [
            replace(full_story("en", story, 4 + story % 3), id=None) for story in range(count)
        ]
        return list(store_articles(db, stories).created)


def _flat(text: str) -> str:
    """The plain-text part with its wrapped lines joined."""
    return re.sub(r"\s+", " ", text)


def _invoke(*arguments: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*arguments, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_create_full_then_show_one_story_as_an_excerpt(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    first, second, third = _stories(settings)
    arguments = ["issues", "create", "--list", "weekly", "--subject", "Harbour"]
    for article_id in (first, second, third):
        arguments += ["--article", str(article_id)]
    created = _invoke(*arguments, "--layout", "full")
    assert created["layout"] == "full"
    issue_id = int(str(created["id"]))
    with unit_of_work(settings.database_url) as db:
        preview = preview_issue(db, settings, issue_id)
    for paragraph in story_paragraphs("en", 1):
        assert paragraph in _flat(preview.text)

    changed = _invoke("issues", "layout", str(issue_id), "full", "--excerpt", str(second))
    assert changed["excerpt_articles"] == [second]
    with unit_of_work(settings.database_url) as db:
        preview = preview_issue(db, settings, issue_id)
    assert story_paragraphs("en", 0)[-1] in _flat(preview.text)
    assert story_paragraphs("en", 1)[-1] not in _flat(preview.text)
    assert story_paragraphs("en", 2)[-1] in _flat(preview.text)

    back = _invoke("issues", "layout", str(issue_id), "excerpt")
    assert back["excerpt_articles"] == [first, second, third]
    with unit_of_work(settings.database_url) as db:
        issue = db.get(Issue, issue_id)
        assert issue is not None
        assert issue.layout == "excerpt"
        assert all(link.excerpt is None for link in issue.articles)


def test_bad_layouts_and_strangers_are_refused_by_name(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    first, _, _ = _stories(settings)
    runner = CliRunner()
    wide = runner.invoke(
        cli,
        [
            "issues",
            "create",
            "--list",
            "weekly",
            "--subject",
            "S",
            "--article",
            str(first),
            "--layout",
            "wide",
        ],
    )
    assert wide.exit_code == 1
    assert "unknown layout 'wide'" in wide.output
    issue_id = _invoke(
        "issues", "create", "--list", "weekly", "--subject", "S", "--article", str(first)
    )["id"]
    stranger = runner.invoke(
        cli, ["issues", "layout", str(issue_id), "full", "--excerpt", "999999"]
    )
    assert stranger.exit_code == 1
    assert "article(s) 999999 are not in issue" in stranger.output
    pointless = runner.invoke(
        cli, ["issues", "layout", str(issue_id), "excerpt", "--excerpt", str(first)]
    )
    assert pointless.exit_code == 1
    assert "can only be named in a full issue" in pointless.output


def test_an_issue_over_the_budget_says_so_and_fit_makes_it_fit(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url, EMAIL_HTML_BUDGET_BYTES="30000"))
    ids = _stories(settings)
    arguments = ["issues", "create", "--list", "weekly", "--subject", "Harbour", "--layout", "full"]
    for article_id in ids:
        arguments += ["--article", str(article_id)]
    issue_id = int(str(_invoke(*arguments)["id"]))
    with unit_of_work(settings.database_url) as db:
        verdict = preflight_issue(db, settings, issue_id)
        preview = preview_issue(db, settings, issue_id)
    over = [item for item in verdict.warnings if item.kind is ProblemKind.OVER_SIZE]
    assert len(over) == 1
    assert "Gmail clips" in over[0].message
    assert "as excerpts" in over[0].message
    assert f"issues layout {issue_id} full --fit" in over[0].message
    assert preview.warning is not None
    assert "as excerpts" in preview.warning

    fitted = _invoke("issues", "layout", str(issue_id), "full", "--fit")
    assert fitted["over_budget"] is False
    assert fitted["fitted_articles"]
    assert int(str(fitted["html_bytes"])) <= 30000
    with unit_of_work(settings.database_url) as db:
        verdict = preflight_issue(db, settings, issue_id)
    assert not [item for item in verdict.warnings if item.kind is ProblemKind.OVER_SIZE]


def test_the_desk_chooses_the_layout_and_fits_it(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, EMAIL_HTML_BUDGET_BYTES="30000", OUTBOX_DIR=str(tmp_path / "o")
    )
    ids = _stories(settings)
    with unit_of_work(settings.database_url) as db:
        create_user(db, "admin@example.org", PASSWORD, role="admin")
        from distributor.services.issues import create_issue

        issue_id = create_issue(db, ["weekly"], "Harbour", ids).id
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        token = sign_in(client)
        page = client.get(f"/issues/{issue_id}").text
        assert 'name="layout" value="excerpt" checked' in page
        saved = client.post(
            f"/issues/{issue_id}/layout", data={"csrf_token": token, "layout": "full"}
        )
        assert saved.status_code == 200
        assert "still over the size budget" in saved.text
        assert 'id="size-too-big"' in saved.text
        assert "Fit to the size budget" in saved.text
        token = csrf_from(saved.text)
        fitted = client.post(
            f"/issues/{issue_id}/layout",
            data={"csrf_token": token, "layout": "full", "fit": "1"},
        )
        assert "of the longest stories now show as excerpts" in fitted.text
        assert 'id="size-too-big"' not in fitted.text
        with unit_of_work(settings.database_url) as db:
            issue = db.get(Issue, issue_id)
            assert issue is not None
            assert issue.layout == "full"
            assert any(link.excerpt for link in issue.articles)
        # Back to excerpts with a story box still ticked: the boxes belong to a full issue.
        back = client.post(
            f"/issues/{issue_id}/layout",
            data={"csrf_token": csrf_from(fitted.text), "layout": "excerpt", "excerpt": ids[0]},
        )
        assert "Layout saved" in back.text
    with unit_of_work(settings.database_url) as db:
        issue = db.get(Issue, issue_id)
        assert issue is not None
        assert issue.layout == "excerpt"
        assert all(link.excerpt is None for link in issue.articles)


def test_the_database_refuses_an_unknown_layout(tmp_path: Path, database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    settings = make_settings(tmp_path, database_url)
    first, _, _ = _stories(settings, 3)
    with unit_of_work(settings.database_url) as db:
        from distributor.services.issues import create_issue

        issue_id = create_issue(db, ["weekly"], "Harbour", [first]).id
    with unit_of_work(settings.database_url) as db:
        layout = db.execute(text("SELECT layout FROM issues WHERE id = :id"), {"id": issue_id})
        assert layout.scalar_one() == "excerpt"
    with pytest.raises(IntegrityError), unit_of_work(settings.database_url) as db:
        db.execute(text("UPDATE issues SET layout = 'wide' WHERE id = :id"), {"id": issue_id})
