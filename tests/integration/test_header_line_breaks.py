"""CR/LF in a subject, a sender name or a list title never reaches a header: it is refused where
it is typed (desk forms, CLI, configuration) with a message naming the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import ConfigurationError, Settings, load_settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.issue_drafts import update_issue_content
from distributor.services.issues import IssueError, create_issue
from distributor.services.subscribers import SubscriberError, create_list, update_list
from tests.conftest import make_settings
from tests.integration.test_desk_pages import _create_issue, desk, sign_in  # noqa: F401

INJECTED = ("Weekly\r\nBcc: injected@evil.example", "Weekly\nX-Evil: 1", "Weekly\rX: 1")


@pytest.mark.parametrize("value", INJECTED)
def test_services_refuse_line_breaks_naming_the_field(db, value: str) -> None:  # type: ignore[no-untyped-def]
    weekly = create_list(db, "weekly", title="The Weekly")
    with pytest.raises(SubscriberError, match="list title must be one line"):
        create_list(db, "letters", title=value)
    with pytest.raises(SubscriberError, match="list title must be one line"):
        update_list(db, "weekly", title=value)
    assert weekly.title == "The Weekly"
    with pytest.raises(IssueError, match="subject must be one line"):
        create_issue(db, ["weekly"], value, [])
    issue = create_issue(db, ["weekly"], "A fine subject", [])
    with pytest.raises(IssueError, match="subject must be one line"):
        update_issue_content(
            db, issue.id, subject=value, preheader="", editor_note="", list_ids=[weekly.id]
        )
    assert issue.subject == "A fine subject"
    # A trailing newline (a pasted line) is trimmed, not refused.
    assert create_list(db, "news", title="The News\n").title == "The News"


def test_desk_forms_refuse_line_breaks(desk) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, settings, ids = desk
    token = sign_in(client, "editor@example.org")
    issue_id = _create_issue(client, token, ids)
    refused = client.post(
        f"/issues/{issue_id}/content",
        data={"csrf_token": token, "subject": INJECTED[0], "list_id": [ids["list"]]},
    )
    assert "subject must be one line" in refused.text
    listed = client.post(
        "/lists",
        data={"csrf_token": token, "name": "letters", "title": INJECTED[1], "opt_in": "double"},
    )
    assert listed.status_code == 400
    assert "list title must be one line" in listed.text
    changed = client.post(
        f"/lists/{ids['list']}",
        data={"csrf_token": token, "title": INJECTED[0], "language": "en", "opt_in": "single"},
    )
    assert changed.status_code == 400
    assert "list title must be one line" in changed.text
    with unit_of_work(settings.database_url) as db:
        assert db.get(models.Issue, issue_id).subject == "This week"  # type: ignore[union-attr]
        titles = set(db.scalars(select(models.MailingList.title)))
    assert titles == {"The Weekly"}


def test_cli_refuses_line_breaks(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    use_settings(make_settings(tmp_path, sqlite_url))
    runner = CliRunner()
    refused = runner.invoke(cli, ["lists", "create", "weekly", "--title", INJECTED[0]])
    assert refused.exit_code != 0
    assert "list title must be one line" in refused.output
    assert runner.invoke(cli, ["lists", "create", "weekly"]).exit_code == 0
    changed = runner.invoke(cli, ["lists", "update", "weekly", "--title", INJECTED[1]])
    assert changed.exit_code != 0
    assert "list title must be one line" in changed.output
    issue = runner.invoke(
        cli, ["issues", "create", "--list", "weekly", "--subject", INJECTED[2], "--article", "1"]
    )
    assert issue.exit_code != 0
    assert "subject must be one line" in issue.output


@pytest.mark.parametrize("variable", ["MAIL_FROM_NAME", "MAIL_REPLY_TO"])
def test_configuration_refuses_line_breaks_in_sender_headers(variable: str) -> None:
    value, good = "Magazine\r\nBcc: injected@evil.example", "Harbour Magazine"
    if variable == "MAIL_REPLY_TO":
        value, good = "reply@example.org\r\nX-Evil: 1", "reply@example.org"
    with pytest.raises(ConfigurationError, match=f"{variable}: .*line break"):
        load_settings({variable: value})
    assert load_settings({variable: good}) is not None
