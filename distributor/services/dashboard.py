"""The desk's home: what needs an editor's eye now, gathered from issues, stories and sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.db.models import Article, Issue, Source
from distributor.domain.issues import IssueStatus
from distributor.domain.sources import SourceKind
from distributor.services.desk_queries import Warning, article_warnings
from distributor.services.issues import is_held, issue_progress

RECENT = 5
STORIES_SCANNED = 100
STORIES_SHOWN = 8


@dataclass(frozen=True)
class StoryToFix:
    """A recent story with open problems (missing credit, alt text, bio, …)."""

    article: Article
    warnings: list[Warning]


@dataclass
class Dashboard:
    """Everything the home page shows, each part newest or soonest first."""

    scheduled: list[Issue] = field(default_factory=list)
    sending: list[tuple[Issue, dict[str, Any]]] = field(default_factory=list)
    sent: list[tuple[Issue, dict[str, Any]]] = field(default_factory=list)
    stopped: list[tuple[Issue, str, str]] = field(default_factory=list)  # issue, held/paused, why
    stories: list[StoryToFix] = field(default_factory=list)
    failing_sources: list[Source] = field(default_factory=list)


def dashboard(session: Session, now: datetime) -> Dashboard:
    """The desk's home page data at ``now``."""
    board = Dashboard()
    for issue in session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SCHEDULED)
        .order_by(Issue.send_at.asc(), Issue.id)
        .limit(RECENT * 2)
    ):
        if issue.send_at is not None and issue.send_at <= now:
            board.sending.append((issue, issue_progress(session, issue.id)))
        else:
            board.scheduled.append(issue)
    board.scheduled = board.scheduled[:RECENT]
    for issue in session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SENDING)
        .order_by(Issue.started_at, Issue.id)
    ):
        board.sending.append((issue, issue_progress(session, issue.id)))
    for issue in session.scalars(
        select(Issue).where(Issue.status == IssueStatus.PAUSED).order_by(Issue.id.desc())
    ):
        label = "held" if is_held(issue) else "paused"
        board.stopped.append((issue, label, issue.paused_reason or "no reason recorded"))
    for issue in session.scalars(
        select(Issue)
        .where(Issue.status.in_([IssueStatus.SENT, IssueStatus.PARTIALLY_FAILED]))
        .order_by(Issue.finished_at.desc().nulls_last(), Issue.id.desc())
        .limit(RECENT)
    ):
        board.sent.append((issue, issue_progress(session, issue.id)))
    for article in session.scalars(
        select(Article).order_by(Article.id.desc()).limit(STORIES_SCANNED)
    ):
        warnings = article_warnings(article, now=now)
        if warnings and len(board.stories) < STORIES_SHOWN:
            board.stories.append(StoryToFix(article, warnings))
    board.failing_sources = list(
        session.scalars(
            select(Source)
            .where(Source.kind == SourceKind.FEED.value)
            .where(Source.consecutive_failures > 0)
            .order_by(Source.consecutive_failures.desc(), Source.id)
        )
    )
    return board
