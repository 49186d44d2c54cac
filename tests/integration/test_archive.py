"""`distributor export` and `distributor import-archive`: a newsroom written on SQLite comes back
identical on PostgreSQL (except what an archive never carries), and bad archives or a non-empty
database are refused with nothing changed."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from distributor.adapters.email_base import email_sender_for
from distributor.cli.main import app
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services import sending
from distributor.services.archive import REDACTED
from distributor.services.demo import load_demo
from distributor.services.feeds.partners import PartnerSettings, create_partner
from distributor.services.issues import create_issue
from distributor.services.subscribers import erase_subscriber
from distributor.services.users import authenticate, create_user
from tests.conftest import make_settings

PASSWORD = "a long desk password 4 tests"
SECRET = "archive-secret-key-0123456789abcdef"


def _populate(settings: Settings) -> None:
    """A small newsroom: stories, a list with readers, a sent issue with its ledger, a partner,
    a desk user, a suppressed and an erased reader."""
    with unit_of_work(settings.database_url) as session:
        load_demo(session, settings)
        create_user(session, "editor@example.org", PASSWORD, name="Ed", role="admin")
        create_partner(
            session,
            "Taipei Daily",
            PartnerSettings(formats=("rss", "ninjs"), push_url="https://taipei.example.net/h"),
            datetime.now(UTC),
        )
        article_ids = list(session.scalars(select(models.Article.id).order_by(models.Article.id)))
        issue = create_issue(session, ["weekly"], "The weekly dispatch", article_ids[:2])
        session.flush()
        sending.start_issue_now(session, issue.id)
        issue_id = issue.id
    with unit_of_work(settings.database_url) as session:
        sending.dispatch_due(session, settings)
        sending.run_sending_inline(
            session, settings, email_sender_for(settings), issue_id, max_seconds=30
        )
    with unit_of_work(settings.database_url) as session:
        erase_subscriber(session, "tomas.reyes@example.org")


def _tables_of(archive: Path) -> dict[str, list[dict[str, Any]]]:
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        return {
            name: [json.loads(line) for line in opened.read(entry["file"]).splitlines()]
            for name, entry in manifest["tables"].items()
        }


def _run(use_settings: Callable[[Settings], Settings], settings: Settings, *args: str) -> Any:
    use_settings(settings)
    return CliRunner().invoke(app, list(args))


def test_a_newsroom_round_trips_from_sqlite_to_postgresql(
    tmp_path: Path,
    sqlite_url: str,
    postgres_url: str,
    use_settings: Callable[[Settings], Settings],
) -> None:
    source = make_settings(tmp_path / "a", sqlite_url, SECRET_KEY=SECRET, MAIL_BACKEND="outbox")
    target = make_settings(tmp_path / "b", postgres_url, SECRET_KEY=SECRET)
    _populate(source)
    first = tmp_path / "newsroom.zip"

    exported = _run(use_settings, source, "export", "--out", str(first), "--json")
    assert exported.exit_code == 0, exported.output
    counts = json.loads(exported.output)["tables"]
    assert counts["articles"] >= 2
    assert counts["deliveries"] == 3
    assert counts["users"] == 1
    assert counts["partners"] == 1
    assert "feed_documents" not in counts

    restored = _run(use_settings, target, "import-archive", str(first), "--json")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.output)["tables"] == counts

    second = tmp_path / "again.zip"
    again = _run(use_settings, target, "export", "--out", str(second))
    assert again.exit_code == 0, again.output
    restored_tables = _tables_of(second)
    imported = restored_tables.pop("audit_log")
    assert [entry["action"] for entry in imported] == ["archive.import"]
    assert imported[0]["actor"].startswith("cli:")
    assert restored_tables == {
        name: rows for name, rows in _tables_of(first).items() if name != "audit_log"
    }

    tables = _tables_of(first)
    for table, columns in REDACTED.items():
        for row in tables[table]:
            assert all(row[column] is None for column in columns), (table, row)
    erased = [row for row in tables["subscribers"] if row["status"] == "erased"]
    assert len(erased) == 1
    assert "tomas" not in json.dumps(tables).lower()

    with unit_of_work(postgres_url) as session:
        # Passwords and keys stay behind; feeds were rebuilt; new rows get new ids.
        assert authenticate(session, "editor@example.org", PASSWORD).user is None
        partner = session.scalars(select(models.Partner)).one()
        assert partner.api_key_hash is None
        assert partner.push_secret is None
        assert session.scalar(select(func.count()).select_from(models.FeedDocument)) > 0
        highest = session.scalar(select(func.max(models.Article.id)))
        added = models.MailingList(name="daily", title="The Daily")
        session.add(added)
        session.flush()
        assert added.id > max(row["id"] for row in tables["lists"])
        assert highest == max(row["id"] for row in tables["articles"])


def test_an_archive_goes_into_an_empty_database_only(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = make_settings(tmp_path, sqlite_url, SECRET_KEY=SECRET, MAIL_BACKEND="outbox")
    _populate(settings)
    archive = tmp_path / "newsroom.zip"
    assert _run(use_settings, settings, "export", "--out", str(archive)).exit_code == 0
    with unit_of_work(sqlite_url) as session:
        before = session.scalar(select(func.count()).select_from(models.Article))

    refused = _run(use_settings, settings, "import-archive", str(archive))

    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert "articles" in refused.output
    with unit_of_work(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(models.Article)) == before


def test_damaged_foreign_or_mis_keyed_archives_are_refused(
    tmp_path: Path,
    sqlite_url: str,
    postgres_url: str,
    use_settings: Callable[[Settings], Settings],
) -> None:
    source = make_settings(tmp_path / "a", sqlite_url, SECRET_KEY=SECRET, MAIL_BACKEND="outbox")
    _populate(source)
    good = tmp_path / "newsroom.zip"
    assert _run(use_settings, source, "export", "--out", str(good)).exit_code == 0

    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(good) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "tables/lists.jsonl":
                data = data.replace(b"The Weekly Dispatch", b"The Weekly Dispatcx")
            copy.writestr(item, data)
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("just text", encoding="utf-8")

    target = make_settings(tmp_path / "b", postgres_url, SECRET_KEY=SECRET)
    broken = _run(use_settings, target, "import-archive", str(damaged))
    assert broken.exit_code == 1
    assert "tables/lists.jsonl does not match the manifest" in broken.output
    plain = _run(use_settings, target, "import-archive", str(not_zip))
    assert plain.exit_code == 1
    assert "is not a ZIP archive" in plain.output
    other_key = make_settings(tmp_path / "c", postgres_url, SECRET_KEY="another-key-" + "x" * 24)
    keyed = _run(use_settings, other_key, "import-archive", str(good))
    assert keyed.exit_code == 1
    assert "another ADDRESS_HASH_KEY" in keyed.output
    with unit_of_work(postgres_url) as session:
        for table in (models.Article, models.Author, models.Delivery, models.User):
            assert session.scalar(select(func.count()).select_from(table)) == 0
