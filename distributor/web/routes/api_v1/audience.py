"""``/api/v1/lists`` and ``/api/v1/subscribers``: lists, readers and imports."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from distributor.domain.subscribers import ListVisibility, OptIn
from distributor.services.subscriber_import import import_subscribers
from distributor.services.subscribers import (
    SubscriberError,
    UnknownListError,
    add_subscriber,
    archive_list,
    create_list,
    erase_subscriber,
    list_summaries,
    require_list,
    subscriber_details,
    unarchive_list,
    update_list,
)
from distributor.web.auth import DbSession, app_settings
from distributor.web.routes.api_v1.common import ApiAdmin, ApiCaller, answer, refuse

router = APIRouter(tags=["lists and readers"])


class NewList(BaseModel):
    name: str
    title: str = ""
    opt_in: OptIn = OptIn.DOUBLE
    language: str = "en"
    description: str = ""
    visibility: ListVisibility = ListVisibility.PUBLIC


class ListChanges(BaseModel):
    title: str | None = None
    opt_in: OptIn | None = None
    language: str | None = None
    description: str | None = None
    visibility: ListVisibility | None = None


class NewReader(BaseModel):
    email: str
    name: str | None = None
    language: str | None = None
    confirmed: bool = Field(
        False, description="The reader already agreed (no confirmation email is sent)."
    )


def _summary(db: Any, name: str) -> dict[str, Any]:
    found = [item for item in list_summaries(db) if item["name"] == name]
    if not found:
        refuse(404, f"there is no list {name!r}")
    return found[0]


@router.get("/lists")
def lists_index(caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Every list with its membership counts."""
    return answer({"lists": list_summaries(db)})


@router.post("/lists", status_code=201)
def list_create(body: NewList, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """A new list."""
    try:
        create_list(
            db,
            body.name,
            title=body.title,
            opt_in=body.opt_in,
            language=body.language,
            description=body.description,
            visibility=body.visibility,
        )
    except SubscriberError as exc:
        refuse(422, str(exc))
    return answer(_summary(db, body.name), 201)


@router.get("/lists/{name}")
def list_show(name: str, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """One list's settings and counts."""
    return answer(_summary(db, name))


@router.patch("/lists/{name}")
def list_edit(name: str, body: ListChanges, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Change the given settings; the name stays (it is in every signup address)."""
    try:
        update_list(db, name, **body.model_dump(exclude_unset=True))
    except UnknownListError as exc:
        refuse(404, str(exc))
    except SubscriberError as exc:
        refuse(422, str(exc))
    return answer(_summary(db, name))


@router.post("/lists/{name}/archive")
def list_archive(name: str, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """No new readers and no new sends; members and history stay."""
    try:
        archive_list(db, name)
    except UnknownListError as exc:
        refuse(404, str(exc))
    except SubscriberError as exc:
        refuse(409, str(exc))
    return answer(_summary(db, name))


@router.post("/lists/{name}/unarchive")
def list_unarchive(name: str, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Open an archived list again."""
    try:
        unarchive_list(db, name)
    except SubscriberError as exc:
        refuse(404, str(exc))
    return answer(_summary(db, name))


@router.post("/lists/{name}/subscribers", status_code=201)
def reader_add(name: str, body: NewReader, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Add one reader to a list (confirmed only when they already agreed)."""
    try:
        membership = add_subscriber(
            db,
            body.email,
            name,
            name=body.name,
            language=body.language,
            confirmed=body.confirmed,
        )
    except UnknownListError as exc:
        refuse(404, str(exc))
    except SubscriberError as exc:
        refuse(422, str(exc))
    return answer(
        {"subscriber_id": membership.subscriber_id, "list": name, "status": membership.status},
        201,
    )


@router.post("/lists/{name}/imports")
async def reader_import(
    name: str, request: Request, caller: ApiCaller, db: DbSession
) -> JSONResponse:
    """Import a CSV file sent as the request body (``text/csv``); every bad row is reported
    by line and the good ones are kept."""
    settings = app_settings(request)
    try:
        require_list(db, name)
    except SubscriberError as exc:
        refuse(404, str(exc))
    body = await request.body()
    if len(body) > settings.IMPORT_MAX_BYTES:
        refuse(413, f"the CSV is larger than {settings.IMPORT_MAX_BYTES} bytes")
    try:
        report = await run_in_threadpool(import_subscribers, db, io.BytesIO(body), name)
    except SubscriberError as exc:
        refuse(422, str(exc))
    return answer(report.as_dict())


@router.get("/subscribers")
def reader_show(
    caller: ApiCaller, db: DbSession, email: Annotated[str, Query(min_length=3)]
) -> JSONResponse:
    """Everything stored about one address (an access request)."""
    details = subscriber_details(db, email)
    if details is None:
        refuse(404, "no reader and no suppression has this address")
    return answer(details)


@router.delete("/subscribers")
def reader_erase(
    request: Request,
    caller: ApiAdmin,
    db: DbSession,
    email: Annotated[str, Query(min_length=3)],
) -> JSONResponse:
    """Erase a reader's personal data on request (administrators; only a hash stays)."""
    settings = app_settings(request)
    found = erase_subscriber(db, email, outbox_dir=settings.outbox_dir)
    return answer({"erased": found})
