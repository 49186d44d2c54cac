"""Running the due occurrences: claim each by inserting its row, make the issues in a few
statements per chunk of schedules, schedule the ``auto`` ones, tell the desk of the drafts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import Issue, IssueArticle, IssueList, ScheduleOccurrence
from distributor.domain.header_text import line_break_problem
from distributor.domain.issues import IssueEvent, IssueStatus
from distributor.domain.schedules import (
    MAX_SKIPPED_RECORDED,
    CandidateStory,
    OccurrenceStatus,
    ScheduleMode,
    ScheduleRuleError,
    occurrences_between,
    render_subject,
    select_stories,
)
from distributor.services.desk_notifications import NotificationKind, record_notification
from distributor.services.schedules.due import (
    CandidateIndex,
    DueOccurrence,
    already_in_issues,
    candidate_stories,
    due_occurrences,
)
from distributor.services.schedules.manage import ScheduleError
from distributor.services.transitions import move_all

log = logging.getLogger("distributor.schedules")


def _now() -> datetime:
    return SYSTEM_CLOCK.now()


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


def _apply_layout(issue_values: dict[str, Any], layout: str) -> None:
    """Give the new issue (its column values) the schedule's layout, where issues have one."""
    if "layout" in Issue.__table__.columns:
        issue_values["layout"] = layout


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
    due = due_occurrences(session, moment)
    if not due:
        return report
    index = candidate_stories(session, due)
    taken = already_in_issues(session, due)
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

    item: DueOccurrence
    occurrence_id: int
    result: OccurrenceResult
    stories: list[CandidateStory] = field(default_factory=list)
    issue_values: dict[str, Any] | None = None


def _run_chunk(
    session: Session,
    chunk: Sequence[DueOccurrence],
    index: CandidateIndex,
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


def _claim_occurrences(
    session: Session, chunk: Sequence[DueOccurrence]
) -> list[tuple[DueOccurrence, int]]:
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


def _plan(item: DueOccurrence, occurrence_id: int, index: CandidateIndex, taken: set[int]) -> _Plan:
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
