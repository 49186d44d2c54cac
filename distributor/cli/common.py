"""What every command shares: settings, units of work, output in text or JSON, errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from distributor.config import ConfigurationError, Settings, get_settings
from distributor.db.session import unit_of_work
from distributor.services.audit import act_as, command_line_actor

console = Console()
error_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    error_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def not_yet_available(what: str) -> NoReturn:
    """The honest answer for a command whose capability is not built yet."""
    fail(f"'{what}' is not yet available in this version of Distributor.", code=2)


def settings() -> Settings:
    """Validated settings, or a clear exit naming the bad variable.

    In embedded mode with PUBLIC_BASE_URL unset, links use the address ``serve`` last ran on
    (it records it under DATA_DIR), so a command run beside the server builds working links.
    """
    try:
        current = get_settings()
    except ConfigurationError as exc:
        fail(str(exc), code=2)
    if current.embedded and not current.public_base_url_set:
        recorded = served_base_url_file(current)
        if recorded.is_file():
            os.environ["PUBLIC_BASE_URL"] = recorded.read_text(encoding="utf-8").strip()
            get_settings.cache_clear()
            try:
                current = get_settings()
            except ConfigurationError as exc:
                fail(f"{exc} (read from {recorded}; delete that file)", code=2)
    return current


def served_base_url_file(current: Settings) -> Path:
    """Where ``serve`` records the address its links use when PUBLIC_BASE_URL is unset."""
    return current.DATA_DIR / "served-base-url"


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work on the configured database; feeds follow its changes after the commit."""
    current = settings()
    with unit_of_work(current.database_url) as session:
        act_as(session, command_line_actor())
        yield session
    rebuild_feeds_after_commit(session, current)


def rebuild_feeds_after_commit(session: Session, current: Settings) -> None:
    """Rebuild the feeds a committed command changed: through the workers when Redis is
    configured, else here (embedded mode has no worker outside ``serve``)."""
    from distributor.services.feeds import (
        has_feed_changes,
        rebuild_after_commit,
        send_rebuilds_with,
    )

    if not has_feed_changes(session):
        return
    publisher = None
    if current.embedded:
        send_rebuilds_with(None)
        if current.WEBSUB_HUB_URL:
            from distributor.adapters.websub import HttpxWebSubPublisher

            publisher = HttpxWebSubPublisher.from_settings(current)
    else:
        from workers.tasks import enqueue_feed_changes

        send_rebuilds_with(enqueue_feed_changes)
    rebuild_after_commit(
        session, current, lambda: unit_of_work(current.database_url), publisher=publisher
    )


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | str | None = None) -> None:
    """Print ``data`` as JSON (``--json``) or through ``human`` (a printer or a line)."""
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=2) + "\n")
        return
    if callable(human):
        human(data)
    elif human is not None:
        console.print(human, highlight=False, soft_wrap=True)
    else:
        console.print(data)
