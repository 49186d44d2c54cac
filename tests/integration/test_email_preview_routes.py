"""Preview routes for editors and the public archive, through the real app; and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.rendering.email import PLACEHOLDERS
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import CHROMIUM
from tests.factories.email_rows import store_issue
from tests.factories.email_stories import english_article
from tests.unit.rendering.email_properties import hrefs, visible_text

EDITOR = ("editor@example.org", "editor password 1")


@pytest.fixture
def issue_id(settings: Settings) -> int:
    with unit_of_work(settings.database_url) as db:
        create_user(db, EDITOR[0], EDITOR[1], name="Ed Editor", role="editor")
        return store_issue(db, [english_article(index) for index in range(6)], greeting=False)


@pytest.fixture
def client(settings: Settings, issue_id: int) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="https://testserver") as test_client:
        yield test_client


def sign_in(client: TestClient) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_the_greeting_is_a_visible_option_and_previewed(
    client: TestClient, settings: Settings, issue_id: int
) -> None:
    sign_in(client)
    page = client.get(f"/issues/{issue_id}").text
    box = re.search(r'<input id="greeting"[^>]*>', page)
    assert box
    assert "checked" not in box.group(0)
    assert "Open with a greeting: “Dear {first name},”" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        fields = {
            "subject": issue.subject,
            "preheader": issue.preheader,
            "editor_note": "Dear readers, this week is about rivers.",
            "list_id": [str(entry.list_id) for entry in issue.lists],
            "csrf_token": token.group(1),
        }
    saved = client.post(
        f"/issues/{issue_id}/content", data={**fields, "greeting": "1"}, follow_redirects=False
    )
    assert saved.status_code == 303
    page = client.get(f"/issues/{issue_id}").text
    box = re.search(r'<input id="greeting"[^>]*>', page)
    assert box
    assert "checked" in box.group(0)
    shown = visible_text(client.get(f"/issues/{issue_id}/preview/desktop").text)
    assert "Dear reader,Dear readers, this week is about rivers." in shown
    assert "Dear reader,\n\nDear readers," in client.get(f"/issues/{issue_id}/preview/text").text
    # Unticked, the note stands alone: no "Dear reader," before the editor's own greeting.
    client.post(f"/issues/{issue_id}/content", data=fields, follow_redirects=False)
    shown = visible_text(client.get(f"/issues/{issue_id}/preview/desktop").text)
    assert "Dear reader," not in shown
    assert "Dear readers, this week is about rivers." in shown


@pytest.mark.parametrize("kind", ["desktop", "mobile", "text", "size"])
def test_previews_need_an_editor(client: TestClient, issue_id: int, kind: str) -> None:
    response = client.get(f"/issues/{issue_id}/preview/{kind}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_previews_for_a_signed_in_editor(client: TestClient, issue_id: int) -> None:
    sign_in(client)
    desktop = client.get(f"/issues/{issue_id}/preview/desktop")
    assert desktop.status_code == 200
    assert desktop.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in desktop.headers["content-security-policy"]
    assert "Dear reader," not in visible_text(desktop.text)  # the greeting is off by default
    for token in PLACEHOLDERS:
        assert token not in desktop.text

    mobile = client.get(f"/issues/{issue_id}/preview/mobile")
    assert mobile.status_code == 200
    assert f'src="/issues/{issue_id}/preview/desktop"' in mobile.text
    assert 'width="375"' in mobile.text

    text = client.get(f"/issues/{issue_id}/preview/text")
    assert text.headers["content-type"].startswith("text/plain")
    assert "Unsubscribe: https://news.example.org/unsubscribe/" in text.text

    size = client.get(f"/issues/{issue_id}/preview/size").json()
    assert size["html_bytes"] > 10_000
    assert size["budget"] == 100_000
    assert size["over_budget"] is False
    assert size["warning"] is None


def test_size_warning_when_over_budget(settings: Settings, issue_id: int) -> None:
    small = settings.model_copy(update={"EMAIL_HTML_BUDGET_BYTES": 10_000})
    with TestClient(create_app(small), base_url="https://testserver") as client:
        sign_in(client)
        size = client.get(f"/issues/{issue_id}/preview/size").json()
    assert size["over_budget"] is True
    assert "Gmail clips" in size["warning"]


def test_unknown_issue_preview_is_404(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/issues/9999/preview/desktop").status_code == 404


def test_archive_page_is_public_once_sent_and_has_no_personal_links(
    client: TestClient, settings: Settings, issue_id: int
) -> None:
    sign_in(client)
    client.get(f"/issues/{issue_id}/preview/size")  # renders and creates the web token
    with unit_of_work(settings.database_url) as db:
        token = db.get(models.Issue, issue_id).web_token
    assert token
    assert client.get(f"/archive/{token}").status_code == 404  # still a draft
    with unit_of_work(settings.database_url) as db:
        db.get(models.Issue, issue_id).status = "sent"
    client.cookies.clear()
    page = client.get(f"/archive/{token}")
    assert page.status_code == 200
    assert not any("/unsubscribe/" in link or "/preferences/" in link for link in hrefs(page.text))
    assert english_article(0).title in visible_text(page.text)
    assert client.get("/archive/no-such-token").status_code == 404


@pytest.mark.slow
def test_render_command_writes_the_files(
    settings: Settings, issue_id: int, tmp_path: Path, use_settings
) -> None:
    use_settings(settings)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", str(issue_id), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    html = (out / "issue.html").read_text(encoding="utf-8")
    text = (out / "issue.txt").read_text(encoding="utf-8")
    assert "-unsubscribe_url-" in html
    assert "-unsubscribe_url-" in text
    assert report["html_bytes"] == len(html.encode("utf-8"))
    assert report["over_budget"] is False
    if CHROMIUM.exists():
        assert {Path(path).name for path in report["screenshots"]} == {
            "desktop-800.png",
            "mobile-375.png",
        }
        assert all(not layout["scrolls_horizontally"] for layout in report["layout"])
    else:
        assert report["screenshots"] == []
        assert "Chromium" in report["screenshot_note"]


def test_render_command_names_a_missing_issue(
    settings: Settings, tmp_path: Path, use_settings
) -> None:
    use_settings(settings)
    result = CliRunner().invoke(cli, ["render", "424242", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "issue 424242 does not exist" in result.output


def test_a_new_issue_takes_the_greeting_option_from_its_form(
    client: TestClient, settings: Settings, issue_id: int
) -> None:
    sign_in(client)
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        fields = {
            "subject": "A second issue",
            "article_id": [str(entry.article_id) for entry in issue.articles][:2],
            "list_id": [str(entry.list_id) for entry in issue.lists],
        }
    form = client.get(f"/issues/new?article_id={fields['article_id'][0]}").text
    assert 'id="greeting"' in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    created = {}
    for greeting in ("1", ""):
        answer = client.post(
            "/issues",
            data={**fields, "greeting": greeting, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        created[greeting] = int(answer.headers["location"].rsplit("/", 1)[1])
    with unit_of_work(settings.database_url) as db:
        assert db.get(models.Issue, created["1"]).greeting is True  # type: ignore[union-attr]
        assert db.get(models.Issue, created[""]).greeting is False  # type: ignore[union-attr]
