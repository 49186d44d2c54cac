"""Your account (every signed-in user): the desk's language, personal API tokens for
``/api/v1``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from distributor.i18n import language_choices
from distributor.services.api_tokens import TokenError, create_token, revoke_token, tokens_of
from distributor.services.users import UserError, set_language
from distributor.web.auth import CsrfChecked, DbSession, EditorUser
from distributor.web.templating import N_, DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


@router.get("/account")
def account_page(request: Request, *, user: EditorUser) -> Response:
    """Your account: the language the desk speaks to you, and a way to your API tokens."""
    return render(
        request,
        "desk/account.html.j2",
        {"nav": "account", "choices": language_choices(), "chosen": user.language or ""},
    )


@router.post("/account/language", dependencies=[CsrfChecked])
def account_language(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    language: Annotated[str, Form()] = "",
) -> Response:
    """Save the desk's language for you ("" follows your browser's language)."""
    try:
        set_language(db, user, language)
    except UserError:
        flash(request, N_("That language is not offered. Choose one from the list."), "error")
        return redirect(request, "/account")
    # Said in the language just chosen, like the pages from now on.
    flash(request, N_("Saved. The desk now uses this language for you."))
    return redirect(request, "/account")


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
        flash(request, N_("Not revoked: %(reason)s."), params={"reason": exc})
        return redirect(request, "/account/tokens")
    flash(
        request,
        N_("Token %(prefix)s… revoked: it stopped working at once."),
        params={"prefix": token.prefix},
    )
    return redirect(request, "/account/tokens")
