"""Editor desk accounts."""

from __future__ import annotations

import typer

from distributor.cli.common import not_yet_available

users_app = typer.Typer(help="Editor desk accounts.", no_args_is_help=True)


@users_app.command("create")
def create_user(email: str) -> None:
    """Create a user."""
    not_yet_available("users create")
