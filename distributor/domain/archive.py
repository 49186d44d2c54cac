"""A public list's archive of sent issues, as the public page and its Atom feed show it (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ArchivedIssue:
    """One sent issue as the public archive shows it."""

    issue_id: int
    subject: str
    sent_at: datetime
    url: str
    story_titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewsletterArchive:
    """A public list and its sent issues, newest first."""

    name: str
    title: str
    description: str
    language: str
    double_opt_in: bool
    closed: bool
    index_url: str
    feed_url: str
    created_at: datetime
    issues: tuple[ArchivedIssue, ...]
