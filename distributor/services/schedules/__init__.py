"""Recurring schedules: create, list, show, update, pause, resume, delete, and run the due ones.

One module per use case: :mod:`.manage`, :mod:`.due` (which occurrences are due and the
stories they may take) and :mod:`.run`; this package re-exports their public names.

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

from distributor.services.schedules.manage import (
    ScheduleError,
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    pause_schedule,
    resume_schedule,
    schedule_data,
    update_schedule,
)
from distributor.services.schedules.run import OccurrenceResult, RunReport, run_due

__all__ = [
    "OccurrenceResult",
    "RunReport",
    "ScheduleError",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "run_due",
    "schedule_data",
    "update_schedule",
]
