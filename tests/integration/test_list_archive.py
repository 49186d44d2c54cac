"""Archiving a list: no new readers and no new issues; members, history and leaving stay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import Subscriber, Subscription
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.issue_drafts import update_issue_content
from distributor.services.issues import IssueError, cancel_issue, create_issue, schedule_issue
from distributor.services.sending import start_issue_now
from distributor.services.subscriber_import import import_subscribers
from distributor.services.subscribers import (
    ArchivedListError,
    SubscriberError,
    add_subscriber,
    archive_list,
    create_list,
    preferences_of,
    sign_up,
    unarchive_list,
    update_preferences,
)
from tests.conftest import make_settings
from tests.factories.audience import article_row
from tests.support.live_app import live_app


def _lists(settings: Settings) -> dict[str, int]:
    with unit_of_work(settings.database_url) as session:
        weekly = create_list(session, "weekly", title="The Weekly", opt_in=OptIn.SINGLE)
        daily = create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
        add_subscriber(session, "member@example.org", "weekly", confirmed=True)
        add_subscriber(session, "member@example.org", "daily", confirmed=True)
        add_subscriber(session, "other@example.org", "daily", confirmed=True)
        return {"weekly": weekly.id, "daily": daily.id}


def test_an_archived_list_takes_no_new_readers_or_issues_until_it_is_opened_again(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    ids = _lists(settings)
    with unit_of_work(settings.database_url) as session:
        article = article_row(session)
        draft = create_issue(session, ["weekly"], "Before the archive", [article.id])
        article_id, draft_id = article.id, draft.id
    with unit_of_work(settings.database_url) as session:
        archived = archive_list(session, "weekly")
        assert archived.archived_at is not None
        assert archive_list(session, "weekly").archived_at == archived.archived_at  # idempotent

    source = tmp_path / "readers.csv"
    source.write_text("email,lists\nnew@example.org,\nextra@example.org,weekly\n", encoding="utf-8")
    with unit_of_work(settings.database_url) as session:
        with pytest.raises(ArchivedListError, match="'weekly' is archived"):
            sign_up(session, "weekly", "new@example.org")
        with pytest.raises(ArchivedListError, match="unarchive it first"):
            add_subscriber(session, "new@example.org", "weekly")
        with pytest.raises(SubscriberError, match="'weekly' is archived"):
            import_subscribers(session, source, "weekly")
        # A row naming the archived list in its lists column is refused, the others land.
        report = import_subscribers(session, source, "daily")
        assert [(item.line, item.column, item.message) for item in report.problems] == [
            (3, "lists", "list 'weekly' is archived: it takes no new readers")
        ]
        assert report.accepted == 1
        with pytest.raises(IssueError, match=r"archived list.*weekly"):
            create_issue(session, ["weekly", "daily"], "After", [article_id])
        with pytest.raises(IssueError, match=r"archived list.*weekly"):
            schedule_issue(session, draft_id, "2030-01-01T08:00", "Europe/London")
        with pytest.raises(IssueError, match=r"archived list.*weekly"):
            start_issue_now(session, draft_id)
        daily_only = create_issue(session, ["daily"], "Daily only", [article_id])
        with pytest.raises(IssueError, match=r"archived list.*weekly"):
            update_issue_content(
                session,
                daily_only.id,
                subject="Daily only",
                preheader="",
                editor_note="",
                list_ids=[ids["weekly"]],
            )

    with unit_of_work(settings.database_url) as session:
        unarchive_list(session, "weekly")
    with unit_of_work(settings.database_url) as session:
        assert sign_up(session, "weekly", "new@example.org").status != "suppressed"
        assert schedule_issue(session, draft_id, "2030-01-01T08:00", "Europe/London").send_at


def test_archiving_waits_for_a_scheduled_issue_to_be_cancelled_or_sent(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    _lists(settings)
    with unit_of_work(settings.database_url) as session:
        article = article_row(session)
        issue = create_issue(session, ["weekly"], "Friday", [article.id])
        schedule_issue(session, issue.id, "2030-01-01T08:00", "Europe/London")
        issue_id = issue.id
    with unit_of_work(settings.database_url) as session:
        with pytest.raises(SubscriberError) as refused:
            archive_list(session, "weekly")
        assert f"issue {issue_id} (scheduled)" in str(refused.value)
        assert "cancel it or let it finish" in str(refused.value)
        cancel_issue(session, issue_id)
    with unit_of_work(settings.database_url) as session:
        assert archive_list(session, "weekly").archived_at is not None


def test_members_still_see_and_can_leave_an_archived_list_but_nobody_joins_it(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    ids = _lists(settings)
    with unit_of_work(settings.database_url) as session:
        archive_list(session, "weekly")
        member, other = (
            session.scalar(
                select(Subscription.subscriber_id)
                .where(Subscription.list_id == ids["daily"])
                .order_by(Subscription.subscriber_id)
                .offset(offset)
            )
            for offset in (0, 1)
        )
        assert member is not None
        assert other is not None
        shown = preferences_of(session, member)
        assert shown is not None
        assert {choice.name for choice in shown.lists} == {"weekly", "daily"}
        hidden = preferences_of(session, other)
        assert hidden is not None
        assert {choice.name for choice in hidden.lists} == {"daily"}
        # Someone who never joined cannot join it through the preferences form.
        update_preferences(
            session,
            other,
            wanted_list_ids={ids["weekly"], ids["daily"]},
            language=None,
            name=None,
        )
        assert session.get(Subscription, (other, ids["weekly"])) is None
        # A member keeps it when it stays ticked, and leaves it when it is not.
        update_preferences(
            session, member, wanted_list_ids={ids["weekly"], ids["daily"]}, language=None, name=None
        )
        kept = session.get(Subscription, (member, ids["weekly"]))
        assert kept is not None
        assert kept.status == "confirmed"
        update_preferences(
            session, member, wanted_list_ids={ids["daily"]}, language=None, name=None
        )
        left = session.get(Subscription, (member, ids["weekly"]))
        assert left is not None
        assert left.status == "unsubscribed"
        # Ticking it again does not bring a member who left back to an archived list.
        update_preferences(
            session, member, wanted_list_ids={ids["weekly"], ids["daily"]}, language=None, name=None
        )
        again = session.get(Subscription, (member, ids["weekly"]))
        assert again is not None
        assert again.status == "unsubscribed"


def test_cli_archives_and_opens_a_list_again(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    _lists(settings)
    runner = CliRunner()
    archived = runner.invoke(cli, ["lists", "archive", "weekly", "--json"])
    assert archived.exit_code == 0, archived.output
    assert json.loads(archived.output)["archived"] is True
    listed = json.loads(runner.invoke(cli, ["lists", "list", "--json"]).output)
    assert {row["name"]: row["archived"] for row in listed} == {"daily": False, "weekly": True}
    refused = runner.invoke(cli, ["subscribers", "add", "late@example.org", "--list", "weekly"])
    assert refused.exit_code == 1
    assert "archived" in refused.output
    opened = runner.invoke(cli, ["lists", "unarchive", "weekly", "--json"])
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["archived"] is False
    unknown = runner.invoke(cli, ["lists", "archive", "monthly"])
    assert unknown.exit_code == 1
    assert "no list named 'monthly'" in unknown.output


def test_the_signup_page_of_an_archived_list_says_it_is_closed(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    ids = _lists(settings)
    with unit_of_work(settings.database_url) as session:
        archive_list(session, "weekly")
    with live_app(settings) as base, httpx.Client(base_url=base) as client:
        page = client.get("/signup/weekly")
        assert page.status_code == 410
        assert "This newsletter is closed" in page.text
        assert "<form" not in page.text
        as_json = client.post("/signup/weekly", json={"email": "late@example.org"})
        assert as_json.status_code == 410
        assert as_json.json() == {"error": "the newsletter 'weekly' is closed"}
        as_form = client.post("/signup/weekly", data={"email": "late@example.org"})
        assert as_form.status_code == 410
        assert client.post("/signup/daily", json={"email": "late@example.org"}).status_code == 200
    with unit_of_work(settings.database_url) as session:
        joined = session.scalars(
            select(Subscription.list_id)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == "late@example.org")
        ).all()
        assert joined == [ids["daily"]]
