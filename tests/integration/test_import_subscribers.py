"""CSV import and export on SQLite and PostgreSQL, with a deliberately messy file."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber, Subscription
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.subscribers import OptIn, SuppressionReason
from distributor.services.subscriber_import import export_subscribers, import_subscribers
from distributor.services.subscribers import create_list, erase_subscriber
from distributor.services.suppression import address_hash, suppress, unsubscribe
from tests.conftest import REPO_ROOT, make_settings

MESSY = REPO_ROOT / "tests" / "fixtures" / "subscribers" / "messy.csv"

# Every problem in messy.csv, by line, exactly as reported.
EXPECTED_PROBLEMS = [
    (
        1,
        "favourite colour",
        "unknown column, its values are ignored (known columns: email, name, language, lists,"
        " status, attributes; put extra attributes in columns named attr.<name>)",
    ),
    (
        3,
        "email",
        "'李小龙@example.org': the part before @ must use Latin letters, digits and"
        " punctuation only",
    ),
    (5, "email", "'not-an-address': the email address must contain exactly one @"),
    (6, "email", "ada@example.org is a duplicate of line 2"),
    (7, "email", "blocked@example.net is suppressed (manual), not imported"),
    (11, "email", "the email address is missing"),
    (
        12,
        "language",
        "language 'english' is not a BCP 47 language tag: use a tag such as en, en-GB, pt-BR,"
        " zh-Hans or zh-Hant",
    ),
    (13, "lists", "unknown list 'nosuchlist'"),
    (14, "attributes", "attributes must be a JSON object"),
    (
        15,
        None,
        "8 values but the header has 7 columns (a value containing a comma must be in"
        " double quotes)",
    ),
    (18, "email", "'double@@example.org': the email address must contain exactly one @"),
]

# The good rows: address -> (name, language, attributes, lists).
EXPECTED_PEOPLE = {
    "ada@example.org": ("Lovelace, Ada", "en", {"city": "London"}, {"weekly"}),
    "wang.fang@example.cn": (
        "王芳",
        "zh-Hans",
        {"city": "北京", "source": "book fair"},
        {"weekly"},
    ),
    "chen.jie@example.com": ('陈杰 "Jay"', "zh", {"city": "上海"}, {"weekly"}),
    "grace@example.org": ("Grace Hopper", "en-GB", {"city": "Arlington"}, {"weekly", "daily"}),
    "multi@example.org": ("Line one line two", "en", {}, {"weekly"}),
    "zhao@xn--fsqu00a.xn--fiqs8s": ("赵", "zh", {}, {"weekly"}),
}


def _prepare(settings: Settings) -> None:
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
        suppress(session, "blocked@example.net", SuppressionReason.MANUAL, "asked by phone")


def _people(session: Session) -> dict[str, tuple[str | None, str | None, dict[str, str], set[str]]]:
    found: dict[str, tuple[str | None, str | None, dict[str, str], set[str]]] = {}
    for person in session.scalars(select(Subscriber).where(Subscriber.email.is_not(None))):
        lists = set(
            session.scalars(
                select(MailingList.name)
                .join(Subscription, Subscription.list_id == MailingList.id)
                .where(Subscription.subscriber_id == person.id)
            )
        )
        assert person.email is not None
        found[person.email] = (person.name, person.language, person.attributes, lists)
    return found


def test_messy_csv_reports_every_bad_row_and_imports_every_good_one(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    _prepare(settings)
    seen_progress: list[tuple[int, int]] = []
    with unit_of_work(settings.database_url) as session:
        report = import_subscribers(
            session,
            MESSY,
            "weekly",
            progress=lambda done, total: seen_progress.append((done, total)),
        )
    problems = [(item.line, item.column, item.message) for item in report.problems]
    assert problems == EXPECTED_PROBLEMS
    assert report.rows == 16
    assert report.accepted == len(EXPECTED_PEOPLE)
    assert report.rejected == 10
    assert report.new_subscribers == len(EXPECTED_PEOPLE)
    assert report.new_memberships == len(EXPECTED_PEOPLE) + 1  # grace also joins daily
    assert seen_progress[-1] == (MESSY.stat().st_size, MESSY.stat().st_size)
    with session_factory(settings.database_url)() as session:
        assert _people(session) == EXPECTED_PEOPLE
        statuses = set(session.scalars(select(Subscription.status)))
        assert statuses == {"confirmed"}


def test_values_copy_must_escape_arrive_unchanged(tmp_path: Path, database_url: str) -> None:
    """Backslashes (also inside JSON attributes), a tab in an attribute, "\\N" as a name."""
    settings = make_settings(tmp_path, database_url)
    _prepare(settings)
    source = tmp_path / "escapes.csv"
    source.write_text(
        "email,name,attributes,attr.note\n"
        'back@example.org,Back\\slash,"{""path"": ""C:\\\\dir"", ""q"": ""a\\""b""}",x\\y\n'
        'literal@example.org,\\N,,"tab\there"\n',
        encoding="utf-8",
    )
    with unit_of_work(settings.database_url) as session:
        report = import_subscribers(session, source, "weekly", chunk_rows=1)
    assert report.problems == []
    with session_factory(settings.database_url)() as session:
        people = {
            row.email: (row.name, row.attributes) for row in session.scalars(select(Subscriber))
        }
    assert people["back@example.org"] == (
        "Back\\slash",
        {"path": "C:\\dir", "q": 'a"b', "note": "x\\y"},
    )
    assert people["literal@example.org"] == ("\\N", {"note": "tab\there"})


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    _prepare(settings)
    with unit_of_work(settings.database_url) as session:
        import_subscribers(session, MESSY, "weekly")
    # A reader leaves; a re-import must not bring them back.
    with unit_of_work(settings.database_url) as session:
        ada = session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
        assert ada is not None
        unsubscribe(session, ada.id, None)
    with session_factory(settings.database_url)() as session:
        before = _people(session)
        memberships_before = sorted(
            (row.subscriber_id, row.list_id, row.status, row.confirmed_at, row.unsubscribed_at)
            for row in session.scalars(select(Subscription))
        )
    with unit_of_work(settings.database_url) as session:
        again = import_subscribers(session, MESSY, "weekly", chunk_rows=2)
    assert again.new_subscribers == 0
    assert again.new_memberships == 0
    assert again.accepted == len(EXPECTED_PEOPLE)
    with session_factory(settings.database_url)() as session:
        assert _people(session) == before
        memberships_after = sorted(
            (row.subscriber_id, row.list_id, row.status, row.confirmed_at, row.unsubscribed_at)
            for row in session.scalars(select(Subscription))
        )
    assert memberships_after == memberships_before


def test_export_then_import_elsewhere_keeps_who_left(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "one", database_url)
    _prepare(settings)
    with unit_of_work(settings.database_url) as session:
        import_subscribers(session, MESSY, "weekly")
        grace = session.scalar(select(Subscriber).where(Subscriber.email == "grace@example.org"))
        assert grace is not None
        weekly = session.scalar(select(MailingList).where(MailingList.name == "weekly"))
        assert weekly is not None
        unsubscribe(session, grace.id, weekly.id)
    out = io.StringIO()
    with session_factory(settings.database_url)() as session:
        count = export_subscribers(session, "weekly", out)
    assert count == len(EXPECTED_PEOPLE)
    exported = out.getvalue()
    assert "王芳" in exported
    assert '"Lovelace, Ada"' in exported

    other = make_settings(tmp_path / "two", f"sqlite:///{tmp_path / 'other.db'}")
    from distributor.db.migrate import upgrade

    upgrade(other.database_url)
    with unit_of_work(other.database_url) as session:
        create_list(session, "weekly")
        report = import_subscribers(session, io.BytesIO(exported.encode("utf-8")), "weekly")
    assert report.problems == []
    assert report.accepted == len(EXPECTED_PEOPLE)
    with session_factory(other.database_url)() as session:
        status = session.scalar(
            select(Subscription.status)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == "grace@example.org")
        )
        assert status == "unsubscribed"
        wang = session.scalar(select(Subscriber).where(Subscriber.email == "wang.fang@example.cn"))
        assert wang is not None
        assert wang.attributes == {"city": "北京", "source": "book fair"}


def test_erased_reader_keeps_only_a_hash_and_stays_suppressed(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    _prepare(settings)
    with unit_of_work(settings.database_url) as session:
        import_subscribers(session, MESSY, "weekly")
    with unit_of_work(settings.database_url) as session:
        assert erase_subscriber(session, "Wang.Fang@example.cn")
    with session_factory(settings.database_url)() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Subscriber).where(Subscriber.name == "王芳")
            )
            == 0
        )
        erased = session.scalar(select(Subscriber).where(Subscriber.status == "erased"))
        assert erased is not None
        assert (erased.email, erased.name, erased.language, erased.attributes) == (
            None,
            None,
            None,
            {},
        )
        assert len(erased.email_hash) == 64
    # Importing the address again is refused: it is suppressed by its hash.
    with unit_of_work(settings.database_url) as session:
        report = import_subscribers(session, MESSY, "weekly")
    assert (4, "email", "wang.fang@example.cn is suppressed, not imported") in [
        (item.line, item.column, item.message) for item in report.problems
    ]


def test_cli_import_prints_the_report_with_line_numbers(
    tmp_path: Path, sqlite_url: str, use_settings: object
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    use_settings(settings)  # type: ignore[operator]
    _prepare(settings)
    runner = CliRunner()
    result = runner.invoke(cli, ["subscribers", "import", str(MESSY), "--list", "weekly"])
    assert result.exit_code == 1  # some rows were rejected
    assert "16 rows read" in result.output
    for line, _column, _message in EXPECTED_PROBLEMS:
        assert f"line {line}" in result.output
    as_json = runner.invoke(
        cli, ["subscribers", "import", str(MESSY), "--list", "weekly", "--json"]
    )
    data = json.loads(as_json.stdout)
    assert data["new_subscribers"] == 0
    assert [item["line"] for item in data["problems"]] == [line for line, _, _ in EXPECTED_PROBLEMS]

    exported = tmp_path / "weekly.csv"
    done = runner.invoke(cli, ["subscribers", "export", "--list", "weekly", "--out", str(exported)])
    assert done.exit_code == 0, done.output
    assert exported.read_text(encoding="utf-8").count("\n") == len(EXPECTED_PEOPLE) + 1

    shown = runner.invoke(cli, ["subscribers", "show", "grace@example.org", "--json"])
    assert {item["list"] for item in json.loads(shown.stdout)["subscriber"]["lists"]} == {
        "weekly",
        "daily",
    }
    erased = runner.invoke(cli, ["subscribers", "erase", "grace@example.org"])
    assert erased.exit_code == 0
    gone = runner.invoke(cli, ["subscribers", "show", "grace@example.org", "--json"])
    assert json.loads(gone.stdout)["subscriber"] is None
    assert json.loads(gone.stdout)["suppressed"]["reason"] == "erased"


def test_a_reader_added_by_another_writer_during_the_merge_is_joined_not_doubled(
    tmp_path: Path, postgres_url: str
) -> None:
    """Another transaction inserts one of the file's addresses and commits while the import's
    merge waits on it: the merge is refused by the unique index, merged again without
    conflicts, and that reader keeps the other writer's data and still joins the list."""
    settings = make_settings(tmp_path, postgres_url)
    _prepare(settings)
    source = tmp_path / "race.csv"
    source.write_text(
        "email,name\n"
        + "".join(f"reader{number}@example.org,Reader {number}\n" for number in range(250))
        + "late@example.org,From the file\n",
        encoding="utf-8",
    )
    engine = create_engine(postgres_url, poolclass=NullPool)
    other = engine.connect()
    other.begin()
    other.execute(
        text(
            "INSERT INTO subscribers (email, email_hash, name, attributes, status, soft_bounces,"
            " created_at, updated_at) VALUES ('late@example.org', :hash, 'Signed up on the web',"
            " '{}', 'active', 0, now(), now())"
        ),
        {"hash": address_hash("late@example.org")},
    )
    results: list[Any] = []

    def run_import() -> None:
        try:
            with unit_of_work(settings.database_url) as session:
                results.append(import_subscribers(session, source, "weekly", chunk_rows=100))
        except Exception as error:  # handed to the test thread
            results.append(error)

    worker = threading.Thread(target=run_import)
    worker.start()
    # Wait until the import's merge is blocked by the uncommitted row, then commit it.
    other_pid = other.execute(text("SELECT pg_backend_pid()")).scalar_one()
    deadline = time.monotonic() + 30
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": other_pid},
            ).scalar_one()
            if waiting:
                break
            time.sleep(0.02)
        else:
            other.rollback()
            pytest.fail("the import never waited for the other writer's row")
    other.commit()
    other.close()
    worker.join(timeout=60)
    engine.dispose()
    assert not worker.is_alive()
    report = results[0]
    assert not isinstance(report, Exception), report
    assert report.problems == []
    assert (report.accepted, report.new_subscribers, report.new_memberships) == (251, 250, 251)
    with session_factory(settings.database_url)() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 251
        late = session.scalar(select(Subscriber).where(Subscriber.email == "late@example.org"))
        assert late is not None
        assert late.name == "Signed up on the web"  # the other writer's data is kept
        lists = session.scalars(
            select(MailingList.name)
            .join(Subscription, Subscription.list_id == MailingList.id)
            .where(Subscription.subscriber_id == late.id)
        ).all()
        assert lists == ["weekly"]
        assert session.scalar(select(func.count()).select_from(Subscription)) == 251


def test_the_address_hash_has_a_hash_index_on_postgresql(postgres_url: str) -> None:
    engine = create_engine(postgres_url, poolclass=NullPool)
    with engine.connect() as connection:
        definition = connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_subscribers_email_hash'")
        ).scalar_one()
    engine.dispose()
    assert "USING hash (email_hash)" in definition
