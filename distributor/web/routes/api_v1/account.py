"""``/api/v1/me``, ``/api/v1/tokens`` and ``/api/v1/audit``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from distributor.services.api_tokens import TokenError, revoke_token, tokens_of
from distributor.services.audit import entry_dict, list_entries
from distributor.web.auth import DbSession
from distributor.web.routes.api_v1.common import ApiAdmin, ApiCaller, answer, refuse

router = APIRouter(tags=["account"])


@router.get("/me")
def me(caller: ApiCaller) -> JSONResponse:
    """Who the token acts as."""
    return answer(
        {
            "email": caller.user.email,
            "name": caller.user.name,
            "role": caller.user.role,
            "token": {"id": caller.token.id, "prefix": caller.token.prefix},
        }
    )


@router.get("/tokens")
def tokens_index(caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Your tokens (never the tokens themselves: they are shown once, when created)."""
    return answer(
        {
            "tokens": [
                {
                    "id": token.id,
                    "name": token.name,
                    "prefix": token.prefix,
                    "created_at": token.created_at,
                    "last_used_at": token.last_used_at,
                    "revoked_at": token.revoked_at,
                }
                for token in tokens_of(db, caller.user)
            ]
        }
    )


@router.delete("/tokens/{token_id}")
def token_revoke(token_id: int, caller: ApiCaller, db: DbSession) -> JSONResponse:
    """Revoke one of your tokens (this one included)."""
    try:
        token = revoke_token(db, caller.user, token_id)
    except TokenError as exc:
        refuse(404, str(exc))
    return answer({"id": token.id, "revoked_at": token.revoked_at})


@router.get("/audit")
def audit_index(
    *,
    caller: ApiAdmin,
    db: DbSession,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> JSONResponse:
    """The audit log, newest first (administrators)."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    entries = list_entries(db, since=since, actor=actor, action=action, limit=limit)
    return answer({"entries": [entry_dict(entry) for entry in entries]})
