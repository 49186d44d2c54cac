"""``/api/v1/articles`` and ``/api/v1/sources``: the stories taken in and where they come from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from distributor.adapters.safe_http import AddressPolicy, UnsafeURLError, check_url
from distributor.services.ingest import (
    SourceError,
    add_source,
    article_for_api,
    articles_for_api,
    get_article,
    list_sources,
    source_as_dict,
)
from distributor.web.auth import DbSession, app_settings
from distributor.web.routes.api_v1.common import ApiCaller, answer, refuse

router = APIRouter(tags=["articles and sources"])


class NewSource(BaseModel):
    url: str
    interval_seconds: int = Field(900, ge=60)
    name: str = ""


@router.get("/articles")
def articles_index(
    caller: ApiCaller,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Stored stories, newest first, with credits, bios, notes and embargo state."""
    items = articles_for_api(db, datetime.now(UTC), limit=limit, offset=offset, with_id=True)
    return answer({"articles": items, "limit": limit, "offset": offset})


@router.get("/articles/{article_id}")
def article_show(article_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """One stored story."""
    article = get_article(db, article_id)
    if article is None:
        refuse(404, f"there is no article {article_id}")
    return answer(article_for_api(article, datetime.now(UTC), with_id=True))


@router.get("/sources")
def sources_index(caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Polled CMS feeds with their health (last and next poll, failures, last error)."""
    return answer({"sources": [source_as_dict(row) for row in list_sources(db)]})


@router.post("/sources", status_code=201)
def source_add(request: Request, body: NewSource, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Register a feed to poll (http(s), public addresses only unless allowed)."""
    try:
        url = check_url(body.url, AddressPolicy.from_settings(app_settings(request)), "url")
        row = add_source(db, url, interval_seconds=body.interval_seconds, name=body.name)
    except (UnsafeURLError, SourceError) as exc:
        refuse(422, str(exc))
    return answer(source_as_dict(row), 201)
