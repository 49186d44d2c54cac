"""Import speed: rows/second for a CSV of N subscribers into PostgreSQL (or SQLite).

    .venv/bin/python bench/import.py                      # 1,000,000 rows into PostgreSQL
    .venv/bin/python bench/import.py --rows 200000 --sqlite

PostgreSQL: a scratch database is created on the server in TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test) and dropped afterwards. Prints figures only;
the target is 50,000 rows/s or more on PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text

from distributor.db.migrate import upgrade
from distributor.db.models import Subscription
from distributor.db.session import engine_for, session_factory, unit_of_work
from distributor.services.subscriber_import import import_subscribers
from distributor.services.subscribers import create_list

NAMES = ["Ada Lovelace", "王芳", "Grace Hopper", "陈杰", "Mei Lin", "O'Brien, Sean"]


def write_csv(path: Path, rows: int) -> None:
    """A realistic file: names in two scripts, quoted commas, an attribute column."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "language", "attr.source"])
        for number in range(rows):
            writer.writerow(
                [
                    f"reader{number}@example{number % 97}.org",
                    NAMES[number % len(NAMES)],
                    "zh" if number % 3 == 0 else "en",
                    "fair" if number % 5 == 0 else "",
                ]
            )


def run(url: str, csv_path: Path, rows: int) -> None:
    upgrade(url)
    with unit_of_work(url) as session:
        create_list(session, "weekly", title="The Weekly")
    started = time.perf_counter()
    with unit_of_work(url) as session:
        report = import_subscribers(session, csv_path, "weekly")
    elapsed = time.perf_counter() - started
    with session_factory(url)() as session:
        stored = session.scalar(select(func.count()).select_from(Subscription))
    print(f"imported {report.new_subscribers:,} subscribers ({stored:,} memberships)")
    print(f"problems: {len(report.problems)}")
    print(f"time: {elapsed:.1f} s; rate: {rows / elapsed:,.0f} rows/s")

    started = time.perf_counter()
    with unit_of_work(url) as session:
        again = import_subscribers(session, csv_path, "weekly")
    elapsed = time.perf_counter() - started
    print(
        f"re-import (changes nothing: {again.new_subscribers} new): {elapsed:.1f} s;"
        f" {rows / elapsed:,.0f} rows/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="Use a SQLite file instead.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "subscribers.csv"
        started = time.perf_counter()
        write_csv(csv_path, args.rows)
        size = csv_path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s")
        if args.sqlite:
            print("database: SQLite")
            run(f"sqlite:///{folder}/bench.db", csv_path, args.rows)
            return
        admin_url = os.environ.get(
            "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        name = f"distributor_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        print("database: PostgreSQL")
        try:
            run(url, csv_path, args.rows)
        finally:
            engine_for(url).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
