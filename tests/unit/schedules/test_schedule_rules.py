"""Schedule rules (pure): cron times across daylight saving, filters, limits, subjects."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from distributor.domain.schedules import (
    CandidateStory,
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

LONDON = ZoneInfo("Europe/London")
HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def fires(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in (start, end], walking forward one occurrence at a time."""
    found: list[datetime] = []
    moment = next_occurrence(cron, zone, start)
    while moment is not None and moment <= end:
        found.append(moment)
        moment = next_occurrence(cron, zone, moment)
    return found


# ------------------------------------------------------------------------------ daylight saving
def test_london_spring_forward_a_time_in_the_skipped_hour_happens_once() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST; 01:30 never shows on a London clock.
    times = fires("30 1 * * *", LONDON, utc(2026, 3, 27, 12), utc(2026, 3, 31, 12))
    assert times == [
        utc(2026, 3, 28, 1, 30),  # 01:30 GMT
        utc(2026, 3, 29, 1, 0),  # once, at 02:00 BST, the first minute after the gap
        utc(2026, 3, 30, 0, 30),  # 01:30 BST
        utc(2026, 3, 31, 0, 30),
    ]


def test_london_autumn_back_a_time_in_the_repeated_hour_happens_once() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:30 shows twice on a London clock.
    times = fires("30 1 * * *", LONDON, utc(2026, 10, 23, 12), utc(2026, 10, 27, 12))
    assert times == [
        utc(2026, 10, 24, 0, 30),  # 01:30 BST
        utc(2026, 10, 25, 0, 30),  # the first 01:30 (BST) only
        utc(2026, 10, 26, 1, 30),  # 01:30 GMT
        utc(2026, 10, 27, 1, 30),
    ]


def test_london_weekly_send_keeps_its_wall_clock_time_across_both_changes() -> None:
    times = fires("0 8 * * fri", LONDON, utc(2026, 3, 20), utc(2026, 11, 1))
    local = {moment.astimezone(LONDON).strftime("%H:%M %a") for moment in times}
    assert local == {"08:00 Fri"}
    assert utc(2026, 3, 27, 8) in times
    assert utc(2026, 4, 3, 7) in times
    assert utc(2026, 10, 23, 7) in times
    assert utc(2026, 10, 30, 8) in times


def test_latest_and_previous_occurrence_across_the_spring_gap() -> None:
    assert latest_occurrence("30 1 * * *", LONDON, utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 1)
    assert latest_occurrence("30 1 * * *", LONDON, utc(2026, 3, 29, 0, 59)) == utc(
        2026, 3, 28, 1, 30
    )
    assert previous_occurrence("30 1 * * *", LONDON, utc(2026, 3, 29, 1)) == utc(2026, 3, 28, 1, 30)


def test_latest_occurrence_in_the_repeated_hour_is_the_first_pass() -> None:
    # During the second 01:30 (GMT) the latest occurrence is still the first one (BST).
    assert latest_occurrence("30 1 * * *", LONDON, utc(2026, 10, 25, 1, 45)) == utc(
        2026, 10, 25, 0, 30
    )


def test_hong_kong_has_no_daylight_saving() -> None:
    times = fires("0 8 * * fri", HONG_KONG, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(times) == 53  # 2 January 2026 to 1 January 2027
    assert all(moment.hour == 0 and moment.minute == 0 for moment in times)  # 08:00 +08:00
    assert all(moment.astimezone(HONG_KONG).weekday() == 4 for moment in times)
    gaps = {later - earlier for earlier, later in itertools.pairwise(times)}
    assert gaps == {timedelta(days=7)}


def test_latest_occurrence_is_at_or_before_the_instant() -> None:
    friday_eight = utc(2026, 12, 4, 0, 0)  # Friday 08:00 in Hong Kong
    assert latest_occurrence("0 8 * * fri", HONG_KONG, friday_eight) == friday_eight
    assert latest_occurrence("0 8 * * fri", HONG_KONG, friday_eight - timedelta(seconds=1)) == (
        friday_eight - timedelta(days=7)
    )


def test_occurrences_between_are_latest_first_and_capped() -> None:
    found = occurrences_between("0 * * * *", HONG_KONG, utc(2026, 1, 1), utc(2026, 1, 1, 5), 3)
    assert found == [utc(2026, 1, 1, 4), utc(2026, 1, 1, 3), utc(2026, 1, 1, 2)]


# ------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("expression", "words"),
    [("0 8 * *", "5 fields"), ("61 8 * * *", "--cron"), ("0 8 * * funday", "--cron")],
)
def test_bad_cron_is_refused_with_the_option_named(expression: str, words: str) -> None:
    with pytest.raises(ScheduleRuleError, match=words):
        check_cron(expression)


def test_cron_is_tidied() -> None:
    assert check_cron("  0  8 * *   fri ") == "0 8 * * fri"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd"])
def test_bad_zone_is_refused(name: str) -> None:
    with pytest.raises(ScheduleRuleError, match="--timezone"):
        check_timezone(name)


def test_limits() -> None:
    check_story_limits(0, 1)
    with pytest.raises(ScheduleRuleError, match="--min-stories 5 is more than --max-stories 3"):
        check_story_limits(5, 3)
    with pytest.raises(ScheduleRuleError, match="--max-stories"):
        check_story_limits(0, 0)


# ---------------------------------------------------------------------------------- subject
def test_subject_fields_and_localised_date() -> None:
    friday = utc(2026, 12, 3, 23, 30)  # already Friday 4 December in Hong Kong
    english = render_subject(
        "{date}: {count} stories, led by {first_title}",
        occurs_at=friday,
        zone=HONG_KONG,
        language="en-GB",
        count=3,
        first_title="Ferries\nreturn",
    )
    assert english == "4 December 2026: 3 stories, led by Ferries return"
    chinese = render_subject(
        "{date}", occurs_at=friday, zone=HONG_KONG, language="zh-Hant", count=1, first_title="x"
    )
    assert chinese == "2026年12月4日"
    unknown_language = render_subject(
        "{date}", occurs_at=friday, zone=HONG_KONG, language="xx-Nope", count=1, first_title="x"
    )
    assert unknown_language == "December 4, 2026"


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{title}", "{title}"),
        ("{first_title.__class__}", "{first_title.__class__}"),
        ("{count!r}", "{count!r}"),
        ("{date:%Y}", "{date:%Y}"),
        ("{0}", "{0}"),
    ],
)
def test_unknown_subject_fields_are_refused_by_name(template: str, shown: str) -> None:
    with pytest.raises(ScheduleRuleError) as caught:
        check_subject_template(template)
    assert f"unknown field {shown}" in str(caught.value)
    assert "{date}, {count}, {first_title}" in str(caught.value)


def test_broken_or_empty_templates_are_refused() -> None:
    for template in ("{date", "", "two\nlines"):
        with pytest.raises(ScheduleRuleError, match="--subject"):
            check_subject_template(template)
    assert check_subject_template("{{literal}} {date}") == "{{literal}} {date}"


# ---------------------------------------------------------------------------------- filters
def story(number: int, hour: int, **changes: object) -> CandidateStory:
    values: dict[str, object] = {
        "article_id": number,
        "title": f"Story {number}",
        "source_id": 1,
        "language": "en",
        "sections": ("News",),
        "tags": ("rivers",),
        "available_at": utc(2026, 12, 1, hour),
    }
    values.update(changes)
    return CandidateStory(**values)  # type: ignore[arg-type]


STORIES = [  # newest first
    story(6, 12, language="zh-Hant", sections=("World",)),
    story(5, 11, tags=("Ferries", "rivers")),
    story(4, 10, source_id=2),
    story(3, 9, sections=("Sport",), tags=()),
    story(2, 8),
    story(1, 7),
]


def chosen(filters: StoryFilters, limit: int = 10, **window: object) -> list[int]:
    picked = select_stories(
        STORIES,
        filters,
        after=window.get("after", utc(2026, 12, 1, 7)),  # type: ignore[arg-type]
        until=window.get("until", utc(2026, 12, 1, 12)),  # type: ignore[arg-type]
        exclude=window.get("exclude", set()),  # type: ignore[arg-type]
        limit=limit,
    )
    return [item.article_id for item in picked]


def test_window_is_after_the_previous_and_up_to_the_occurrence() -> None:
    assert chosen(StoryFilters()) == [6, 5, 4, 3, 2]  # story 1 is at "after" exactly
    assert chosen(StoryFilters(), until=utc(2026, 12, 1, 10)) == [4, 3, 2]


def test_newest_first_at_most_max_and_excluded_stories_left_out() -> None:
    assert chosen(StoryFilters(), limit=2) == [6, 5]
    assert chosen(StoryFilters(), limit=2, exclude={6}) == [5, 4]


def test_each_filter() -> None:
    assert chosen(StoryFilters(section="sport")) == [3]
    assert chosen(StoryFilters(tag="FERRIES")) == [5]
    assert chosen(StoryFilters(language="zh")) == [6]
    assert chosen(StoryFilters(language="zh-hant")) == [6]
    assert chosen(StoryFilters(language="en")) == [5, 4, 3, 2]
    assert chosen(StoryFilters(source_id=2)) == [4]
    assert chosen(StoryFilters(section="news", tag="rivers", source_id=1)) == [5, 2]
