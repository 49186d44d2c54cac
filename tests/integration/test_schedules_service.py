"""Running recurring schedules on SQLite and PostgreSQL: exactly once per occurrence (two
schedulers at once, a restart), catch-up after downtime, story windows, filters, min/max,
draft and auto."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.db.models import (
    DeskNotification,
    Issue,
    IssueArticle,
    ScheduleOccurrence,
)
from distributor.db.session import session_factory
from distributor.domain.issues import IssueStatus
from distributor.services.schedules import (
    ScheduleError,
    create_schedule,
    pause_schedule,
    resume_schedule,
    run_due,
    update_schedule,
)
from tests.factories.audience import make_list
from tests.factories.schedules import story

# Fridays at 08:00 in Hong Kong are Fridays at 00:00 UTC.
CREATED = datetime(2026, 11, 23, 12, tzinfo=UTC)  # a Monday
FRIDAY_1 = datetime(2026, 11, 27, tzinfo=UTC)
FRIDAY_2 = FRIDAY_1 + timedelta(days=7)
FRIDAY_3 = FRIDAY_2 + timedelta(days=7)
FRIDAY_4 = FRIDAY_3 + timedelta(days=7)


def weekly(db: Session, name: str = "friday", **options: object) -> None:
    values: dict[str, object] = {
        "list_name": "weekly",
        "cron": "0 8 * * fri",
        "timezone": "Asia/Hong_Kong",
        "now": CREATED,
    }
    values.update(options)
    create_schedule(db, name, **values)  # type: ignore[arg-type]
    db.commit()


def issue_stories(db: Session, issue_id: int) -> list[int]:
    return list(
        db.scalars(
            select(IssueArticle.article_id)
            .where(IssueArticle.issue_id == issue_id)
            .order_by(IssueArticle.position)
        )
    )


def occurrences(db: Session) -> list[tuple[datetime, str]]:
    db.expire_all()
    return [
        (row.occurs_at, row.status)
        for row in db.scalars(select(ScheduleOccurrence).order_by(ScheduleOccurrence.occurs_at))
    ]


@pytest.fixture
def newsroom(db: Session) -> Session:
    make_list(db)
    db.commit()
    return db


def test_first_occurrence_takes_stories_since_the_previous_cron_time(newsroom: Session) -> None:
    db = newsroom
    old = story(db, 1, FRIDAY_1 - timedelta(days=8))  # before the previous Friday: too old
    first = story(db, 2, FRIDAY_1 - timedelta(days=3))
    second = story(db, 3, FRIDAY_1 - timedelta(hours=1), title="Tide tables change")
    late = story(db, 4, FRIDAY_1 + timedelta(minutes=5))  # after the occurrence
    db.commit()
    weekly(db, subject="{date}: {count} stories, first {first_title}")
    assert run_due(db, FRIDAY_1 - timedelta(minutes=1)).occurrences == []
    report = run_due(db, FRIDAY_1 + timedelta(minutes=10))
    [result] = report.occurrences
    assert result.status == "created"
    assert result.occurs_at == FRIDAY_1
    issue = db.get(Issue, result.issue_id)
    assert issue is not None
    assert issue.status == IssueStatus.DRAFT
    assert issue.subject == "November 27, 2026: 2 stories, first Tide tables change"
    assert issue_stories(db, issue.id) == [second.id, first.id]
    assert old.id not in issue_stories(db, issue.id)
    # The next occurrence takes what came after this one, and nothing twice.
    report = run_due(db, FRIDAY_2)
    assert issue_stories(db, report.occurrences[0].issue_id or 0) == [late.id]


def test_an_occurrence_is_run_once_however_often_run_due_is_called(newsroom: Session) -> None:
    db = newsroom
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    weekly(db)
    assert len(run_due(db, FRIDAY_1).occurrences) == 1
    assert run_due(db, FRIDAY_1 + timedelta(minutes=1)).occurrences == []
    # A restart: a new session (a new process would have a new one too) finds it recorded.
    other = session_factory(str(db.get_bind().url.render_as_string(hide_password=False)))()
    try:
        assert run_due(other, FRIDAY_1 + timedelta(hours=2)).occurrences == []
    finally:
        other.close()
    assert db.scalar(select(func.count()).select_from(Issue)) == 1


def test_two_schedulers_at_once_make_one_issue_per_occurrence(database_url: str) -> None:
    setup = session_factory(database_url)()
    make_list(setup)
    for number in range(5):
        story(setup, number, FRIDAY_1 - timedelta(hours=number + 1))
    setup.commit()
    for number in range(6):
        weekly(setup, name=f"schedule-{number}")
    setup.close()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        session = session_factory(database_url)()
        try:
            barrier.wait()
            results.append(len(run_due(session, FRIDAY_1 + timedelta(minutes=1)).created))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    check = session_factory(database_url)()
    try:
        # Each schedule's occurrence made exactly one issue; a scheduler that lost the race
        # to the database left the rest to the next tick, which makes none twice.
        run_due(check, FRIDAY_1 + timedelta(minutes=2))
        issues = check.scalar(select(func.count()).select_from(Issue))
        rows = check.scalar(select(func.count()).select_from(ScheduleOccurrence))
    finally:
        check.close()
    assert issues == 6
    assert rows == 6
    assert sum(results) <= 6


def test_after_downtime_only_the_latest_occurrence_runs(newsroom: Session) -> None:
    db = newsroom
    weekly(db)
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    run_due(db, FRIDAY_1)
    stories = [story(db, 10 + week, FRIDAY_1 + timedelta(days=1 + 7 * week)) for week in range(3)]
    db.commit()
    # Down from just after FRIDAY_1 until after FRIDAY_4.
    [result] = run_due(db, FRIDAY_4 + timedelta(hours=3)).occurrences
    assert result.occurs_at == FRIDAY_4
    assert result.skipped == 2
    assert occurrences(db) == [
        (FRIDAY_1, "created"),
        (FRIDAY_2, "skipped"),
        (FRIDAY_3, "skipped"),
        (FRIDAY_4, "created"),
    ]
    # The caught-up issue has every story since the last issue, newest first.
    assert issue_stories(db, result.issue_id or 0) == [item.id for item in reversed(stories)]


def test_too_few_stories_records_why_and_makes_no_issue(newsroom: Session) -> None:
    db = newsroom
    weekly(db, min_stories=2)
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    [result] = run_due(db, FRIDAY_1).occurrences
    assert result.status == "too_few"
    assert result.issue_id is None
    assert "1 new story matched" in (result.reason or "")
    assert "the minimum is 2" in (result.reason or "")
    assert db.scalar(select(func.count()).select_from(Issue)) == 0
    # The story is not lost: the next occurrence counts it with the new one.
    story(db, 2, FRIDAY_2 - timedelta(days=1))
    db.commit()
    [result] = run_due(db, FRIDAY_2).occurrences
    assert result.status == "created"
    assert result.stories == 2


def test_max_stories_keeps_the_newest(newsroom: Session) -> None:
    db = newsroom
    weekly(db, max_stories=3)
    made = [story(db, number, FRIDAY_1 - timedelta(hours=10 - number)) for number in range(6)]
    db.commit()
    [result] = run_due(db, FRIDAY_1).occurrences
    assert issue_stories(db, result.issue_id or 0) == [made[5].id, made[4].id, made[3].id]


def test_filters_and_embargo(newsroom: Session) -> None:
    db = newsroom
    weekly(db, section="Sport", tag="local", language="zh")
    day = FRIDAY_1 - timedelta(days=1)
    wanted = story(db, 1, day, language="zh-Hant", sections=("Sport",), tags=("Local",))
    story(db, 2, day, language="en", sections=("Sport",), tags=("local",))
    story(db, 3, day, language="zh", sections=("News",), tags=("local",))
    story(db, 4, day, language="zh", sections=("Sport",), tags=())
    embargoed = story(
        db,
        5,
        day,
        language="zh",
        sections=("Sport",),
        tags=("local",),
        embargo_until=FRIDAY_1 + timedelta(hours=1),
    )
    withdrawn = story(db, 6, day, language="zh", sections=("Sport",), tags=("local",))
    withdrawn.status = "withdrawn"
    db.commit()
    [result] = run_due(db, FRIDAY_1).occurrences
    assert issue_stories(db, result.issue_id or 0) == [wanted.id]
    # Released after the occurrence: it goes in the next one.
    [result] = run_due(db, FRIDAY_2).occurrences
    assert issue_stories(db, result.issue_id or 0) == [embargoed.id]


def test_auto_mode_schedules_the_issue_at_the_occurrence(newsroom: Session) -> None:
    db = newsroom
    weekly(db, mode="auto", layout="full")
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    [result] = run_due(db, FRIDAY_1 + timedelta(seconds=30)).occurrences
    issue = db.get(Issue, result.issue_id, populate_existing=True)
    assert issue is not None
    assert issue.status == IssueStatus.SCHEDULED
    assert issue.send_at == FRIDAY_1
    assert issue.schedule_timezone == "Asia/Hong_Kong"
    assert issue.schedule_local == "2026-11-27T08:00+08:00"
    # No "draft ready" email for an issue that goes out by itself.
    assert db.scalar(select(func.count()).select_from(DeskNotification)) == 0


def test_draft_mode_records_one_notification(newsroom: Session) -> None:
    db = newsroom
    weekly(db)
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    [result] = run_due(db, FRIDAY_1).occurrences
    rows = db.scalars(select(DeskNotification)).all()
    assert [(row.kind, row.issue_id, row.status) for row in rows] == [
        ("draft_ready", result.issue_id, "pending")
    ]


def test_a_blocked_auto_issue_stays_a_draft_with_the_reason(newsroom: Session) -> None:
    db = newsroom
    weekly(db, mode="auto")
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    mailing_list = make_list(db, "other")
    db.commit()
    # The list is archived after the schedule was made.
    from distributor.db.models import MailingList

    weekly_list = db.scalars(select(MailingList).where(MailingList.name == "weekly")).one()
    weekly_list.archived_at = CREATED
    db.commit()
    [result] = run_due(db, FRIDAY_1).occurrences
    assert result.status == "failed"
    assert "archived" in (result.reason or "")
    assert mailing_list.id


def test_paused_schedule_does_not_fire_and_resume_does_not_fire_the_past(
    newsroom: Session,
) -> None:
    db = newsroom
    weekly(db)
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    pause_schedule(db, "friday")
    db.commit()
    assert run_due(db, FRIDAY_1).occurrences == []
    resume_schedule(db, "friday", now=FRIDAY_1 + timedelta(hours=1))
    db.commit()
    assert run_due(db, FRIDAY_1 + timedelta(hours=2)).occurrences == []
    [result] = run_due(db, FRIDAY_2).occurrences
    assert result.occurs_at == FRIDAY_2
    assert result.skipped == 0


def test_bad_settings_are_refused_with_the_option_named(newsroom: Session) -> None:
    db = newsroom
    with pytest.raises(ScheduleError, match="--list 'nope'"):
        create_schedule(db, "x", list_name="nope", cron="0 8 * * *", timezone="UTC")
    with pytest.raises(ScheduleError, match="--cron"):
        create_schedule(db, "x", list_name="weekly", cron="0 8 * *", timezone="UTC")
    with pytest.raises(ScheduleError, match="--mode 'sometimes'"):
        create_schedule(
            db, "x", list_name="weekly", cron="0 8 * * *", timezone="UTC", mode="sometimes"
        )
    with pytest.raises(ScheduleError, match="unknown field"):
        create_schedule(
            db, "x", list_name="weekly", cron="0 8 * * *", timezone="UTC", subject="{nope}"
        )
    weekly(db)
    with pytest.raises(ScheduleError, match="exists already"):
        weekly(db)
    with pytest.raises(ScheduleError, match="--min-stories 20 is more than"):
        update_schedule(db, "friday", min_stories=20)


def test_a_schedule_broken_in_the_database_does_not_stop_the_others(newsroom: Session) -> None:
    from distributor.db.models import Schedule

    db = newsroom
    for name in ("broken-cron", "broken-subject", "fine"):
        weekly(db, name=name)
    story(db, 1, FRIDAY_1 - timedelta(days=1))
    db.commit()
    rows = {row.name: row for row in db.scalars(select(Schedule))}
    rows["broken-cron"].cron = "0 8 * * funday"
    rows["broken-subject"].subject_template = "{headline}"
    db.commit()
    results = {item.schedule: item for item in run_due(db, FRIDAY_1).occurrences}
    assert set(results) == {"broken-subject", "fine"}
    assert results["fine"].status == "created"
    assert results["broken-subject"].status == "failed"
    assert "unknown field {headline}" in (results["broken-subject"].reason or "")


@pytest.mark.parametrize(
    ("ticks", "expected"),
    [
        # 29 March: 01:30 London does not exist; it fires once, at 02:00 BST (01:00 UTC).
        (
            [
                datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 31, tzinfo=UTC),
                datetime(2026, 3, 29, 2, 30, tzinfo=UTC),
            ],
            [datetime(2026, 3, 28, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)],
        ),
        # 25 October: 01:30 London happens twice (BST, then GMT); it fires the first time only.
        (
            [datetime(2026, 10, 25, 0, 31, tzinfo=UTC), datetime(2026, 10, 25, 1, 31, tzinfo=UTC)],
            [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)],
        ),
    ],
    ids=["march", "october"],
)
def test_london_daily_schedule_across_daylight_saving(
    newsroom: Session, ticks: list[datetime], expected: list[datetime]
) -> None:
    db = newsroom
    start = ticks[0] - timedelta(days=2)
    create_schedule(
        db,
        "london",
        list_name="weekly",
        cron="30 1 * * *",
        timezone="Europe/London",
        min_stories=0,
        now=start,
    )
    db.commit()
    for moment in ticks:
        run_due(db, moment)
    # Each tick ran the latest occurrence not yet run: each fire time once, none twice.
    assert [when for when, _ in occurrences(db)] == expected
