"""Your account: personal API tokens for ``/api/v1`` (every signed-in user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from distributor.services.api_tokens import TokenError, create_token, revoke_token, tokens_of
from distributor.web.auth import CsrfChecked, DbSession, EditorUser
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


@router.get("/account/tokens")
def tokens_page(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """Your API tokens, and a form to create one."""
    return render(request, "desk/tokens.html.j2", {"nav": "tokens", "tokens": tokens_of(db, user)})


@router.post("/account/tokens", dependencies=[CsrfChecked])
def token_create(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a token and show it once."""
    issued = create_token(db, user, name)
    return render(
        request,
        "desk/tokens.html.j2",
        {
            "nav": "tokens",
            "tokens": tokens_of(db, user),
            "new_token": issued.secret,
            "new_name": issued.token.name,
        },
        status_code=201,
    )


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def token_revoke(request: Request, *, db: DbSession, user: EditorUser, token_id: int) -> Response:
    """Revoke one of your tokens at once."""
    try:
        token = revoke_token(db, user, token_id)
    except TokenError as exc:
        flash(request, f"Not revoked: {exc}.")
        return redirect(request, "/account/tokens")
    flash(request, f"Token {token.prefix}… revoked: it stopped working at once.")
    return redirect(request, "/account/tokens")
