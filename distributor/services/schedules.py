"""Recurring schedules: create, list, show, update, pause, resume, delete, and run the due ones.

:func:`run_due` evaluates every active schedule as of an instant. For each, the latest time its
cron fired (at or before the instant, not before the schedule became active) is its due
occurrence, unless already recorded. The occurrence is *claimed* by inserting its row
(INSERT ... ON CONFLICT DO NOTHING on UNIQUE(schedule_id, occurs_at)) as the first statement of
the transaction that then makes the issue: two schedulers, a restart, a repeated or late tick
cannot make two issues for one occurrence, and a crash before the commit leaves nothing
claimed. Occurrences missed during downtime are recorded ``skipped``; only the latest runs.

An occurrence takes the stories that became available after the previous occurrence that made
an issue (the first time: after the previous time the cron fired) and at or before the
occurrence: available means first published, or, for a story under embargo, the embargo's end
(so an embargoed story goes in the first occurrence after its release). Stories already in an
issue of the schedule, and withdrawn ones, are left out; the newest come first, at most
``max_stories``. Fewer than ``min_stories``: no issue, the occurrence says why.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import (
    Article,
    Issue,
    IssueArticle,
    IssueList,
    MailingList,
    Schedule,
    ScheduleOccurrence,
    Source,
)
from distributor.domain.articles import ArticleStatus
from distributor.domain.header_text import line_break_problem
from distributor.domain.issues import IssueEvent, IssueStatus
from distributor.domain.schedules import (
    DEFAULT_SUBJECT,
    MAX_SKIPPED_RECORDED,
    CandidateStory,
    OccurrenceStatus,
    ScheduleLayout,
    ScheduleMode,
    ScheduleRuleError,
    StoryFilters,
    check_cron,
    check_story_limits,
    check_subject_template,
    check_timezone,
    latest_occurrence,
    next_occurrence,
    occurrences_between,
    previous_occurrence,
    render_subject,
    select_stories,
)
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.transitions import move_all

log = logging.getLogger("distributor.schedules")


class ScheduleError(ValueError):
    """A schedule action that cannot be done; the message says what and how to fix it."""


_UNSET: Any = object()
# Names appear in desk and API addresses: no spaces, slashes or other reserved characters.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


# ------------------------------------------------------------------------------ management
def _now() -> datetime:
    return SYSTEM_CLOCK.now()


def get_schedule(session: Session, name: str) -> Schedule:
    """The schedule called ``name`` or :class:`ScheduleError`."""
    found = session.scalars(select(Schedule).where(Schedule.name == name.strip())).first()
    if found is None:
        raise ScheduleError(f"no schedule is called {name!r} (see 'distributor schedules list')")
    return found


def _find_list(session: Session, list_name: str) -> MailingList:
    found = session.scalars(select(MailingList).where(MailingList.name == list_name)).first()
    if found is None:
        raise ScheduleError(f"--list {list_name!r}: no such list (see 'distributor lists list')")
    if found.archived_at is not None:
        raise ScheduleError(f"--list {list_name!r}: the list is archived")
    return found


def _find_source_id(session: Session, reference: str | None) -> int | None:
    from distributor.services.ingest import SourceError, find_source

    if reference is None or not reference.strip():
        return None
    try:
        return find_source(session, reference).id
    except SourceError as error:
        raise ScheduleError(f"--source {reference!r}: {error}") from None


def _choice(value: str, allowed: type[ScheduleMode] | type[ScheduleLayout], option: str) -> str:
    try:
        return allowed(value.strip().lower()).value
    except ValueError:
        names = "|".join(item.value for item in allowed)
        raise ScheduleError(f"{option} {value!r}: choose {names}") from None


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def create_schedule(
    session: Session,
    name: str,
    *,
    list_name: str,
    cron: str,
    timezone: str,
    mode: str = ScheduleMode.DRAFT,
    layout: str = ScheduleLayout.EXCERPT,
    min_stories: int = 1,
    max_stories: int = 10,
    subject: str | None = None,
    section: str | None = None,
    tag: str | None = None,
    language: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> Schedule:
    """A new active schedule; its first occurrence is the first time the cron fires from now."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ScheduleError(
            f"{name!r}: a schedule name is 1 to 100 letters, digits, dots, dashes or"
            " underscores, starting with a letter or digit"
        )
    if session.scalars(select(Schedule.id).where(Schedule.name == name)).first() is not None:
        raise ScheduleError(f"a schedule called {name!r} exists already")
    try:
        tidy_cron = check_cron(cron)
        check_timezone(timezone)
        check_story_limits(min_stories, max_stories)
        template = check_subject_template(subject if subject is not None else DEFAULT_SUBJECT)
    except ScheduleRuleError as error:
        raise ScheduleError(str(error)) from None
    moment = now or _now()
    schedule = Schedule(
        name=name,
        list_id=_find_list(session, list_name).id,
        cron=tidy_cron,
        timezone=timezone.strip(),
        mode=_choice(mode, ScheduleMode, "--mode"),
        layout=_choice(layout, ScheduleLayout, "--layout"),
        min_stories=min_stories,
        max_stories=max_stories,
        subject_template=template,
        section=_clean(section),
        tag=_clean(tag),
        language=_clean(language),
        source_id=_find_source_id(session, source),
        paused=False,
        active_since=moment,
        created_at=moment,
        updated_at=moment,
    )
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(
    session: Session,
    name: str,
    *,
    list_name: str | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    mode: str | None = None,
    layout: str | None = None,
    min_stories: int | None = None,
    max_stories: int | None = None,
    subject: str | None = None,
    section: str | None = _UNSET,
    tag: str | None = _UNSET,
    language: str | None = _UNSET,
    source: str | None = _UNSET,
    now: datetime | None = None,
) -> Schedule:
    """Change the given settings of a schedule (an empty filter text clears the filter).

    A new cron or zone takes effect from now: no time that passed meanwhile fires.
    """
    schedule = get_schedule(session, name)
    moment = now or _now()
    try:
        if cron is not None or timezone is not None:
            schedule.cron = check_cron(cron) if cron is not None else schedule.cron
            if timezone is not None:
                check_timezone(timezone)
                schedule.timezone = timezone.strip()
            schedule.active_since = moment
        check_story_limits(
            schedule.min_stories if min_stories is None else min_stories,
            schedule.max_stories if max_stories is None else max_stories,
        )
        if subject is not None:
            schedule.subject_template = check_subject_template(subject)
    except ScheduleRuleError as error:
        raise ScheduleError(str(error)) from None
    if min_stories is not None:
        schedule.min_stories = min_stories
    if max_stories is not None:
        schedule.max_stories = max_stories
    if list_name is not None:
        schedule.list_id = _find_list(session, list_name).id
    if mode is not None:
        schedule.mode = _choice(mode, ScheduleMode, "--mode")
    if layout is not None:
        schedule.layout = _choice(layout, ScheduleLayout, "--layout")
    if section is not _UNSET:
        schedule.section = _clean(section)
    if tag is not _UNSET:
        schedule.tag = _clean(tag)
    if language is not _UNSET:
        schedule.language = _clean(language)
    if source is not _UNSET:
        schedule.source_id = _find_source_id(session, source)
    schedule.updated_at = moment
    session.flush()
    return schedule


def pause_schedule(session: Session, name: str) -> Schedule:
    """Stop running a schedule (its occurrences while paused never run)."""
    schedule = get_schedule(session, name)
    schedule.paused = True
    session.flush()
    return schedule


def resume_schedule(session: Session, name: str, now: datetime | None = None) -> Schedule:
    """Run a paused schedule again from its next occurrence (none that passed while paused)."""
    schedule = get_schedule(session, name)
    if schedule.paused:
        schedule.paused = False
        schedule.active_since = now or _now()
    session.flush()
    return schedule


def delete_schedule(session: Session, name: str) -> None:
    """Delete a schedule and its occurrence records; the issues it made stay."""
    session.delete(get_schedule(session, name))
    session.flush()


def list_schedules(session: Session) -> list[Schedule]:
    """Every schedule, by name."""
    return list(session.scalars(select(Schedule).order_by(Schedule.name)))


def schedule_data(
    session: Session, schedule: Schedule, now: datetime | None = None, *, history: int = 0
) -> dict[str, Any]:
    """A schedule as JSON values: settings, next occurrence and, with ``history``, its latest
    occurrences."""
    moment = now or _now()
    list_name = session.scalar(select(MailingList.name).where(MailingList.id == schedule.list_id))
    source = (
        session.scalar(
            select(func.coalesce(func.nullif(Source.name, ""), Source.url)).where(
                Source.id == schedule.source_id
            )
        )
        if schedule.source_id is not None
        else None
    )
    upcoming = None
    if not schedule.paused:
        upcoming = next_occurrence(
            schedule.cron, ZoneInfo(schedule.timezone), max(moment, schedule.active_since)
        )
    data: dict[str, Any] = {
        "name": schedule.name,
        "list": list_name,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "mode": schedule.mode,
        "layout": schedule.layout,
        "min_stories": schedule.min_stories,
        "max_stories": schedule.max_stories,
        "subject": schedule.subject_template,
        "section": schedule.section,
        "tag": schedule.tag,
        "language": schedule.language,
        "source": source,
        "paused": schedule.paused,
        "next_occurrence": upcoming.isoformat() if upcoming else None,
        "next_occurrence_local": (
            upcoming.astimezone(ZoneInfo(schedule.timezone)).isoformat(timespec="minutes")
            if upcoming
            else None
        ),
    }
    if history:
        rows = session.scalars(
            select(ScheduleOccurrence)
            .where(ScheduleOccurrence.schedule_id == schedule.id)
            .order_by(ScheduleOccurrence.occurs_at.desc())
            .limit(history)
        )
        data["occurrences"] = [
            {
                "occurs_at": row.occurs_at.isoformat(),
                "status": row.status,
                "issue_id": row.issue_id,
                "reason": row.reason,
            }
            for row in rows
        ]
    return data


# --------------------------------------------------------------------------------- running
@dataclass
class OccurrenceResult:
    """What became of one occurrence run by :func:`run_due`."""

    schedule: str
    occurs_at: datetime
    status: str
    issue_id: int | None = None
    issue_status: str | None = None
    stories: int = 0
    skipped: int = 0
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON values."""
        return {
            "schedule": self.schedule,
            "occurs_at": self.occurs_at.isoformat(),
            "status": self.status,
            "issue_id": self.issue_id,
            "issue_status": self.issue_status,
            "stories": self.stories,
            "skipped": self.skipped,
            "reason": self.reason,
        }


@dataclass
class RunReport:
    """What one :func:`run_due` call did (occurrences it ran, in schedule order)."""

    occurrences: list[OccurrenceResult] = field(default_factory=list)

    @property
    def created(self) -> list[OccurrenceResult]:
        """The occurrences that made an issue."""
        return [item for item in self.occurrences if item.issue_id is not None]


@dataclass(frozen=True, slots=True)
class _Settings:
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
class _Due:
    schedule: _Settings
    list_name: str
    list_language: str
    zone: ZoneInfo
    occurs_at: datetime
    last_recorded: datetime | None
    window_start: datetime
    list_id: int
    list_archived: bool


def _apply_layout(issue_values: dict[str, Any], layout: str) -> None:
    """Give the new issue (its column values) the schedule's layout, where issues have one."""
    if "layout" in Issue.__table__.columns:
        issue_values["layout"] = layout


def _due_schedules(session: Session, now: datetime) -> list[_Due]:
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
    due: list[_Due] = []
    for schedule, list_name, list_language, archived_at in rows:
        try:
            zone = ZoneInfo(schedule.timezone)
            occurs_at = latest_occurrence(schedule.cron, zone, now)
        except (ValueError, KeyError):
            log.error("schedule %s has an unusable cron or zone; fix it", schedule.id)
            continue
        if occurs_at is None or occurs_at < schedule.active_since:
            continue
        recorded = _as_utc(last_any.get(schedule.id))
        if recorded is not None and recorded >= occurs_at:
            continue
        # After the last occurrence that made an issue; before any did, after the time the
        # cron fired before the schedule's first occurrence (stories of a "too few" one wait).
        start = _as_utc(last_created.get(schedule.id))
        if start is None:
            first = min(_as_utc(first_any.get(schedule.id)) or occurs_at, occurs_at)
            start = previous_occurrence(schedule.cron, zone, first) or schedule.active_since
        snapshot = _Settings(
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
            _Due(
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


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _CandidateIndex:
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
    first = _as_utc(published) or _as_utc(ingested)
    assert first is not None
    released = _as_utc(embargo)
    return max(first, released) if released is not None else first


def _candidates(session: Session, due: Sequence[_Due]) -> _CandidateIndex:
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
    return _CandidateIndex(
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


def _already_sent(session: Session, due: Sequence[_Due]) -> dict[int, set[int]]:
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


def _insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for this session's database (SQLite or PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def run_due(session: Session, now: datetime | None = None) -> RunReport:
    """Run the latest due occurrence of every active schedule, once. Commits per chunk.

    Safe to call from several processes at once: an occurrence belongs to the call whose
    INSERT of its row commits; the others find the row and skip it.
    """
    moment = now or _now()
    if moment.tzinfo is None:
        raise ScheduleError("run_due needs an aware instant")
    report = RunReport()
    session.commit()
    due = _due_schedules(session, moment)
    if not due:
        return report
    index = _candidates(session, due)
    taken = _already_sent(session, due)
    # End the read transaction: each claim below must be the first statement of its own
    # (SQLite refuses to turn a read transaction into a write once another writer committed).
    session.commit()
    for start in range(0, len(due), _CHUNK):
        report.occurrences.extend(
            _run_chunk(session, due[start : start + _CHUNK], index, taken, moment)
        )
    return report


# Schedules whose occurrences are claimed and made in one transaction.
_CHUNK = 200


@dataclass
class _Plan:
    """What one claimed occurrence makes."""

    item: _Due
    occurrence_id: int
    result: OccurrenceResult
    stories: list[CandidateStory] = field(default_factory=list)
    issue_values: dict[str, Any] | None = None


def _run_chunk(
    session: Session,
    chunk: Sequence[_Due],
    index: _CandidateIndex,
    taken: dict[int, set[int]],
    now: datetime,
) -> list[OccurrenceResult]:
    """Claim and run the occurrences of ``chunk`` in one transaction, with a few statements
    for the whole chunk (issue creation is batched). Commits."""
    try:
        claimed = _claim_occurrences(session, chunk)
        if not claimed:
            session.rollback()
            return []
        plans = [
            _plan(item, occurrence_id, index, taken.get(item.schedule.id, set()))
            for item, occurrence_id in claimed
        ]
        _record_skipped(session, plans)
        _make_issues(session, [plan for plan in plans if plan.issue_values is not None], now)
        session.execute(
            update(ScheduleOccurrence),
            [
                {
                    "id": plan.occurrence_id,
                    "status": plan.result.status,
                    "issue_id": plan.result.issue_id,
                    "reason": plan.result.reason,
                }
                for plan in plans
            ],
        )
        session.commit()
    except SQLAlchemyError:
        # Another scheduler holds the database (SQLite) or the rows: it runs these
        # occurrences, or the next tick does. Nothing of this chunk was committed.
        session.rollback()
        log.warning("%s schedules not run now; retried on the next tick", len(chunk))
        return []
    return [plan.result for plan in plans]


def _claim_occurrences(session: Session, chunk: Sequence[_Due]) -> list[tuple[_Due, int]]:
    """Insert the chunk's occurrence rows; those this call inserted, with their ids."""
    by_schedule = {item.schedule.id: item for item in chunk}
    statement = (
        _insert_ignoring_duplicates(session, ScheduleOccurrence)
        .values(
            [
                {
                    "schedule_id": item.schedule.id,
                    "occurs_at": item.occurs_at,
                    "status": OccurrenceStatus.CREATED.value,
                    "created_at": _now(),
                }
                for item in chunk
            ]
        )
        .on_conflict_do_nothing(index_elements=["schedule_id", "occurs_at"])
        .returning(ScheduleOccurrence.schedule_id, ScheduleOccurrence.id)
    )
    rows = session.execute(statement).all()
    return sorted(
        ((by_schedule[schedule_id], occurrence_id) for schedule_id, occurrence_id in rows),
        key=lambda pair: pair[0].schedule.id,
    )


def _record_skipped(session: Session, plans: Sequence[_Plan]) -> None:
    """Record the occurrences each schedule missed before its claimed one (downtime)."""
    values: list[dict[str, Any]] = []
    for plan in plans:
        item, schedule = plan.item, plan.item.schedule
        missed = occurrences_between(
            schedule.cron,
            item.zone,
            item.last_recorded or max(schedule.active_since, item.window_start),
            item.occurs_at,
            MAX_SKIPPED_RECORDED,
        )
        reason = f"missed (the service was not running); {item.occurs_at.isoformat()} ran"
        values.extend(
            {
                "schedule_id": schedule.id,
                "occurs_at": moment,
                "status": OccurrenceStatus.SKIPPED.value,
                "reason": reason,
                "created_at": _now(),
            }
            for moment in missed
            if moment >= schedule.active_since
        )
    if not values:
        return
    statement = (
        _insert_ignoring_duplicates(session, ScheduleOccurrence)
        .values(values)
        .on_conflict_do_nothing(index_elements=["schedule_id", "occurs_at"])
        .returning(ScheduleOccurrence.schedule_id)
    )
    counts: dict[int, int] = defaultdict(int)
    for (schedule_id,) in session.execute(statement):
        counts[schedule_id] += 1
    for plan in plans:
        plan.result.skipped = counts.get(plan.item.schedule.id, 0)


def _plan(item: _Due, occurrence_id: int, index: _CandidateIndex, taken: set[int]) -> _Plan:
    """Choose the stories of one occurrence and the issue it makes (or why it makes none)."""
    schedule = item.schedule
    result = OccurrenceResult(schedule.name, item.occurs_at, OccurrenceStatus.CREATED)
    plan = _Plan(item, occurrence_id, result)
    stories = select_stories(
        index.narrowest(schedule.filters),
        schedule.filters,
        after=item.window_start,
        until=item.occurs_at,
        exclude=taken,
        limit=schedule.max_stories,
    )
    result.stories = len(stories)
    minimum = max(1, schedule.min_stories)
    if len(stories) < minimum:
        result.status = OccurrenceStatus.TOO_FEW
        result.reason = (
            f"{len(stories)} new stor{'y' if len(stories) == 1 else 'ies'} matched"
            f" since {item.window_start.isoformat()}; the minimum is {minimum}"
        )
        return plan
    if item.list_archived:
        result.status = OccurrenceStatus.FAILED
        result.reason = f"no issue made: the list {item.list_name} is archived"
        return plan
    try:
        subject = render_subject(
            schedule.subject_template,
            occurs_at=item.occurs_at,
            zone=item.zone,
            language=item.list_language,
            count=len(stories),
            first_title=stories[0].title,
        )
    except ScheduleRuleError as error:  # a template changed in the database by hand
        result.status = OccurrenceStatus.FAILED
        result.reason = f"no issue made: {error}"
        return plan
    problem = line_break_problem("subject", subject)
    if problem or not subject.strip():
        result.status = OccurrenceStatus.FAILED
        result.reason = f"no issue made: {problem or 'the subject is empty'}"
        return plan
    # As an issue made by hand: the stories' common language, else the list's.
    languages = {story.language or "en" for story in stories}
    plan.stories = stories
    plan.issue_values = {
        "subject": subject.strip(),
        "language": languages.pop() if len(languages) == 1 else item.list_language,
        "status": IssueStatus.DRAFT.value,
    }
    _apply_layout(plan.issue_values, schedule.layout)
    return plan


def _make_issues(session: Session, plans: Sequence[_Plan], now: datetime) -> None:
    """Insert the planned draft issues (a few statements for all); schedule the ``auto`` ones
    at their occurrence and record the desk notifications of the drafts."""
    if not plans:
        return
    rows = session.execute(
        insert(Issue).returning(Issue.id, sort_by_parameter_order=True),
        [{**(plan.issue_values or {}), "created_at": now, "updated_at": now} for plan in plans],
    ).all()
    for plan, (issue_id,) in zip(plans, rows, strict=True):
        plan.result.issue_id = issue_id
        plan.result.issue_status = IssueStatus.DRAFT.value
    session.execute(
        insert(IssueArticle),
        [
            {"issue_id": plan.result.issue_id, "article_id": story.article_id, "position": place}
            for plan in plans
            for place, story in enumerate(plan.stories)
        ],
    )
    session.execute(
        insert(IssueList),
        [{"issue_id": plan.result.issue_id, "list_id": plan.item.list_id} for plan in plans],
    )
    automatic = [plan for plan in plans if plan.item.schedule.mode == ScheduleMode.AUTO]
    _schedule_automatic(session, automatic, now)
    drafts = [plan for plan in plans if plan.result.issue_status == IssueStatus.DRAFT]
    for plan in drafts:
        detail = plan.result.reason or (
            f"Made by the schedule {plan.item.schedule.name} from {plan.result.stories}"
            " new stories."
        )
        record_notification(
            session, NotificationKind.DRAFT_READY, plan.result.issue_id or 0, detail=detail
        )


def _schedule_automatic(session: Session, plans: Sequence[_Plan], now: datetime) -> None:
    """Schedule each ``auto`` issue at its occurrence, as ``issues schedule`` would: through
    the lifecycle's compare-and-set, refused while a story is still under embargo then."""
    from distributor.services.issues import embargoed_article_condition

    groups: dict[tuple[datetime, str], list[_Plan]] = defaultdict(list)
    for plan in plans:
        groups[plan.item.occurs_at, plan.item.schedule.timezone].append(plan)
    for (occurs_at, timezone), members in groups.items():
        ids = [plan.result.issue_id for plan in members]
        blocked = set(
            session.scalars(
                select(Issue.id).where(
                    Issue.id.in_(ids), embargoed_article_condition(Issue.id, occurs_at)
                )
            )
        )
        allowed = [issue_id for issue_id in ids if issue_id not in blocked]
        move_all(
            session,
            IssueEvent.SCHEDULE,
            Issue.id.in_(allowed),
            values={
                "send_at": occurs_at,
                "schedule_timezone": timezone,
                "schedule_local": occurs_at.astimezone(ZoneInfo(timezone)).isoformat(
                    timespec="minutes"
                ),
                "paused_reason": None,
                "updated_at": now,
            },
        )
        for plan in members:
            if plan.result.issue_id in blocked:
                plan.result.reason = (
                    "left as a draft, not sent: a story is still under embargo at"
                    f" {occurs_at.isoformat()}"
                )
            else:
                plan.result.issue_status = IssueStatus.SCHEDULED.value
