"""The public archive of a public list: its sent issues, newest first, as a page and an Atom feed.

The web archive's rules apply: only issues that went out are shown (never a draft or a held
issue), and a story still under embargo is left out (an issue whose every story is embargoed
is left out altogether), so no public page names a story before its embargo has passed.
Private lists have no archive: they answer like a list that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db import models
from distributor.domain.archive import ArchivedIssue, NewsletterArchive
from distributor.domain.links import archive_url, newsletter_feed_url, newsletter_index_url
from distributor.services.rendering import (
    PUBLIC_ARCHIVE_STATUSES,
    embargoed_in_issues,
)
from distributor.services.subscribers import find_list, is_public

# The index and the feed show this many of the newest issues.
ARCHIVE_ISSUES = 100
FEED_ISSUES = 30


class ArchiveNotFoundError(LookupError):
    """No public list with that name."""


def newsletter_archive(
    session: Session,
    settings: Settings,
    list_name: str,
    *,
    now: datetime | None = None,
    limit: int = ARCHIVE_ISSUES,
) -> NewsletterArchive:
    """The archive of the public list ``list_name`` as of ``now``.

    Raises :class:`ArchiveNotFoundError` for an unknown or private list.
    """
    mailing_list = find_list(session, list_name)
    if mailing_list is None or not is_public(mailing_list):
        raise ArchiveNotFoundError(f"no public newsletter named {list_name!r}")
    moment = now or SYSTEM_CLOCK.now()
    issues = list(
        session.scalars(
            select(models.Issue)
            .join(models.IssueList, models.IssueList.issue_id == models.Issue.id)
            .where(
                models.IssueList.list_id == mailing_list.id,
                models.Issue.status.in_([str(status) for status in PUBLIC_ARCHIVE_STATUSES]),
                models.Issue.started_at.is_not(None),
                models.Issue.web_token.is_not(None),
            )
            .order_by(models.Issue.started_at.desc(), models.Issue.id.desc())
            .limit(limit)
        )
    )
    embargoed = embargoed_in_issues(session, [issue.id for issue in issues], moment)
    titles = _story_titles(session, [issue.id for issue in issues])
    base = settings.PUBLIC_BASE_URL
    shown: list[ArchivedIssue] = []
    for issue in issues:
        held = embargoed.get(issue.id, frozenset())
        stories = titles.get(issue.id, [])
        visible = tuple(title for article_id, title in stories if article_id not in held)
        if stories and not visible:
            continue  # every story is still embargoed: the issue's web copy is not public yet
        if issue.started_at is None or issue.web_token is None:
            continue  # excluded by the query; says so to the type checker
        shown.append(
            ArchivedIssue(
                issue_id=issue.id,
                subject=issue.subject,
                sent_at=issue.started_at,
                url=archive_url(base, issue.web_token),
                story_titles=visible,
            )
        )
    return NewsletterArchive(
        name=mailing_list.name,
        title=mailing_list.title or mailing_list.name,
        description=mailing_list.description or "",
        language=mailing_list.language or "en",
        double_opt_in=mailing_list.opt_in == "double",
        closed=mailing_list.archived_at is not None,
        index_url=newsletter_index_url(base, mailing_list.name),
        feed_url=newsletter_feed_url(base, mailing_list.name),
        created_at=mailing_list.created_at,
        issues=tuple(shown),
    )


def _story_titles(session: Session, issue_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """For each issue, its stories' (id, title) in issue order."""
    found: dict[int, list[tuple[int, str]]] = {}
    if not issue_ids:
        return found
    rows = session.execute(
        select(models.IssueArticle.issue_id, models.Article.id, models.Article.title)
        .join(models.Article, models.Article.id == models.IssueArticle.article_id)
        .where(models.IssueArticle.issue_id.in_(issue_ids))
        .order_by(models.IssueArticle.issue_id, models.IssueArticle.position)
    )
    for issue_id, article_id, title in rows:
        found.setdefault(issue_id, []).append((article_id, title))
    return found
