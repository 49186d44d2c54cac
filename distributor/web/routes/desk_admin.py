"""Administration: desk accounts (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from distributor.db.models import User
from distributor.i18n import _, pgettext
from distributor.services.audit import list_entries
from distributor.services.users import (
    ROLES,
    UserError,
    create_user,
    list_users,
    set_password,
    unlock_user,
)
from distributor.web.auth import AdminUser, CsrfChecked, DbSession, app_settings
from distributor.web.desk_words import in_desk_language
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


@router.get("/admin/audit")
@in_desk_language
def audit_page(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    actor: str = "",
    action: str = "",
    since: str = "",
) -> Response:
    """The audit log, newest first, filtered by actor, action and date."""
    error = None
    moment = None
    if since.strip():
        try:
            moment = datetime.fromisoformat(since.strip())
        except ValueError:
            error = _("“%(value)s” is not a date; use the form 2026-12-01 or 2026-12-01T08:00.") % {
                "value": since
            }
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(app_settings(request).NEWSROOM_TIMEZONE))
    entries = list_entries(
        db, since=moment, actor=actor.strip() or None, action=action.strip() or None, limit=500
    )
    return render(
        request,
        "desk/audit.html.j2",
        {
            "nav": "audit",
            "entries": entries,
            "filters": {"actor": actor, "action": action, "since": since},
            "actions": AUDIT_ACTION_GROUPS,
            "error": error,
        },
        status_code=400 if error else 200,
    )


AUDIT_ACTION_GROUPS = (
    "issue.",
    "article.",
    "author.",
    "list.",
    "subscriber",
    "partner.",
    "user.",
    "articles.",
    "archive.",
)


@router.get("/admin/users")
@in_desk_language
def users_page(request: Request, *, db: DbSession, user: AdminUser) -> Response:
    """Every desk account, and a form to add one."""
    return render(
        request,
        "desk/users.html.j2",
        {"nav": "users", "users": list_users(db), "roles": ROLES, "form": {}},
    )


@router.post("/admin/users", dependencies=[CsrfChecked])
@in_desk_language
def add_user(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "editor",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create an account; the administrator passes the first password on in person."""
    try:
        created = create_user(db, email, password, name=name, role=role)
    except UserError as exc:
        return render(
            request,
            "desk/users.html.j2",
            {
                "nav": "users",
                "users": list_users(db),
                "roles": ROLES,
                "error": str(exc),
                "form": {"email": email, "name": name, "role": role},
            },
            status_code=400,
        )
    flash(
        request,
        _(
            "Account %(email)s created as %(role)s. Give them the password in person; they "
            "can sign in now."
        )
        % {"email": created.email, "role": _role_word(created.role)},
    )
    return redirect(request, "/admin/users")


def _role_word(role: str) -> str:
    """A role in the desk's words (the stored value stays English)."""
    words = {"editor": pgettext("role", "editor"), "admin": pgettext("role", "admin")}
    return words.get(role, role)


def _account(db: DbSession, user_id: int) -> User:
    account = db.get(User, user_id)
    if account is None:
        raise HTTPException(
            status_code=404, detail=_("There is no account %(id)s.") % {"id": user_id}
        )
    return account


@router.post("/admin/users/{user_id}/unlock", dependencies=[CsrfChecked])
@in_desk_language
def unlock(request: Request, *, db: DbSession, user: AdminUser, user_id: int) -> Response:
    """Clear the failed sign-ins and lock of an account."""
    account = _account(db, user_id)
    unlock_user(db, account)
    flash(request, _("%(email)s is unlocked.") % {"email": account.email})
    return redirect(request, "/admin/users")


@router.post("/admin/users/{user_id}/password", dependencies=[CsrfChecked])
@in_desk_language
def change_password(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    user_id: int,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Set a new password; the account is signed out everywhere."""
    account = _account(db, user_id)
    try:
        set_password(db, account, password)
    except UserError as exc:
        flash(request, _("Password not changed: %(reason)s.") % {"reason": exc}, "error")
        return redirect(request, "/admin/users")
    unlock_user(db, account)
    flash(
        request,
        _("Password changed for %(email)s; their other sessions have ended.")
        % {"email": account.email},
    )
    return redirect(request, "/admin/users")
