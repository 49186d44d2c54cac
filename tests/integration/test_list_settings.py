"""Changing a list's settings from the command line: only what is given changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.subscribers import add_subscriber, create_list, find_list
from tests.conftest import make_settings


def test_lists_update_changes_only_what_is_given(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    with unit_of_work(settings.database_url) as session:
        create_list(
            session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE, description="Fridays."
        )
        add_subscriber(session, "waiting@example.org", "weekly")
    runner = CliRunner()
    changed = runner.invoke(
        cli, ["lists", "update", "weekly", "--opt-in", "single", "--title", "周报", "--json"]
    )
    assert changed.exit_code == 0, changed.output
    data = json.loads(changed.output)
    assert (data["name"], data["title"], data["opt_in"]) == ("weekly", "周报", "single")
    assert (data["language"], data["description"]) == ("en", "Fridays.")
    with unit_of_work(settings.database_url) as session:
        stored = find_list(session, "weekly")
        assert stored is not None
        assert (stored.title, stored.opt_in, stored.description) == ("周报", "single", "Fridays.")
    for arguments, message in [
        (["weekly"], "nothing to change"),
        (["monthly", "--title", "x"], "no list named 'monthly'"),
        (["weekly", "--language", "not a tag!"], "language"),
    ]:
        refused = runner.invoke(cli, ["lists", "update", *arguments])
        assert refused.exit_code == 1, refused.output
        assert message in refused.output
