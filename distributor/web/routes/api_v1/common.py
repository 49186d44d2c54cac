"""What every ``/api/v1`` route shares: the caller (a personal API token), errors, JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, NoReturn

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from distributor.db.models import ApiToken, User
from distributor.services import audit
from distributor.services.api_tokens import user_for_token
from distributor.web.auth import DbSession

BEARER_HINT = "send a personal API token as Authorization: Bearer dtok_… (create one in the desk)"


@dataclass(frozen=True)
class Caller:
    """Who calls: the token's user (with their role) and the token."""

    user: User
    token: ApiToken

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


def api_caller(request: Request, db: DbSession) -> Caller:
    """The caller of a token in ``Authorization: Bearer``; 401 otherwise."""
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    found = (
        user_for_token(db, credentials.strip())
        if scheme.lower() == "bearer" and credentials
        else None
    )
    if found is None:
        raise HTTPException(
            401,
            detail={"error": "a valid, unrevoked API token is required", "hint": BEARER_HINT},
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    user, token = found
    client = request.client.host if request.client else None
    audit.act_as(
        db, audit.Actor("api", f"{user.email} (token {token.prefix}…)", user.id, client=client)
    )
    return Caller(user, token)


def api_admin(caller: Annotated[Caller, Depends(api_caller)]) -> Caller:
    """An administrator's token; 403 for an editor's."""
    if not caller.is_admin:
        raise HTTPException(
            403, detail={"error": "this needs an administrator's token (your role: editor)"}
        )
    return caller


ApiCaller = Annotated[Caller, Depends(api_caller)]
ApiAdmin = Annotated[Caller, Depends(api_admin)]


def refuse(status: int, message: str, **extra: Any) -> NoReturn:
    """Answer ``status`` with ``{"detail": {"error": message, ...}}``; nothing is committed."""
    raise HTTPException(status, detail={"error": message, **extra})


def plain(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 text and enums as their values."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def answer(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(plain(data), status_code=status)
