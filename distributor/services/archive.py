"""A newsroom's whole state as one portable archive, and back (``distributor export`` and
``distributor import-archive``).

The archive is a ZIP file: ``manifest.json`` (format name and version, the schema revision, when
it was written, the row count and SHA-256 of each table file, a fingerprint of the address-hash
key) and ``tables/<table>.jsonl``, one JSON object per row in primary-key order. The format is
described in ``docs/archive-format.md``. Every table of the schema is written, so a table added
by a later migration is carried without changing this module, except:

- ``feed_documents`` (rendered feeds) are not written: they are rebuilt after an import;
- desk users lose their password hashes and session nonces (each must be given a new password
  with ``distributor users set-password``);
- partners lose their API key hashes and push secrets (rotate each key and set a new secret).

An import goes into an empty database at the same schema revision, in one transaction per
table chunk; it refuses an archive of another format version or schema revision, and one
written with another address-hash key (stored address hashes would no longer match).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, DateTime, LargeBinary

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Base, UTCDateTime
from distributor.services import audit

FORMAT = "distributor-archive"
FORMAT_VERSION = 1
SKIPPED_TABLES = frozenset({"feed_documents"})
# Column values an archive never carries, and what an import writes instead.
REDACTED: dict[str, dict[str, Any]] = {
    "users": {"password_hash": "!disabled", "session_nonce": ""},
    "partners": {"api_key_hash": None, "api_key_prefix": None, "push_secret": None},
}
CHUNK = 1000


class ArchiveError(Exception):
    """The archive cannot be written or restored; the message says why."""


@dataclass
class ArchiveSummary:
    path: str
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "revision": self.revision,
            "tables": self.tables,
            "notes": self.notes,
        }


def _tables() -> list[Table]:
    return [table for table in Base.metadata.sorted_tables if table.name not in SKIPPED_TABLES]


def _revision(session: Session) -> str:
    try:
        value = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        raise ArchiveError(
            "the database has no schema revision: run `distributor db upgrade` first"
        ) from exc
    if not value:
        raise ArchiveError("the database has no schema revision: run `distributor db upgrade`")
    return str(value)


def key_fingerprint(settings: Settings) -> str:
    """A fingerprint of the address-hash key (not the key): restoring with another key would
    leave every stored address hash (suppressions, erased readers) unmatched."""
    return hmac.new(
        settings.address_hash_key(), b"distributor-archive", hashlib.sha256
    ).hexdigest()[:16]


# ------------------------------------------------------------------------------- encoding
def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(table: Table) -> dict[str, Any]:
    decoders: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, UTCDateTime | DateTime):
            decoders[column.name] = _datetime
        elif isinstance(kind, LargeBinary):
            decoders[column.name] = base64.b64decode
        elif isinstance(kind, JSON):
            decoders[column.name] = None
    return decoders


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rows(session: Session, table: Table) -> Iterator[dict[str, Any]]:
    redacted = REDACTED.get(table.name, {})
    order = list(table.primary_key.columns)
    result = session.execute(select(table).order_by(*order).execution_options(yield_per=CHUNK))
    for row in result.mappings():
        yield {name: (None if name in redacted else _encode(value)) for name, value in row.items()}


# --------------------------------------------------------------------------------- export
def export_archive(session: Session, settings: Settings, out: Path) -> ArchiveSummary:
    """Write every table (see the module doc) to the archive ``out``; returns the counts."""
    revision = _revision(session)
    summary = ArchiveSummary(path=str(out), revision=revision)
    files: dict[str, dict[str, Any]] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in _tables():
            name = f"tables/{table.name}.jsonl"
            digest = hashlib.sha256()
            count = 0
            with archive.open(name, "w") as raw:
                for row in _rows(session, table):
                    line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
                    data = line.encode("utf-8")
                    digest.update(data)
                    raw.write(data)
                    count += 1
            files[table.name] = {"file": name, "rows": count, "sha256": digest.hexdigest()}
            summary.tables[table.name] = count
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_revision": revision,
            "written_at": SYSTEM_CLOCK.now().isoformat(),
            "address_key_fingerprint": key_fingerprint(settings),
            "tables": files,
            "not_included": {
                "feed_documents": "rebuilt after an import",
                **{
                    f"{table}.{column}": "never exported"
                    for table, columns in REDACTED.items()
                    for column in columns
                },
            },
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    partial.replace(out)
    summary.notes.append(
        "desk users have no password in the archive, partners no API key or push secret"
    )
    return summary


# --------------------------------------------------------------------------------- import
def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise ArchiveError("not a Distributor archive: it has no manifest.json") from None
    except ValueError as exc:
        raise ArchiveError(f"manifest.json is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"not a Distributor archive (format {manifest.get('format')!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            f"archive format version {manifest.get('format_version')!r} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    return manifest


def _lines(raw: IO[bytes] | io.RawIOBase, where: str) -> Iterator[tuple[int, dict[str, Any]]]:
    buffered = io.BufferedReader(raw) if isinstance(raw, io.RawIOBase) else raw
    for number, line in enumerate(io.TextIOWrapper(buffered, encoding="utf-8"), start=1):
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ArchiveError(f"{where} line {number}: not valid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise ArchiveError(f"{where} line {number}: not a JSON object")
        yield number, row


def import_archive(session: Session, settings: Settings, path: Path) -> ArchiveSummary:
    """Restore the archive at ``path`` into this (empty, migrated) database. Commits."""
    revision = _revision(session)
    if not zipfile.is_zipfile(path):
        raise ArchiveError(f"{path} is not a ZIP archive")
    summary = ArchiveSummary(path=str(path), revision=revision)
    with zipfile.ZipFile(path) as archive:
        manifest = _manifest(archive)
        if manifest.get("schema_revision") != revision:
            raise ArchiveError(
                f"the archive is of schema revision {manifest.get('schema_revision')!r}, this "
                f"database is at {revision!r}: restore it with the Distributor version that "
                "wrote it, then upgrade"
            )
        if manifest.get("address_key_fingerprint") != key_fingerprint(settings):
            raise ArchiveError(
                "the archive was written with another ADDRESS_HASH_KEY (or SECRET_KEY when that "
                "is unset): set the same key as the newsroom it comes from, or stored address "
                "hashes (suppressions, erased readers) would no longer match"
            )
        tables = _tables()
        occupied = [
            table.name
            for table in tables
            if session.execute(select(func.count()).select_from(table)).scalar()
        ]
        if occupied:
            raise ArchiveError(
                "the database is not empty (rows in " + ", ".join(occupied) + "): an archive "
                "is restored into a new database only"
            )
        listed: dict[str, Any] = manifest.get("tables", {})
        for table in tables:
            entry = listed.get(table.name)
            if entry is None:
                raise ArchiveError(f"the archive has no table {table.name!r}")
            summary.tables[table.name] = _restore_table(session, archive, table, entry)
        _advance_sequences(session, tables)
        audit.record(
            session,
            "archive.import",
            summary=f"{path.name}: {sum(summary.tables.values())} rows",
        )
        session.commit()
    summary.notes.append(
        "give every desk user a new password (distributor users set-password), rotate each "
        "partner's API key and set push secrets again; feeds are rebuilt"
    )
    return summary


def _restore_table(
    session: Session, archive: zipfile.ZipFile, table: Table, entry: dict[str, Any]
) -> int:
    name = str(entry.get("file", ""))
    columns = {column.name for column in table.columns}
    decoders = _decoder(table)
    redacted = REDACTED.get(table.name, {})
    digest = hashlib.sha256()
    count = 0
    chunk: list[dict[str, Any]] = []
    try:
        raw = archive.open(name)
    except KeyError:
        raise ArchiveError(f"the archive lacks {name!r} (table {table.name})") from None
    with raw:
        reader = _HashingReader(raw, digest)
        for number, row in _lines(reader, name):
            unknown = set(row) - columns
            if unknown:
                raise ArchiveError(f"{name} line {number}: unknown columns {sorted(unknown)}")
            values = {}
            for column in columns:
                value = row.get(column)
                if column in redacted:
                    value = redacted[column]
                elif value is not None and decoders.get(column) is not None:
                    try:
                        value = decoders[column](value)
                    except (TypeError, ValueError) as exc:
                        raise ArchiveError(f"{name} line {number}, {column}: {exc}") from None
                values[column] = value
            chunk.append(values)
            count += 1
            if len(chunk) >= CHUNK:
                session.execute(table.insert(), chunk)
                chunk = []
        if chunk:
            session.execute(table.insert(), chunk)
    if count != entry.get("rows") or digest.hexdigest() != entry.get("sha256"):
        raise ArchiveError(
            f"{name} does not match the manifest ({count} rows read, {entry.get('rows')} "
            "listed, or a changed checksum): the archive is damaged"
        )
    return count


class _HashingReader(io.RawIOBase):
    """Reads through to ``raw`` and hashes what passes (the manifest's checksum)."""

    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self._raw = raw
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        self._digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _advance_sequences(session: Session, tables: list[Table]) -> None:
    """On PostgreSQL, move each id sequence past the restored ids."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].name != "id":
            continue
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name},
        )
