"""The desk's home page data (:func:`distributor.services.dashboard.dashboard`) and duplicating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from distributor.db import models
from distributor.services.dashboard import dashboard
from distributor.services.demo import DEMO_LIST, ensure_demo_list, load_demo
from distributor.services.ingest import add_source
from distributor.services.issue_drafts import duplicate_issue
from distributor.services.issues import IssueError, create_issue
from distributor.services.subscribers import archive_list

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _issue(db: Session, subject: str, status: str, **fields: object) -> models.Issue:
    ids = sorted(article.id for article in db.query(models.Article).all())
    issue = create_issue(db, [DEMO_LIST], subject, ids[:2])
    issue.status = status
    for key, value in fields.items():
        setattr(issue, key, value)
    db.flush()
    return issue


def test_the_home_page_sorts_issues_stories_and_sources(db: Session) -> None:
    load_demo(db, now=NOW)
    ensure_demo_list(db)
    later = _issue(db, "Later", "scheduled", send_at=NOW + timedelta(days=2))
    sooner = _issue(db, "Sooner", "scheduled", send_at=NOW + timedelta(hours=1))
    due = _issue(db, "Due", "scheduled", send_at=NOW - timedelta(minutes=1))
    sending = _issue(db, "Going out", "sending", started_at=NOW)
    held = _issue(db, "Held", "paused", paused_reason="a story is under embargo")
    paused = _issue(db, "Paused", "paused", started_at=NOW, paused_reason="paused by an editor")
    sent = _issue(db, "Sent", "sent", started_at=NOW, finished_at=NOW)
    _issue(db, "Draft", "draft")
    failing = add_source(db, "https://cms.example.net/feed.xml", name="CMS")
    failing.consecutive_failures = 2
    failing.last_error = "HTTP 503"
    add_source(db, "https://fine.example.net/feed.xml")

    board = dashboard(db, NOW)

    assert [issue.id for issue in board.scheduled] == [sooner.id, later.id]
    assert [issue.id for issue, _ in board.sending] == [due.id, sending.id]
    assert all("total" in progress for _, progress in board.sending)
    assert [(issue.id, label, reason) for issue, label, reason in board.stopped] == [
        (paused.id, "paused", "paused by an editor"),
        (held.id, "held", "a story is under embargo"),
    ]
    assert [issue.id for issue, _ in board.sent] == [sent.id]
    assert board.stories
    assert all(item.warnings for item in board.stories)
    assert [source.id for source in board.failing_sources] == [failing.id]


def test_duplicating_copies_content_stories_and_open_lists(db: Session) -> None:
    load_demo(db, now=NOW)
    ensure_demo_list(db)
    original = _issue(db, "The original", "sent", editor_note="Hello.", greeting=True)
    copy = duplicate_issue(db, original.id)
    assert copy.id != original.id
    assert copy.status == "draft"
    assert (copy.subject, copy.editor_note, copy.greeting) == ("The original", "Hello.", True)
    assert [entry.article_id for entry in copy.articles] == [
        entry.article_id for entry in original.articles
    ]
    assert [entry.list_id for entry in copy.lists] == [entry.list_id for entry in original.lists]

    archive_list(db, DEMO_LIST)
    with pytest.raises(IssueError, match=r"every list of issue \d+ is archived"):
        duplicate_issue(db, original.id)
