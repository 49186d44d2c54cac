"""Issues: create, schedule, send, cancel, status."""

from __future__ import annotations

import typer

from distributor.cli.common import not_yet_available

issues_app = typer.Typer(help="Newsletter issues.", no_args_is_help=True)


@issues_app.command("create")
def create(
    list_name: str = typer.Option(..., "--list"),
    subject: str = typer.Option(..., "--subject"),
    article: list[int] = typer.Option(..., "--article"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a draft issue from articles; prints its id."""
    not_yet_available("issues create")


@issues_app.command("schedule")
def schedule(issue_id: int, at: str = typer.Option(..., "--at")) -> None:
    """Schedule an issue at an ISO-8601 time."""
    not_yet_available("issues schedule")


@issues_app.command("send")
def send(
    issue_id: int,
    now: bool = typer.Option(False, "--now"),
    wait: bool = typer.Option(False, "--wait"),
) -> None:
    """Send an issue."""
    not_yet_available("issues send")


@issues_app.command("cancel")
def cancel(issue_id: int) -> None:
    """Cancel a scheduled issue."""
    not_yet_available("issues cancel")


@issues_app.command("status")
def status(issue_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show an issue's progress."""
    not_yet_available("issues status")
