"""Partners and feeds."""

from __future__ import annotations

import typer

from distributor.cli.common import not_yet_available

partners_app = typer.Typer(help="Partner outlets.", no_args_is_help=True)


@partners_app.command("create")
def create_partner(name: str) -> None:
    """Create a partner."""
    not_yet_available("partners create")


def feed_command(
    format: str = typer.Option(..., "--format"), partner: str | None = typer.Option(None, "--partner")
) -> None:
    """Print a feed document."""
    not_yet_available("feed")
