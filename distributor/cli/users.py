"""Editor desk accounts: ``distributor users create|list|set-password|unlock|set-language``."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from distributor.cli.common import JsonOption, console, emit, fail, session_scope
from distributor.db.models import User

users_app = typer.Typer(help="Editor desk accounts.", no_args_is_help=True)


def _as_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "language": user.language,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        # One line from stdin, so `printf '%s\n' "$PW" | distributor users create …` works.
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for a password: pass --password-stdin and pipe it in")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def create_command(
    email: str = typer.Argument(..., help="Sign-in email address."),
    name: str = typer.Option("", "--name", help="Name shown in the desk."),
    role: str = typer.Option("editor", "--role", help="editor or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a desk account (the first one should be an admin)."""
    from distributor.cli.common import settings
    from distributor.db.migrate import upgrade
    from distributor.services.users import UserError, create_user

    password = _read_password(password_stdin)
    # The first admin is often created before the first `serve`; make sure the tables exist.
    upgrade(settings().database_url)
    try:
        with session_scope() as session:
            user = create_user(session, email, password, name=name, role=role)
            data = _as_dict(user)
    except UserError as exc:
        fail(str(exc))
    emit(data, as_json, f"created {data['role']} {data['email']} (id {data['id']})")


@users_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """List desk accounts."""
    from distributor.services.users import list_users

    with session_scope() as session:
        rows = [_as_dict(user) for user in list_users(session)]

    def show(data: list[dict[str, Any]]) -> None:
        table = Table(
            "id", "email", "name", "role", "desk language", "last sign-in", "locked until"
        )
        for row in data:
            table.add_row(
                str(row["id"]),
                row["email"],
                row["name"],
                row["role"],
                row["language"] or "browser's",
                row["last_login_at"] or "never",
                row["locked_until"] or "",
            )
        console.print(table)

    emit(rows, as_json, show)


@users_app.command("set-password")
def set_password_command(
    email: str = typer.Argument(..., help="The account's email address."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Set a new password (also signs the account out everywhere and unlocks it)."""
    from distributor.services.users import UserError, find_user, set_password, unlock_user

    password = _read_password(password_stdin)
    try:
        with session_scope() as session:
            user = find_user(session, email)
            if user is None:
                fail(f"no account with the email {email}; see `distributor users list`")
            set_password(session, user, password)
            unlock_user(session, user)
    except UserError as exc:
        fail(str(exc))
    console.print(f"password changed for {email}")


@users_app.command("unlock")
def unlock_command(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Clear failed sign-ins and any lock on an account."""
    from distributor.services.users import find_user, unlock_user

    with session_scope() as session:
        user = find_user(session, email)
        if user is None:
            fail(f"no account with the email {email}; see `distributor users list`")
        unlock_user(session, user)
    console.print(f"{email} is unlocked")


@users_app.command("set-language")
def set_language_command(
    email: str = typer.Argument(..., help="The account's email address."),
    language: str = typer.Argument(
        ...,
        help="A shipped language (en, zh-Hans, zh-Hant, es, fr, ar, fa), or none to follow"
        " the browser's language.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Set the language the account reads the desk and the desk's emails in."""
    from distributor.services.users import UserError, find_user, set_language

    try:
        with session_scope() as session:
            user = find_user(session, email)
            if user is None:
                fail(f"no account with the email {email}; see `distributor users list`")
            chosen = set_language(session, user, language)
            data = _as_dict(user)
    except UserError as exc:
        fail(str(exc))
    shown = chosen or "the browser's language"
    emit(data, as_json, f"{data['email']} reads the desk in {shown}")
