"""JSON API for recurring schedules: ``/api/schedules`` and ``/api/v1/schedules``.

``/api/schedules`` takes the same key as the articles API (header ``X-Api-Key`` equal to the
``API_KEY`` setting; with no ``API_KEY`` it answers 403); ``/api/v1/schedules`` takes a personal
API token like the rest of ``/api/v1``. The fields are those of ``distributor schedules create``:
``name``, ``list``, ``cron``, ``timezone``, ``mode``, ``layout``, ``min_stories``,
``max_stories``, ``subject``, ``section``, ``tag``, ``language``, ``source``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from distributor.web.auth import DbSession
from distributor.web.routes.articles_api import require_api_key


class ScheduleChanges(BaseModel):
    """Settings to change; absent fields stay (an empty filter text clears the filter)."""

    model_config = ConfigDict(extra="forbid")

    list: str | None = None
    cron: str | None = None
    timezone: str | None = None
    mode: str | None = None
    layout: str | None = None
    min_stories: int | None = Field(default=None, ge=0, le=1000)
    max_stories: int | None = Field(default=None, ge=1, le=1000)
    subject: str | None = Field(default=None, max_length=500)
    section: str | None = Field(default=None, max_length=200)
    tag: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=35)
    source: str | None = Field(default=None, max_length=2000)


class NewSchedule(ScheduleChanges):
    """A new schedule (name, list, cron and timezone are required)."""

    name: str = Field(max_length=100)
    list: str
    cron: str
    timezone: str


def _refused(error: Exception) -> HTTPException:
    message = str(error)
    status = 404 if message.startswith("no schedule is called") else 422
    return HTTPException(status, message)


def schedule_routes(prefix: str, authorised: Any) -> APIRouter:
    """The schedule routes under ``prefix``, each behind the dependency ``authorised``
    (``/api/schedules``: the articles API key; ``/api/v1/schedules``: a personal token)."""
    router = APIRouter(prefix=prefix, tags=["schedules"], dependencies=[Depends(authorised)])

    @router.get("")
    def list_schedules(db: DbSession) -> list[dict[str, Any]]:
        """Every schedule with its next occurrence."""
        from distributor.services import schedules

        return [schedules.schedule_data(db, item) for item in schedules.list_schedules(db)]

    @router.post("", status_code=201)
    def create_schedule(body: NewSchedule, db: DbSession) -> dict[str, Any]:
        """Create a schedule; 422 names the bad field."""
        from distributor.services import schedules

        try:
            schedule = schedules.create_schedule(
                db,
                body.name,
                list_name=body.list,
                cron=body.cron,
                timezone=body.timezone,
                mode=body.mode or "draft",
                layout=body.layout or "excerpt",
                min_stories=1 if body.min_stories is None else body.min_stories,
                max_stories=10 if body.max_stories is None else body.max_stories,
                subject=body.subject,
                section=body.section,
                tag=body.tag,
                language=body.language,
                source=body.source,
            )
        except schedules.ScheduleError as error:
            raise _refused(error) from None
        return schedules.schedule_data(db, schedule)

    @router.get("/{name}")
    def show_schedule(name: str, db: DbSession) -> dict[str, Any]:
        """One schedule with its latest occurrences."""
        from distributor.services import schedules

        try:
            return schedules.schedule_data(db, schedules.get_schedule(db, name), history=20)
        except schedules.ScheduleError as error:
            raise _refused(error) from None

    @router.patch("/{name}")
    def update_schedule(name: str, body: ScheduleChanges, db: DbSession) -> dict[str, Any]:
        """Change the given settings of a schedule."""
        from distributor.services import schedules

        given = body.model_dump(exclude_unset=True)
        filters = {
            key: given[key] for key in ("section", "tag", "language", "source") if key in given
        }
        try:
            schedule = schedules.update_schedule(
                db,
                name,
                list_name=given.get("list"),
                cron=given.get("cron"),
                timezone=given.get("timezone"),
                mode=given.get("mode"),
                layout=given.get("layout"),
                min_stories=given.get("min_stories"),
                max_stories=given.get("max_stories"),
                subject=given.get("subject"),
                **filters,
            )
        except schedules.ScheduleError as error:
            raise _refused(error) from None
        return schedules.schedule_data(db, schedule)

    @router.post("/{name}/pause")
    def pause_schedule(name: str, db: DbSession) -> dict[str, Any]:
        """Pause a schedule."""
        from distributor.services import schedules

        try:
            return schedules.schedule_data(db, schedules.pause_schedule(db, name))
        except schedules.ScheduleError as error:
            raise _refused(error) from None

    @router.post("/{name}/resume")
    def resume_schedule(name: str, db: DbSession) -> dict[str, Any]:
        """Resume a paused schedule from its next occurrence."""
        from distributor.services import schedules

        try:
            return schedules.schedule_data(db, schedules.resume_schedule(db, name))
        except schedules.ScheduleError as error:
            raise _refused(error) from None

    @router.delete("/{name}")
    def delete_schedule(name: str, db: DbSession) -> JSONResponse:
        """Delete a schedule (the issues it made stay)."""
        from distributor.services import schedules

        try:
            schedules.delete_schedule(db, name)
        except schedules.ScheduleError as error:
            raise _refused(error) from None
        return JSONResponse({"deleted": name})

    return router


router = schedule_routes("/api/schedules", require_api_key)
