"""Managing schedules: create, update, pause, resume, delete, list and show."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import MailingList, Schedule, ScheduleOccurrence, Source
from distributor.domain.schedules import (
    DEFAULT_SUBJECT,
    ScheduleLayout,
    ScheduleMode,
    ScheduleRuleError,
    check_cron,
    check_story_limits,
    check_subject_template,
    check_timezone,
    next_occurrence,
)
from distributor.services import audit


class ScheduleError(ValueError):
    """A schedule action that cannot be done; the message says what and how to fix it."""


_UNSET: Any = object()
# Names appear in desk and API addresses: no spaces, slashes or other reserved characters.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


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
    audit.record(
        session,
        "schedule.create",
        "schedule",
        name,
        changes=audit.diff({}, audit.snapshot(schedule, AUDITED_SCHEDULE_FIELDS)),
    )
    return schedule


AUDITED_SCHEDULE_FIELDS = (
    "list_id",
    "cron",
    "timezone",
    "mode",
    "layout",
    "min_stories",
    "max_stories",
    "subject_template",
    "section",
    "tag",
    "language",
    "source_id",
    "paused",
)


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
    before = audit.snapshot(schedule, AUDITED_SCHEDULE_FIELDS)
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
    changes = audit.diff(before, audit.snapshot(schedule, AUDITED_SCHEDULE_FIELDS))
    if changes:
        audit.record(session, "schedule.update", "schedule", name, changes=changes)
    return schedule


def pause_schedule(session: Session, name: str) -> Schedule:
    """Stop running a schedule (its occurrences while paused never run)."""
    schedule = get_schedule(session, name)
    if not schedule.paused:
        audit.record(session, "schedule.pause", "schedule", name, changes={"paused": [False, True]})
    schedule.paused = True
    session.flush()
    return schedule


def resume_schedule(session: Session, name: str, now: datetime | None = None) -> Schedule:
    """Run a paused schedule again from its next occurrence (none that passed while paused)."""
    schedule = get_schedule(session, name)
    if schedule.paused:
        audit.record(
            session, "schedule.resume", "schedule", name, changes={"paused": [True, False]}
        )
        schedule.paused = False
        schedule.active_since = now or _now()
    session.flush()
    return schedule


def delete_schedule(session: Session, name: str) -> None:
    """Delete a schedule and its occurrence records; the issues it made stay."""
    session.delete(get_schedule(session, name))
    session.flush()
    audit.record(session, "schedule.delete", "schedule", name)


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
