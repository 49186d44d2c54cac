"""Import readers from CSV (validated row by row, loaded in bulk) and export them again.

The CSV has a header row. Columns:

* ``email`` (required), ``name``, ``language`` (a tag such as ``en`` or ``zh-Hans``);
* ``lists``: more list names for the row, separated by ``;`` or ``|`` (the list given on the
  command line is always included);
* ``status``: ``confirmed`` (default), ``unconfirmed`` or ``unsubscribed``, so an export
  can be imported elsewhere without re-subscribing anyone who left;
* ``attributes`` (a JSON object) and ``attr.<key>`` columns: extra attributes;
* ``confirmed_at``, ``unsubscribed_at``: written by the export, ignored on import.

Every bad row is reported with its line number and skipped; every good row is imported.
Importing the same file again changes nothing: existing readers keep their data and their
memberships (in particular, nobody who unsubscribed is subscribed again).

Speed: rows are validated in Python while the previous chunk is merged, loaded a chunk at a
time into temporary tables (``COPY`` on PostgreSQL, batched ``executemany`` on SQLite) and
merged set-wise: on PostgreSQL one statement per chunk looks every address up once through
the email index, inserts only the new readers and their memberships, and falls back to
``ON CONFLICT DO NOTHING`` only when another writer added one of the addresses meanwhile.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK, Clock
from distributor.db.models import (
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
    UTCDateTime,
)
from distributor.domain.addresses import canonical_email, email_problem
from distributor.domain.languages import normalise_language_tag
from distributor.domain.spreadsheets import restore_cell, safe_row
from distributor.domain.subscribers import (
    SubscriberStatus,
    SubscriptionStatus,
    SuppressionReason,
)
from distributor.domain.text import normalise_space
from distributor.services import audit
from distributor.services.subscribers import (
    SubscriberError,
    language_problem,
    name_problem,
    require_list,
    require_open_list,
)
from distributor.services.suppression import address_hasher

KNOWN_COLUMNS = ("email", "name", "language", "lists", "status", "attributes")
EXPORT_ONLY_COLUMNS = ("confirmed_at", "unsubscribed_at")
ATTRIBUTE_PREFIX = "attr."
CHUNK_ROWS = 50_000
_STATUSES = {status.value for status in SubscriptionStatus}

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One rejected row (or a header problem, on line 1)."""

    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """What an import did: counts and every problem, by line."""

    source: str
    list_name: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    new_subscribers: int = 0
    new_memberships: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "source": self.source,
            "list": self.list_name,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "new_subscribers": self.new_subscribers,
            "new_memberships": self.new_memberships,
            "ignored_columns": self.ignored_columns,
            "problems": [
                {"line": item.line, "column": item.column, "message": item.message}
                for item in self.problems
            ],
        }

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.rows} rows read from {self.source}: {self.accepted} accepted,"
            f" {self.rejected} rejected; {self.new_subscribers} new subscribers,"
            f" {self.new_memberships} new memberships"
        )


@dataclass(frozen=True, slots=True)
class _Row:
    email: str
    address_hash: str
    name: str | None
    language: str | None
    attributes: str
    lists: tuple[int, ...]
    status: str


class _Header:
    """Which column holds what, and what the header itself got wrong."""

    def __init__(self, cells: list[str]) -> None:
        self.names = [cell.strip().lower() for cell in cells]
        self.index: dict[str, int] = {}
        self.attributes: list[tuple[str, int]] = []
        self.problems: list[ImportProblem] = []
        self.ignored: list[str] = []
        for position, (raw, name) in enumerate(zip(cells, self.names, strict=True)):
            if name in self.index or any(key == name for key, _ in self.attributes):
                self.problems.append(
                    ImportProblem(1, "duplicate column; the first one is used", raw)
                )
            elif name in KNOWN_COLUMNS:
                self.index[name] = position
            elif name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
                self.attributes.append((raw.strip()[len(ATTRIBUTE_PREFIX) :], position))
            elif name in EXPORT_ONLY_COLUMNS or name == "":
                self.ignored.append(raw)
            else:
                self.ignored.append(raw)
                self.problems.append(
                    ImportProblem(
                        1,
                        "unknown column, its values are ignored (known columns: "
                        + ", ".join(KNOWN_COLUMNS)
                        + f"; put extra attributes in columns named {ATTRIBUTE_PREFIX}<name>)",
                        raw,
                    )
                )
        self.has_attributes = "attributes" in self.index
        if "email" not in self.index:
            raise SubscriberError(
                "the first line must be a header with an 'email' column"
                f" (found: {', '.join(cells) or 'nothing'})"
            )

    def cell(self, row: list[str], name: str) -> str:
        position = self.index.get(name)
        if position is None or position >= len(row):
            return ""
        return restore_cell(row[position].strip())


class _Validator:
    """Checks rows one by one, remembering what it has seen (for duplicates)."""

    def __init__(self, session: Session, main_list: MailingList) -> None:
        self.main_list_id = main_list.id
        self.lists: dict[str, int] = {}
        self.archived: set[str] = set()
        for name, list_id, archived_at in session.execute(
            select(MailingList.name, MailingList.id, MailingList.archived_at)
        ):
            self.lists[name] = list_id
            if archived_at is not None:
                self.archived.add(name)
        self.suppressed = dict(
            session.execute(select(Suppression.email_hash, Suppression.reason)).all()
        )
        self.seen: dict[str, int] = {}
        self.hasher = address_hasher()

    def check(self, header: _Header, row: list[str], line: int) -> _Row | ImportProblem:
        if len(row) > len(header.names):
            return ImportProblem(
                line,
                f"{len(row)} values but the header has {len(header.names)} columns"
                " (a value containing a comma must be in double quotes)",
            )
        raw_email = header.cell(row, "email")
        if not raw_email:
            return ImportProblem(line, "the email address is missing", "email")
        problem = email_problem(raw_email)
        if problem:
            return ImportProblem(line, f"{raw_email!r}: {problem}", "email")
        address = canonical_email(raw_email)
        first = self.seen.get(address)
        if first is not None:
            return ImportProblem(line, f"{address} is a duplicate of line {first}", "email")
        self.seen[address] = line
        address_hash = self.hasher(address)
        reason = self.suppressed.get(address_hash)
        if reason is not None:
            # Whether someone asked to be erased is itself personal: not said to editors.
            why = "" if reason == SuppressionReason.ERASED.value else f" ({reason})"
            return ImportProblem(line, f"{address} is suppressed{why}, not imported", "email")
        name = normalise_space(header.cell(row, "name")) or None
        if name is not None and (problem := name_problem(name)):
            return ImportProblem(line, problem, "name")
        language = header.cell(row, "language") or None
        if language is not None:
            if problem := language_problem(language):
                return ImportProblem(line, problem, "language")
            language = normalise_language_tag(language)
        status = header.cell(row, "status").lower() or SubscriptionStatus.CONFIRMED.value
        if status not in _STATUSES:
            return ImportProblem(
                line, f"status {status!r} must be one of {', '.join(sorted(_STATUSES))}", "status"
            )
        list_ids = [self.main_list_id]
        raw_lists = header.cell(row, "lists") if "lists" in header.index else ""
        for list_name in raw_lists.replace("|", ";").split(";") if raw_lists else ():
            cleaned = list_name.strip()
            if not cleaned:
                continue
            list_id = self.lists.get(cleaned)
            if list_id is None:
                return ImportProblem(line, f"unknown list {cleaned!r}", "lists")
            if cleaned in self.archived:
                return ImportProblem(
                    line, f"list {cleaned!r} is archived: it takes no new readers", "lists"
                )
            if list_id not in list_ids:
                list_ids.append(list_id)
        attributes: dict[str, Any] = {}
        raw_attributes = header.cell(row, "attributes") if header.has_attributes else ""
        if raw_attributes:
            try:
                parsed = json.loads(raw_attributes)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                return ImportProblem(line, "attributes must be a JSON object", "attributes")
            attributes.update(parsed)
        for key, position in header.attributes:
            if position < len(row) and row[position].strip():
                attributes[key] = restore_cell(row[position].strip())
        return _Row(
            email=address,
            address_hash=address_hash,
            name=name,
            language=language,
            attributes=json.dumps(attributes, ensure_ascii=False, separators=(",", ":"))
            if attributes
            else "{}",
            lists=tuple(list_ids),
            status=status,
        )


# ----------------------------------------------------------------------------- bulk load
_CREATE_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS import_rows ("
    " email VARCHAR(320), email_hash VARCHAR(64), name VARCHAR(300),"
    " language VARCHAR(35), attributes TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS import_memberships ("
    " email VARCHAR(320), list_id BIGINT, status VARCHAR(20))",
)


# COPY text format: tab-separated, \N for NULL, backslash escapes for these four characters.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: str | int | None) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


def copy_block(rows: list[tuple[Any, ...]]) -> str:
    """``rows`` as the body of a ``COPY ... FROM STDIN`` in text format."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)


@dataclass
class _Prepared:
    """A chunk in the form the loader writes: COPY text on PostgreSQL, tuples on SQLite.

    Built by the thread that reads the CSV, so the loading thread only hands it over.
    """

    people: list[tuple[Any, ...]]
    memberships: list[tuple[Any, ...]]
    people_copy: str = ""
    memberships_copy: str = ""


class _BulkLoader:
    """Merges validated rows into the database a chunk at a time."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.now = now
        self.analyzed = False
        if self.postgres:
            # The merge is planned as a costly statement, and JIT-compiling it took longer
            # (about 35 ms a chunk) than it saved. The merge sorts a chunk by address, which
            # spilled to disk with the default 4 MB. SET LOCAL ends with the transaction.
            session.execute(text("SET LOCAL jit = off"))
            session.execute(text("SET LOCAL work_mem = '64MB'"))
        for statement in _CREATE_TEMP:
            session.execute(text(statement))
        session.execute(text("DELETE FROM import_rows"))
        session.execute(text("DELETE FROM import_memberships"))
        attributes = "CAST(r.attributes AS JSON)" if self.postgres else "r.attributes"
        self.insert_subscribers = text(
            "INSERT INTO subscribers (email, email_hash, name, language, attributes,"
            " status, soft_bounces, created_at, updated_at)"
            f" SELECT r.email, r.email_hash, r.name, r.language, {attributes},"
            " :active, 0, :now, :now FROM import_rows r WHERE true"
            " ON CONFLICT (email) DO NOTHING"
        ).bindparams(bindparam("now", type_=UTCDateTime()))
        self.insert_memberships = text(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at,"
            " confirmed_at, unsubscribed_at)"
            " SELECT s.id, m.list_id, m.status, :now,"
            " CASE WHEN m.status = :confirmed THEN :now END,"
            " CASE WHEN m.status = :unsubscribed THEN :now END"
            " FROM import_memberships m JOIN subscribers s ON s.email = m.email WHERE true"
            " ON CONFLICT (subscriber_id, list_id) DO NOTHING"
        ).bindparams(bindparam("now", type_=UTCDateTime()))
        self.merge_postgres = _merge_statement(concurrent_safe=False)
        self.merge_postgres_safe = _merge_statement(concurrent_safe=True)

    def prepare(self, rows: list[_Row]) -> _Prepared:
        """What :meth:`load` writes for ``rows`` (done while the previous chunk merges)."""
        memberships = [(row.email, list_id, row.status) for row in rows for list_id in row.lists]
        people = [
            (row.email, row.address_hash, row.name, row.language, row.attributes) for row in rows
        ]
        if self.postgres:
            return _Prepared([], [], copy_block(people), copy_block(memberships))
        return _Prepared(people, memberships)

    def load(self, chunk: _Prepared) -> tuple[int, int]:
        """Stage and merge a prepared chunk; return (new subscribers, new memberships)."""
        return self.merge() if self.stage(chunk) else (0, 0)

    def stage(self, chunk: _Prepared) -> bool:
        """Write ``chunk`` into the temporary tables; False when it holds no rows.

        The importer calls this on its reading thread, once the previous merge is done: a
        ``COPY`` is a stream of small writes, and each of them waited for the interpreter
        lock while the reading thread checked rows (five times longer than the ``COPY``
        itself). Staged, the chunk is merged on the loading thread, which then waits on the
        database alone.
        """
        if not (chunk.people or chunk.people_copy):
            return False
        if self.postgres:
            self._copy(chunk.people_copy, chunk.memberships_copy)
            if not self.analyzed:
                # Statistics for the temporary tables (they have none otherwise), so the
                # planner hashes the chunk for its joins. Once is enough: TRUNCATE keeps
                # them, and every chunk has the same shape (about 70 ms a chunk saved).
                self.session.execute(text("ANALYZE import_rows"))
                self.session.execute(text("ANALYZE import_memberships"))
                self.analyzed = True
            return True
        connection = self.session.connection()
        connection.exec_driver_sql("INSERT INTO import_rows VALUES (?, ?, ?, ?, ?)", chunk.people)
        connection.exec_driver_sql(
            "INSERT INTO import_memberships VALUES (?, ?, ?)", chunk.memberships
        )
        return True

    def merge(self) -> tuple[int, int]:
        """Merge the staged chunk and empty the temporary tables; return (new subscribers,
        new memberships)."""
        if self.postgres:
            values = {
                "now": self.now,
                "active": SubscriberStatus.ACTIVE.value,
                "confirmed": SubscriptionStatus.CONFIRMED.value,
                "unsubscribed": SubscriptionStatus.UNSUBSCRIBED.value,
            }
            try:
                with self.session.begin_nested():
                    added, joined = self.session.execute(self.merge_postgres, values).one()
            except IntegrityError:
                # Another writer added one of these addresses since the lookup: merge the
                # chunk again, skipping conflicts row by row, then give the readers that
                # writer created (invisible to that statement's snapshot) their memberships.
                added, joined = self.session.execute(self.merge_postgres_safe, values).one()
                late = self.session.execute(self.insert_memberships, values)
                joined += _rowcount(late)
            self.session.execute(text("TRUNCATE import_rows, import_memberships"))
            return int(added), int(joined)
        new_people = self.session.execute(
            self.insert_subscribers,
            {"now": self.now, "active": SubscriberStatus.ACTIVE.value},
        )
        new_memberships = self.session.execute(
            self.insert_memberships,
            {
                "now": self.now,
                "confirmed": SubscriptionStatus.CONFIRMED.value,
                "unsubscribed": SubscriptionStatus.UNSUBSCRIBED.value,
            },
        )
        self.session.execute(text("DELETE FROM import_rows"))
        self.session.execute(text("DELETE FROM import_memberships"))
        # SQLite has one writer: committing each merged chunk lets signups, unsubscribes and
        # sign-ins in between, instead of making them wait (and fail after the busy timeout)
        # until the whole file is in. The DBAPI connection is committed, not the session, so
        # the session keeps this connection and its temporary tables; the import stays
        # idempotent (a re-run merges what is missing), as a re-run after a crash already was.
        self.session.connection().connection.driver_connection.commit()  # type: ignore[union-attr]
        return _rowcount(new_people), _rowcount(new_memberships)

    def _copy(self, people: str, memberships: str) -> None:
        raw = self.session.connection().connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(
                "COPY import_rows (email, email_hash, name, language, attributes) FROM STDIN"
            ) as copy:
                copy.write(people)
            with cursor.copy("COPY import_memberships (email, list_id, status) FROM STDIN") as copy:
                copy.write(memberships)

    def close(self) -> None:
        """Drop the temporary tables (they would also go with the connection)."""
        self.session.execute(text("DROP TABLE IF EXISTS import_rows"))
        self.session.execute(text("DROP TABLE IF EXISTS import_memberships"))


def _merge_statement(*, concurrent_safe: bool) -> TextClause:
    """One PostgreSQL statement merging the chunk in the temporary tables.

    Each address is looked up once through the unique email index (``known``: a correlated
    subquery, because the planner's statistics for subscribers lag behind a big import and
    it would scan the whole table once per chunk). Only addresses not found are inserted,
    and memberships take their ids from that lookup and from RETURNING, never from a join
    with the whole subscribers table. Readers created by this statement cannot have
    memberships yet, so their rows skip the costlier ON CONFLICT path; so do new readers,
    unless ``concurrent_safe`` (the fallback when another writer added the same address
    meanwhile).
    """
    skip_existing = " ON CONFLICT (email) DO NOTHING" if concurrent_safe else ""
    membership = (
        "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at,"
        " confirmed_at, unsubscribed_at)"
        " SELECT i.id, m.list_id, m.status, :now,"
        " CASE WHEN m.status = :confirmed THEN :now END,"
        " CASE WHEN m.status = :unsubscribed THEN :now END"
        " FROM import_memberships m JOIN {ids} i ON i.email = m.email"
    )
    return text(
        "WITH known AS MATERIALIZED (SELECT id, email FROM ("
        " SELECT (SELECT s.id FROM subscribers s WHERE s.email = r.email) AS id, r.email"
        " FROM import_rows r OFFSET 0) found WHERE id IS NOT NULL),"
        " added AS ("
        " INSERT INTO subscribers (email, email_hash, name, language, attributes,"
        " status, soft_bounces, created_at, updated_at)"
        " SELECT r.email, r.email_hash, r.name, r.language, CAST(r.attributes AS JSON),"
        " :active, 0, :now, :now FROM import_rows r"
        " WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.email = r.email)"
        f"{skip_existing} RETURNING id, email),"
        f" joined_new AS ({membership.format(ids='added')} RETURNING 1),"
        f" joined_known AS ({membership.format(ids='known')}"
        " ON CONFLICT (subscriber_id, list_id) DO NOTHING RETURNING 1)"
        " SELECT (SELECT count(*) FROM added),"
        " (SELECT count(*) FROM joined_new) + (SELECT count(*) FROM joined_known)"
    ).bindparams(bindparam("now", type_=UTCDateTime()))


def _rowcount(result: Any) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if count and count > 0 else 0


# --------------------------------------------------------------------------------- import
def _rows_with_lines(handle: IO[str], report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(handle, strict=True)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.problems.append(
                ImportProblem(line, f"the CSV cannot be read from here on ({exc})")
            )
            return
        except UnicodeDecodeError as exc:
            report.problems.append(
                ImportProblem(
                    line,
                    f"the file is not UTF-8 from here on ({exc.reason});"
                    " save it as UTF-8 and import the remaining rows again",
                )
            )
            return
        yield line, row


def import_subscribers(
    session: Session,
    source: Path | IO[bytes],
    list_name: str,
    *,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    clock: Clock = SYSTEM_CLOCK,
) -> ImportReport:
    """Import the CSV ``source`` into ``list_name``; report every bad row by line number.

    ``progress(done_bytes, total_bytes)`` is called after each chunk. The caller commits; on
    SQLite each merged chunk is also committed as it goes (see ``_BulkLoader.merge``).
    Raises :class:`SubscriberError` only when nothing can be imported (unknown or archived
    list, no header with an ``email`` column).
    """
    mailing_list = require_open_list(session, list_name)
    if isinstance(source, Path):
        binary: IO[bytes] = source.open("rb")
        label = str(source)
    else:
        binary = source
        label = getattr(source, "name", "<stream>")
    report = ImportReport(source=str(label), list_name=list_name)
    handle: io.TextIOWrapper | None = None
    pool: ThreadPoolExecutor | None = None
    try:
        binary.seek(0, io.SEEK_END)
        total = binary.tell()
        binary.seek(0)
        # utf-8-sig drops a byte-order mark (spreadsheets write one); newline="" leaves line
        # ends inside quoted values to the CSV reader, as the csv module requires.
        handle = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        rows = _rows_with_lines(handle, report)
        first = next(rows, None)
        if first is None:
            raise SubscriberError(f"{label} is empty: expected a header row with 'email'")
        header = _Header(first[1])
        report.problems.extend(header.problems)
        report.ignored_columns = header.ignored
        validator = _Validator(session, mailing_list)
        loader = _BulkLoader(session, clock.now())
        # Reading and checking rows (Python) overlaps with merging the previous chunk (the
        # database): one chunk in flight, and the session is only ever used by one thread
        # at a time (the validator needs the database only when it is created).
        in_flight: Future[tuple[int, int]] | None = None
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-load")
        chunk: list[_Row] = []
        for line, row in rows:
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines are not rows
            report.rows += 1
            checked = validator.check(header, row, line)
            if isinstance(checked, ImportProblem):
                report.rejected += 1
                report.problems.append(checked)
                continue
            report.accepted += 1
            chunk.append(checked)
            if len(chunk) >= chunk_rows:
                prepared = loader.prepare(chunk)
                if in_flight is not None:
                    _count(in_flight.result(), report)
                # This thread writes the chunk into the temporary tables (see stage); the
                # loading thread merges it while the next chunk is read.
                in_flight = pool.submit(loader.merge) if loader.stage(prepared) else None
                chunk = []
                if progress is not None:
                    progress(binary.tell(), total)
        if in_flight is not None:
            _count(in_flight.result(), report)
        _count(loader.load(loader.prepare(chunk)), report)
        loader.close()
        if progress is not None:
            progress(total, total)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        if handle is not None:
            handle.detach()  # the caller's stream stays open
        if isinstance(source, Path):
            binary.close()
    report.problems.sort(key=lambda problem: problem.line)
    audit.record(
        session,
        "subscribers.import",
        "list",
        list_name,
        summary=(
            f"{report.new_subscribers} new readers, {report.new_memberships} new memberships, "
            f"{len(report.problems)} rows refused"
        ),
    )
    return report


def _count(loaded: tuple[int, int], report: ImportReport) -> None:
    new_people, new_memberships = loaded
    report.new_subscribers += new_people
    report.new_memberships += new_memberships


# --------------------------------------------------------------------------------- export
EXPORT_COLUMNS = (
    "email",
    "name",
    "language",
    "lists",
    "status",
    "attributes",
    "confirmed_at",
    "unsubscribed_at",
)


def export_subscribers(session: Session, list_name: str, out: IO[str]) -> int:
    """Write the members of ``list_name`` as CSV (importable again); return the row count.

    Erased readers are left out; their memberships no longer exist. A cell a spreadsheet would
    run as a formula gets a leading ``'`` (the import removes it again).
    """
    mailing_list = require_list(session, list_name)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    query = (
        select(Subscriber, Subscription)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == mailing_list.id, Subscriber.email.is_not(None))
        .order_by(Subscriber.id)
        .execution_options(yield_per=5000)
    )
    for subscriber, membership in session.execute(query):
        # Names and attributes come from public signups: never let them run as formulas.
        writer.writerow(
            safe_row(
                [
                    subscriber.email or "",
                    subscriber.name or "",
                    subscriber.language or "",
                    mailing_list.name,
                    membership.status,
                    json.dumps(subscriber.attributes or {}, ensure_ascii=False, sort_keys=True)
                    if subscriber.attributes
                    else "",
                    membership.confirmed_at.isoformat() if membership.confirmed_at else "",
                    membership.unsubscribed_at.isoformat() if membership.unsubscribed_at else "",
                ]
            )
        )
        count += 1
    return count
