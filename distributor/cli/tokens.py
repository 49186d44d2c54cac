"""``distributor tokens``: personal API tokens for ``/api/v1``."""

from __future__ import annotations

from typing import Any

import typer

from distributor.cli.common import JsonOption, console, emit, fail, session_scope
from distributor.services.api_tokens import TokenError, create_token, revoke_token, tokens_of
from distributor.services.users import find_user

tokens_app = typer.Typer(help="Personal API tokens (each acts as its user, with their role).")


def _user(session: Any, email: str) -> Any:
    user = find_user(session, email)
    if user is None:
        fail(f"there is no desk user {email!r} (create one: distributor users create EMAIL)")
    return user


@tokens_app.command("create")
def create_command(
    email: str = typer.Argument(..., help="The desk user the token acts as."),
    name: str = typer.Option("", "--name", help="What the token is for, e.g. 'CMS script'."),
    as_json: bool = JsonOption,
) -> None:
    """Create a token and print it ONCE (only its digest is stored)."""
    with session_scope() as session:
        issued = create_token(session, _user(session, email), name)
        data = {
            "id": issued.token.id,
            "user": email,
            "name": issued.token.name,
            "prefix": issued.token.prefix,
            "token": issued.secret,
        }

    def show(info: dict[str, Any]) -> None:
        console.print(f"token {info['id']} for {info['user']} (shown once, store it now):")
        console.print(info["token"], highlight=False, markup=False)

    emit(data, as_json, show)


@tokens_app.command("list")
def list_command(email: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """A user's tokens (prefixes, when created, last used and revoked)."""
    with session_scope() as session:
        rows = [
            {
                "id": token.id,
                "name": token.name,
                "prefix": token.prefix,
                "created_at": token.created_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
                "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            for token in tokens_of(session, _user(session, email))
        ]

    def show(items: list[dict[str, Any]]) -> None:
        if not items:
            console.print("no tokens")
        for item in items:
            state = f"revoked {item['revoked_at']}" if item["revoked_at"] else "active"
            console.print(
                f"{item['id']:>4}  {item['prefix']}…  {state:<10} {item['name']}",
                highlight=False,
                markup=False,
            )

    emit(rows, as_json, show)


@tokens_app.command("revoke")
def revoke_command(
    email: str = typer.Argument(..., help="The token's user."),
    token_id: int = typer.Argument(..., help="The token's id (see tokens list)."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke a token at once."""
    try:
        with session_scope() as session:
            token = revoke_token(session, _user(session, email), token_id)
            data = {"id": token.id, "revoked_at": token.revoked_at}
    except TokenError as exc:
        fail(str(exc))
    emit(data, as_json, f"token {token_id} revoked")
