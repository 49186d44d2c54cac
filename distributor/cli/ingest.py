"""Ingest: placeholder until the ingest commands land."""

from __future__ import annotations

import typer

from distributor.cli.common import not_yet_available

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
sources_app = typer.Typer(help="Registered CMS feeds.", no_args_is_help=True)


def ingest_command(source: str) -> None:
    """Ingest a feed URL or file, or a JSON file of articles."""
    not_yet_available("ingest")


@articles_app.command("list")
def list_articles() -> None:
    """List articles."""
    not_yet_available("articles list")


@sources_app.command("list")
def list_sources() -> None:
    """List sources."""
    not_yet_available("sources list")
