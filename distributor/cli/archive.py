"""``distributor export`` and ``distributor import-archive``: the whole newsroom as one file."""

from __future__ import annotations

from pathlib import Path

import typer

from distributor.cli.common import emit, fail, session_scope, settings
from distributor.config import Settings
from distributor.services.archive import ArchiveError, export_archive, import_archive


def export_command(
    out: str = typer.Option(..., "--out", help="The archive to write (a .zip file)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Write the whole newsroom (articles, lists, readers, issues, the ledger, partners,
    users) to one archive; passwords, API keys and push secrets are left out."""
    current = settings()
    try:
        with session_scope() as session:
            summary = export_archive(session, current, Path(out))
    except (ArchiveError, OSError) as exc:
        fail(f"export failed: {exc}")
    emit(summary.as_dict(), as_json, _human(summary.as_dict(), "wrote"))


def import_archive_command(
    archive: str = typer.Argument(..., help="An archive written by `distributor export`."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Restore an archive into an empty database (it is migrated first); feeds are rebuilt."""
    from distributor.db.migrate import upgrade

    current = settings()
    path = Path(archive)
    if not path.is_file():
        fail(f"no such file: {archive}")
    upgrade(current.database_url)
    try:
        with session_scope() as session:
            summary = import_archive(session, current, path)
    except ArchiveError as exc:
        fail(f"nothing was imported: {exc}")
    _rebuild_feeds(current)
    emit(summary.as_dict(), as_json, _human(summary.as_dict(), "restored"))


def _rebuild_feeds(current: Settings) -> None:
    from datetime import UTC, datetime

    from distributor.services.feeds.storage import rebuild_feeds

    with session_scope() as session:
        rebuild_feeds(session, current, None, datetime.now(UTC))


def _human(summary: dict[str, object], verb: str) -> str:
    tables = summary["tables"]
    assert isinstance(tables, dict)
    lines = [f"{verb} {summary['path']} (schema {summary['revision']})"]
    lines += [f"  {name}: {count}" for name, count in tables.items()]
    notes = summary["notes"]
    assert isinstance(notes, list)
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)
