"""Render an issue to files."""

from __future__ import annotations

from pathlib import Path

import typer

from distributor.cli.common import not_yet_available


def render_command(issue: int, out: Path = typer.Option(..., "--out")) -> None:
    """Render an issue's HTML, text and screenshots into a folder."""
    not_yet_available("render")
