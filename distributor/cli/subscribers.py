"""Lists and subscribers."""

from __future__ import annotations

from pathlib import Path

import typer

from distributor.cli.common import not_yet_available

lists_app = typer.Typer(help="Newsletters (lists).", no_args_is_help=True)
subscribers_app = typer.Typer(help="Subscribers.", no_args_is_help=True)


@lists_app.command("create")
def create_list(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a list."""
    not_yet_available("lists create")


@subscribers_app.command("import")
def import_subscribers(
    file: Path, list_name: str = typer.Option(..., "--list"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Import subscribers from a CSV file."""
    not_yet_available("subscribers import")
