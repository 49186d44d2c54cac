"""Sign-in, sign-out and the desk's static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from distributor.db.models import User
from distributor.i18n import ngettext, use_language
from distributor.services import audit
from distributor.services.users import authenticate, end_all_sessions, find_user
from distributor.web.auth import (
    CsrfChecked,
    DbSession,
    client_key,
    current_user,
    login_throttle,
    safe_next,
    sign_in,
    sign_out,
)
from distributor.web.templating import (
    N_,
    DeskRoute,
    desk_language,
    flash,
    redirect,
    render,
    translate,
)

router = APIRouter(route_class=DeskRoute)

# services.users.SIGN_IN_FAILED, the one answer to every failed sign-in, for the catalogue.
SIGN_IN_FAILED = N_(
    "The email or password is wrong. Check both and try again. After several wrong passwords"
    " an account is locked for a while; an administrator can unlock it."
)

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The desk's CSS and JS (one flat folder; cached for an hour)."""
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file():
        raise HTTPException(status_code=404, detail=f"no static file named {name!r}")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/login")
def login_page(
    request: Request,
    user: Annotated[User | None, Depends(current_user)],
    next: str = "/",
) -> Response:
    """The sign-in form (already signed in: go on)."""
    if user is not None:
        return redirect(request, safe_next(next))
    return render(request, "desk/login.html.j2", {"next": safe_next(next), "email": ""})


@router.post("/login", dependencies=[CsrfChecked])
def login_submit(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password; on success start a session and go where the person was heading."""
    if not email.strip() or not password:
        return render(
            request,
            "desk/login.html.j2",
            {
                "next": safe_next(next),
                "email": email,
                "error": translate(request, N_("Enter both your email address and your password.")),
            },
            status_code=400,
        )
    # Per client first: a third party guessing (or locking accounts) is slowed, whatever the
    # account; the answer says nothing about the account.
    throttle, client = login_throttle(request), client_key(request)
    wait = throttle.take(client)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        with use_language(desk_language(request)):
            error = ngettext(
                "Too many failed sign-ins came from your network. Wait about %(num)d minute"
                " and try again.",
                "Too many failed sign-ins came from your network. Wait about %(num)d minutes"
                " and try again.",
                minutes,
            ) % {"num": minutes}
        response = render(
            request,
            "desk/login.html.j2",
            {
                "next": safe_next(next),
                "email": email,
                "error": error,
            },
            status_code=429,
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    result = authenticate(db, email, password)
    if result.user is None:
        # Failure counts must be stored even though the page shows an error. One status and
        # one message for every failure: the answer never tells whether the account exists.
        known = find_user(db, email)
        audit.record(
            db,
            "user.sign_in_failed",
            "user",
            known.email if known else None,
            summary="" if known else "no such account",
            actor=audit.Actor(
                "anonymous", known.email if known else "unknown account", client=client
            ),
        )
        db.commit()
        return render(
            request,
            "desk/login.html.j2",
            {
                "next": safe_next(next),
                "email": email,
                "error": translate(request, result.error or SIGN_IN_FAILED),
            },
            status_code=401,
        )
    throttle.give_back(client)
    audit.record(
        db,
        "user.sign_in",
        "user",
        result.user.email,
        actor=audit.Actor("user", result.user.email, result.user.id, client=client),
    )
    sign_in(request, result.user)
    return redirect(request, safe_next(next))


@router.post("/logout", dependencies=[CsrfChecked])
def logout(
    request: Request, db: DbSession, user: Annotated[User | None, Depends(current_user)]
) -> Response:
    """End the session everywhere (the user's session nonce changes)."""
    if user is not None:
        end_all_sessions(db, user)
        audit.record(db, "user.sign_out", "user", user.email)
    sign_out(request)
    flash(request, N_("You are signed out."))
    return redirect(request, "/login")
