"""``distributor audit list``: who changed what, when."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from distributor.cli.common import JsonOption, emit, fail, session_scope
from distributor.services.audit import entry_dict, list_entries

audit_app = typer.Typer(help="The audit log of desk, API and command-line actions.")


@audit_app.command("list")
def list_command(
    since: str = typer.Option("", "--since", help="Only entries at or after this ISO 8601 time."),
    actor: str = typer.Option(
        "", "--actor", help="Only this actor (a desk user's email, cli:USER or api-key)."
    ),
    action: str = typer.Option("", "--action", help="Only actions starting so, e.g. issue."),
    limit: int = typer.Option(200, "--limit", help="At most this many entries, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """List audit entries, newest first."""
    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since.strip())
        except ValueError:
            fail(f"--since {since!r} is not an ISO 8601 time, e.g. 2026-12-01T08:00+00:00")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    with session_scope() as session:
        entries = [
            entry_dict(entry)
            for entry in list_entries(
                session, since=moment, actor=actor or None, action=action or None, limit=limit
            )
        ]

    def human(rows: list[dict[str, object]]) -> None:
        from distributor.cli.common import console

        if not rows:
            console.print("no entries")
        for row in rows:
            target = f" {row['target_type']} {row['target_id']}" if row["target_type"] else ""
            line = f"{row['at']}  {row['actor']}  {row['action']}{target}"
            if row["summary"]:
                line += f"  ({row['summary']})"
            console.print(line, highlight=False, markup=False)
            changes = row["changes"]
            assert isinstance(changes, dict)
            for name, (before, after) in changes.items():
                console.print(f"    {name}: {before!r} -> {after!r}", highlight=False, markup=False)

    emit(entries, as_json, human)
