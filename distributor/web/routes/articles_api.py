"""JSON API for articles: ``POST /api/articles`` (ingest), ``GET /api/articles[/{id}]``.

Every request needs the header ``X-Api-Key`` equal to the ``API_KEY`` setting. With no
``API_KEY`` configured the API answers 403: an open endpoint that publishes into newsletters
and partner feeds would be an invitation.

``POST`` takes the JSON article format of docs/ingest-json-schema.md (one object, an array,
or ``{"articles": [...]}``). Valid articles are stored even when others are rejected; the
answer lists each problem with the path of the bad field. 422 only when nothing was taken in.
Articles posted here belong to the built-in ``api`` source: a GUID is matched only against
stories posted through the API.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from distributor.config import Settings
from distributor.ingest.report import NotAFeedError
from distributor.services import audit
from distributor.web.auth import DbSession, app_settings

router = APIRouter(prefix="/api/articles", tags=["articles"])

MAX_BODY_BYTES = 20 * 1024 * 1024


def require_api_key(request: Request) -> None:
    """403 unless ``X-Api-Key`` matches the configured ``API_KEY`` (compared in constant time)."""
    settings: Settings = app_settings(request)
    if not settings.API_KEY:
        raise HTTPException(403, "The articles API is off: set the API_KEY setting to enable it.")
    given = request.headers.get("X-Api-Key", "")
    if not hmac.compare_digest(given.encode(), settings.API_KEY.encode()):
        raise HTTPException(401, "Missing or wrong X-Api-Key header.")


ApiKey = Annotated[None, Depends(require_api_key)]


def _json_ready(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


@router.post("")
async def post_articles(request: Request, _key: ApiKey, db: DbSession) -> JSONResponse:
    """Ingest articles in our JSON format; 200 with the outcome, 422 when none was valid."""
    from distributor.domain.sources import SourceKind
    from distributor.ingest.json_schema import parse_json_document
    from distributor.services.ingest import (
        IngestOutcome,
        builtin_source,
        report_embargo_notes,
        store_articles,
    )

    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"Body larger than {MAX_BODY_BYTES} bytes.")
    try:
        articles, report = parse_json_document(body, "POST /api/articles")
    except NotAFeedError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    # The API is a source of its own: a GUID posted here never revises a story from a feed.
    stored = store_articles(db, articles, source_id=builtin_source(db, SourceKind.API).id)
    report_embargo_notes(report, stored)
    audit.record(
        db,
        "articles.post",
        summary=f"{len(stored.created)} new, {len(stored.revised)} revised",
        changes={"created": [None, list(stored.created)], "revised": [None, list(stored.revised)]},
        actor=audit.Actor("api", "api-key", client=request.client.host if request.client else None),
    )
    outcome = IngestOutcome(report=report, stored=stored)
    status = 200 if outcome.ok else 422
    return JSONResponse(_json_ready(outcome.as_dict()), status_code=status)


@router.get("")
def get_articles(
    _key: ApiKey,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Stored articles, newest first, with credits, bios and notes."""
    from distributor.services.ingest import articles_for_api

    items = articles_for_api(db, datetime.now(UTC), limit=limit, offset=offset, with_id=False)
    return JSONResponse(_json_ready({"articles": items, "limit": limit, "offset": offset}))


@router.get("/{article_id}")
def get_article(article_id: int, _key: ApiKey, db: DbSession) -> JSONResponse:
    """One stored article."""
    from distributor.services.ingest import article_for_api
    from distributor.services.ingest import get_article as load

    article = load(db, article_id)
    if article is None:
        raise HTTPException(404, f"No article with id {article_id}.")
    return JSONResponse(_json_ready(article_for_api(article, datetime.now(UTC), with_id=False)))
