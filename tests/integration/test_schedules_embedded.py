"""The embedded runtime of `distributor serve` runs the schedules and mails the desk by
itself: the periodic ticks distributor.run_schedules and distributor.notify_desk."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import Issue, ScheduleOccurrence
from distributor.db.session import unit_of_work
from distributor.services.schedules import create_schedule
from tests.conftest import make_settings
from tests.factories.audience import make_list
from tests.factories.schedules import desk_user, story
from tests.support.outbox import read_outbox
from workers.celery_app import create_celery


@pytest.mark.slow
def test_the_embedded_ticks_make_the_draft_and_tell_the_desk(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.embedded import EmbeddedRuntime

    settings = use_settings(
        make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox", SCHEDULER_TICK_SECONDS="0.2")
    )
    # Keep clear of a minute's end: the story must be in the window of this minute's occurrence.
    if datetime.now(UTC).second >= 50:
        time.sleep(61 - datetime.now(UTC).second)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    with unit_of_work(settings.database_url) as db:
        make_list(db)
        desk_user(db, "editor@news.example.org")
        story(db, 1, minute - timedelta(seconds=20), title="Night ferry runs late")
        create_schedule(
            db,
            "every-minute",
            list_name="weekly",
            cron="* * * * *",
            timezone="UTC",
            subject="Just in: {first_title}",
            now=minute - timedelta(minutes=5),
        )
    runtime = EmbeddedRuntime(create_celery(settings), tick_seconds=0.2)
    runtime.start()
    try:
        # Up to the next occurrence as well: under a loaded machine the first tick can land
        # after this minute's occurrence was judged (the story then goes in the next one).
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not read_outbox(
            settings.outbox_dir, "desk-notification-"
        ):
            time.sleep(0.2)
    finally:
        runtime.stop()
    [message] = read_outbox(settings.outbox_dir, "desk-notification-")
    assert message["Subject"] == "Draft ready for review: Just in: Night ferry runs late"
    with unit_of_work(settings.database_url) as db:
        [issue] = db.scalars(select(Issue)).all()
        assert issue.status == "draft"
        created = db.scalars(
            select(ScheduleOccurrence).where(ScheduleOccurrence.status == "created")
        ).all()
        assert [row.issue_id for row in created] == [issue.id]
