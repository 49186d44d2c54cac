"""Recurring schedules: cron times in a time zone, the story filters, the subject (pure).

A schedule fires when its standard 5-field cron expression matches the wall clock of its IANA
zone. The cron library (cronsim) walks wall-clock times the way cron does across daylight
saving changes: a time in the hour that is skipped in spring happens once, at the first
minute after the gap; a time in the hour that repeats in autumn happens once, the first time.
(Expressions whose hour field is ``*`` fire in both passes of a repeated hour: real time goes
on.) Every instant here is aware; results are in UTC.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from cronsim import CronSim, CronSimError


class ScheduleRuleError(ValueError):
    """A schedule setting that cannot be used; the message names the setting and the fix."""


class ScheduleMode(StrEnum):
    """``draft``: an editor reviews and schedules the issue; ``auto``: it is sent at once."""

    DRAFT = "draft"
    AUTO = "auto"


class ScheduleLayout(StrEnum):
    """How the issue shows each story: the whole story or today's excerpt."""

    FULL = "full"
    EXCERPT = "excerpt"


class OccurrenceStatus(StrEnum):
    """What became of one occurrence of a schedule.

    ``created``: an issue was made (it may still be blocked: ``reason`` says so); ``skipped``:
    missed during downtime, a later occurrence was run instead; ``too_few``: fewer new stories
    than the minimum; ``failed``: the issue could not be made (``reason`` says why).
    """

    CREATED = "created"
    SKIPPED = "skipped"
    TOO_FEW = "too_few"
    FAILED = "failed"


SUBJECT_FIELDS = ("date", "count", "first_title")
DEFAULT_SUBJECT = "{date}: {first_title}"
_ONE_SECOND = timedelta(seconds=1)
# After a long downtime, at most this many missed occurrences are recorded one by one.
MAX_SKIPPED_RECORDED = 100


# ------------------------------------------------------------------------------------ cron
def check_cron(expression: str) -> str:
    """``expression`` (standard 5 fields) tidied, or :class:`ScheduleRuleError`."""
    tidy = " ".join(expression.split())
    if len(tidy.split(" ")) != 5:
        raise ScheduleRuleError(
            f"--cron {expression!r}: a cron expression has 5 fields (minute hour day-of-month"
            ' month day-of-week), e.g. "0 8 * * fri"'
        )
    try:
        CronSim(tidy, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ScheduleRuleError(f"--cron {expression!r}: {error}") from None
    return tidy


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or :class:`ScheduleRuleError`."""
    try:
        if not name.strip():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleRuleError(
            f"--timezone {name!r}: not an IANA time zone name (e.g. Asia/Hong_Kong, Europe/London"
            ", UTC)"
        ) from None


def check_story_limits(min_stories: int, max_stories: int) -> None:
    """Refuse limits that can never be met."""
    if min_stories < 0:
        raise ScheduleRuleError(f"--min-stories {min_stories}: must be 0 or more")
    if max_stories < 1:
        raise ScheduleRuleError(f"--max-stories {max_stories}: must be 1 or more")
    if min_stories > max_stories:
        raise ScheduleRuleError(
            f"--min-stories {min_stories} is more than --max-stories {max_stories}"
        )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed (attach a time zone)")
    return moment


def _walk(cron: str, zone: ZoneInfo, start: datetime, *, reverse: bool) -> Iterator[datetime]:
    """Fire times after (before, when ``reverse``) ``start``, as UTC instants."""
    try:
        walk = CronSim(cron, _aware(start).astimezone(zone), reverse=reverse)
    except CronSimError as error:
        raise ScheduleRuleError(f"cron {cron!r}: {error}") from None
    for local in walk:
        yield local.astimezone(UTC)


def latest_occurrence(cron: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The latest time ``cron`` fires at or before ``at`` (UTC), or None (never)."""
    # The walk starts strictly after (before) its start: begin one second after ``at``.
    probe = _aware(at).replace(microsecond=0) + _ONE_SECOND
    for moment in _walk(cron, zone, probe, reverse=True):
        return moment if moment <= at else None
    return None


def previous_occurrence(cron: str, zone: ZoneInfo, before: datetime) -> datetime | None:
    """The latest time ``cron`` fires strictly before ``before`` (UTC), or None."""
    for moment in _walk(cron, zone, before, reverse=True):
        if moment < before:
            return moment
    return None


def next_occurrence(cron: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first time ``cron`` fires strictly after ``after`` (UTC), or None."""
    for moment in _walk(cron, zone, after, reverse=False):
        if moment > after:
            return moment
    return None


def occurrences_between(
    cron: str, zone: ZoneInfo, after: datetime, before: datetime, limit: int
) -> list[datetime]:
    """Up to ``limit`` fire times in the open interval (``after``, ``before``), latest first."""
    found: list[datetime] = []
    for moment in _walk(cron, zone, before, reverse=True):
        if moment <= after or len(found) >= limit:
            break
        if moment < before:
            found.append(moment)
    return found


# --------------------------------------------------------------------------------- filters
@dataclass(frozen=True, slots=True)
class StoryFilters:
    """Which stories a schedule takes; an empty filter takes all. Matching ignores case, and
    a language filter ``zh`` takes ``zh-Hant`` too."""

    section: str | None = None
    tag: str | None = None
    language: str | None = None
    source_id: int | None = None

    def matches(self, story: CandidateStory) -> bool:
        """True when ``story`` passes every filter that is set."""
        if self.source_id is not None and story.source_id != self.source_id:
            return False
        if self.language and not language_matches(self.language, story.language):
            return False
        if self.section and not _contains(story.sections, self.section):
            return False
        return not (self.tag and not _contains(story.tags, self.tag))


def _contains(values: Sequence[str], wanted: str) -> bool:
    target = wanted.strip().casefold()
    return any(str(value).strip().casefold() == target for value in values)


def language_matches(wanted: str, language: str | None) -> bool:
    """``language`` is ``wanted`` or a variant of it (``zh`` takes ``zh-Hant``)."""
    have = (language or "").strip().casefold().replace("_", "-")
    want = wanted.strip().casefold().replace("_", "-")
    return have == want or have.startswith(want + "-")


@dataclass(frozen=True, slots=True)
class CandidateStory:
    """What story selection needs to know about one stored story."""

    article_id: int
    title: str
    source_id: int
    language: str | None
    sections: tuple[str, ...]
    tags: tuple[str, ...]
    # When readers could first have it: its first publication, or its embargo's end if later.
    available_at: datetime


def select_stories(
    candidates: Sequence[CandidateStory],
    filters: StoryFilters,
    *,
    after: datetime,
    until: datetime,
    exclude: frozenset[int] | set[int],
    limit: int,
) -> list[CandidateStory]:
    """The newest ``limit`` stories available in (``after``, ``until``] that match ``filters``
    and are not in ``exclude``. ``candidates`` must be newest first (by ``available_at``)."""
    chosen: list[CandidateStory] = []
    for story in candidates:
        if story.available_at > until:
            continue
        if story.available_at <= after or len(chosen) >= limit:
            break
        if story.article_id in exclude or not filters.matches(story):
            continue
        chosen.append(story)
    return chosen


# --------------------------------------------------------------------------------- subject
def check_subject_template(template: str) -> str:
    """``template`` if it uses only ``{date}``, ``{count}`` and ``{first_title}``."""
    if not template.strip():
        raise ScheduleRuleError("--subject: the subject template is empty")
    if "\n" in template or "\r" in template:
        raise ScheduleRuleError("--subject: a subject is one line (no line breaks)")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ScheduleRuleError(
            f"--subject {template!r}: {error} (write {{{{ and }}}} for literal braces)"
        ) from None
    allowed = ", ".join("{" + name + "}" for name in SUBJECT_FIELDS)
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in SUBJECT_FIELDS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ScheduleRuleError(
                f"--subject {template!r}: unknown field {shown}; the fields are {allowed}"
            )
    return template.strip()


def babel_locale(language: str | None) -> Locale:
    """The Babel locale of a BCP 47 tag (``en-GB``, ``zh-Hant``); English when unknown."""
    try:
        return Locale.parse((language or "en").replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse((language or "en").split("-")[0])
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")


def render_subject(
    template: str,
    *,
    occurs_at: datetime,
    zone: ZoneInfo,
    language: str | None,
    count: int,
    first_title: str,
) -> str:
    """The subject of an occurrence's issue: ``{date}`` is the occurrence's date in the
    schedule's zone, written the way the list's language writes dates."""
    local_date = _aware(occurs_at).astimezone(zone).date()
    date_text = format_date(local_date, format="long", locale=babel_locale(language))
    title = " ".join(first_title.split())
    subject = check_subject_template(template).format(
        date=date_text, count=count, first_title=title
    )
    return subject[:500]
