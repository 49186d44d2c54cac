"""Which schedules are due, and the stories they may take (read in one query for all)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from distributor.db.models import Article, IssueArticle, MailingList, Schedule, ScheduleOccurrence
from distributor.domain.articles import ArticleStatus
from distributor.domain.schedules import (
    CandidateStory,
    OccurrenceStatus,
    StoryFilters,
    latest_occurrence,
    previous_occurrence,
)

log = logging.getLogger("distributor.schedules")


@dataclass(frozen=True, slots=True)
class ScheduleSnapshot:
    """A schedule's settings as plain values (ORM rows may be expired by the work between)."""

    id: int
    name: str
    cron: str
    mode: str
    layout: str
    timezone: str
    min_stories: int
    max_stories: int
    subject_template: str
    filters: StoryFilters
    active_since: datetime


@dataclass
class DueOccurrence:
    """A schedule's latest due occurrence not yet recorded, with the window of its stories."""

    schedule: ScheduleSnapshot
    list_name: str
    list_language: str
    zone: ZoneInfo
    occurs_at: datetime
    last_recorded: datetime | None
    window_start: datetime
    list_id: int
    list_archived: bool


def due_occurrences(session: Session, now: datetime) -> list[DueOccurrence]:
    """Every active schedule whose latest occurrence at or before ``now`` is not recorded yet
    (four queries, whatever the number of schedules)."""
    rows = session.execute(
        select(Schedule, MailingList.name, MailingList.language, MailingList.archived_at)
        .join(MailingList, MailingList.id == Schedule.list_id)
        .where(Schedule.paused.is_(False))
        .order_by(Schedule.id)
    ).all()
    if not rows:
        return []
    first_any: dict[int, datetime] = {}
    last_any: dict[int, datetime] = {}
    for schedule_id, first, last in session.execute(
        select(
            ScheduleOccurrence.schedule_id,
            func.min(ScheduleOccurrence.occurs_at),
            func.max(ScheduleOccurrence.occurs_at),
        ).group_by(ScheduleOccurrence.schedule_id)
    ):
        first_any[schedule_id], last_any[schedule_id] = first, last
    last_created = dict(
        session.execute(
            select(ScheduleOccurrence.schedule_id, func.max(ScheduleOccurrence.occurs_at))
            .where(ScheduleOccurrence.status == OccurrenceStatus.CREATED)
            .group_by(ScheduleOccurrence.schedule_id)
        ).all()
    )
    due: list[DueOccurrence] = []
    for schedule, list_name, list_language, archived_at in rows:
        try:
            zone = ZoneInfo(schedule.timezone)
            occurs_at = latest_occurrence(schedule.cron, zone, now)
        except (ValueError, KeyError):
            log.error("schedule %s has an unusable cron or zone; fix it", schedule.id)
            continue
        if occurs_at is None or occurs_at < schedule.active_since:
            continue
        recorded = as_utc(last_any.get(schedule.id))
        if recorded is not None and recorded >= occurs_at:
            continue
        # After the last occurrence that made an issue; before any did, after the time the
        # cron fired before the schedule's first occurrence (stories of a "too few" one wait).
        start = as_utc(last_created.get(schedule.id))
        if start is None:
            first = min(as_utc(first_any.get(schedule.id)) or occurs_at, occurs_at)
            start = previous_occurrence(schedule.cron, zone, first) or schedule.active_since
        snapshot = ScheduleSnapshot(
            id=schedule.id,
            name=schedule.name,
            cron=schedule.cron,
            mode=schedule.mode,
            layout=schedule.layout,
            timezone=schedule.timezone,
            min_stories=schedule.min_stories,
            max_stories=schedule.max_stories,
            subject_template=schedule.subject_template,
            filters=StoryFilters(
                schedule.section, schedule.tag, schedule.language, schedule.source_id
            ),
            active_since=schedule.active_since,
        )
        due.append(
            DueOccurrence(
                snapshot,
                list_name,
                list_language or "en",
                zone,
                occurs_at,
                recorded,
                start,
                list_id=schedule.list_id,
                list_archived=archived_at is not None,
            )
        )
    return due


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CandidateIndex:
    """Candidate stories newest first, with buckets by filter value so that each schedule
    looks only at the stories its most selective filter allows."""

    def __init__(self, stories: Sequence[CandidateStory]) -> None:
        self.all = sorted(stories, key=lambda item: (item.available_at, item.article_id))[::-1]
        self.buckets: dict[tuple[str, object], list[CandidateStory]] = defaultdict(list)
        for story in self.all:
            self.buckets["source", story.source_id].append(story)
            language = (story.language or "").casefold().replace("_", "-").split("-")[0]
            self.buckets["language", language].append(story)
            for section in {value.strip().casefold() for value in story.sections}:
                self.buckets["section", section].append(story)
            for tag in {value.strip().casefold() for value in story.tags}:
                self.buckets["tag", tag].append(story)

    def narrowest(self, filters: StoryFilters) -> list[CandidateStory]:
        """The smallest list that holds every story ``filters`` may take (newest first)."""
        options = [self.all]
        if filters.source_id is not None:
            options.append(self.buckets.get(("source", filters.source_id), []))
        if filters.language:
            primary = filters.language.casefold().replace("_", "-").split("-")[0]
            options.append(self.buckets.get(("language", primary), []))
        if filters.section:
            options.append(self.buckets.get(("section", filters.section.strip().casefold()), []))
        if filters.tag:
            options.append(self.buckets.get(("tag", filters.tag.strip().casefold()), []))
        return min(options, key=len)


def _available_at(
    published: datetime | None, ingested: datetime, embargo: datetime | None
) -> datetime:
    first = as_utc(published) or as_utc(ingested)
    assert first is not None
    released = as_utc(embargo)
    return max(first, released) if released is not None else first


def candidate_stories(session: Session, due: Sequence[DueOccurrence]) -> CandidateIndex:
    """One query for the stories every due schedule may take."""
    earliest = min(item.window_start for item in due)
    latest = max(item.occurs_at for item in due)
    first_published = func.coalesce(Article.published_at, Article.ingested_at)
    rows = session.execute(
        select(
            Article.id,
            Article.title,
            Article.source_id,
            Article.language,
            Article.sections,
            Article.tags,
            Article.published_at,
            Article.ingested_at,
            Article.embargo_until,
        ).where(
            Article.status == ArticleStatus.PUBLISHED,
            first_published <= latest,
            or_(first_published > earliest, Article.embargo_until > earliest),
            or_(Article.embargo_until.is_(None), Article.embargo_until <= latest),
        )
    ).all()
    return CandidateIndex(
        [
            CandidateStory(
                article_id=row.id,
                title=row.title,
                source_id=row.source_id,
                language=row.language,
                sections=tuple(str(value) for value in row.sections or ()),
                tags=tuple(str(value) for value in row.tags or ()),
                available_at=_available_at(row.published_at, row.ingested_at, row.embargo_until),
            )
            for row in rows
        ]
    )


def already_in_issues(session: Session, due: Sequence[DueOccurrence]) -> dict[int, set[int]]:
    """Per schedule, the candidate stories already in one of its issues (one query)."""
    earliest = min(item.window_start for item in due)
    first_published = func.coalesce(Article.published_at, Article.ingested_at)
    rows = session.execute(
        select(ScheduleOccurrence.schedule_id, IssueArticle.article_id)
        .join(IssueArticle, IssueArticle.issue_id == ScheduleOccurrence.issue_id)
        .join(Article, Article.id == IssueArticle.article_id)
        .where(
            ScheduleOccurrence.schedule_id.in_([item.schedule.id for item in due]),
            or_(first_published > earliest, Article.embargo_until > earliest),
        )
    ).all()
    taken: dict[int, set[int]] = defaultdict(set)
    for schedule_id, article_id in rows:
        taken[schedule_id].add(article_id)
    return taken
