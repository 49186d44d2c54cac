"""Benchmark: send one issue to N synthetic subscribers through the whole send path.

Setup: a database of its own on the machine's PostgreSQL, a private redis-server, two Celery
worker processes (``distributor worker --concurrency 1`` each) and the SendGrid-compatible
server from the tests in its own process. Prints:

* the time to write the ledger (in chunks, while the first batches are already sending) and
  the time until the first batch was published;
* the end-to-end send rate (recipients/second from dispatch to the issue being sent);
* the raw ceiling: the same requests (same payloads, tokens included) posted straight from one
  process with no ledger, no broker and no database, to a second server process;
* the ratio between the two;
* the CPU seconds each part used during the send: the worker processes (pool processes
  included), the PostgreSQL backends serving them, the mail server, Redis.

``--server minimal`` (the default) sends to ``bench/minimal_server.py``, which only reads each
request and answers 202: the figure then measures our path, not the test server, and the raw
ceiling is the physical one of client -> network on this machine. ``--server validating`` sends
to the SendGrid-compatible test server, which checks every v3 Mail Send rule and records what it
received (on a 2-core machine it is then itself the bottleneck).

Usage: ``.venv/bin/python bench/send.py [--recipients 1000000] [--server minimal|validating]``.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from distributor.adapters.sendgrid import SendGridEmailSender  # noqa: E402
from distributor.config import load_settings  # noqa: E402
from distributor.db.migrate import upgrade  # noqa: E402
from distributor.db.session import engine_for, session_factory  # noqa: E402
from distributor.services import sending  # noqa: E402
from distributor.services.issues import create_issue, issue_progress  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.factories.audience import article_row, bulk_subscribers, make_list  # noqa: E402
from tests.support.fake_sendgrid import API_KEY  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )


def _wait_port(port: int, timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def _stats(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as response:
        return dict(json.loads(response.read()))


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its living descendants (Linux /proc)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        # After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
        total += (int(fields[11]) + int(fields[12])) / _TICKS
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in task.read_text().split())
    return total


def _postgres_cpu(session: object, database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database`` (same machine)."""
    pids = session.execute(  # type: ignore[attr-defined]
        text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}
    ).scalars()
    seconds = sum(_cpu_seconds(pid) for pid in pids)
    session.commit()  # type: ignore[attr-defined]
    return seconds


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="Tasks in flight per worker.")
    parser.add_argument("--pool", default="prefork", help="Worker pool: prefork or threads.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--server",
        choices=("minimal", "validating"),
        default="minimal",
        help="The mail API server: minimal (reads, answers 202) or the validating test server.",
    )
    arguments = parser.parse_args()
    count = arguments.recipients

    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    work = Path(f"/tmp/distributor-bench-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    name = f"distributor_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(database_url)
        redis_port, real_port, ceiling_port = free_port(), free_port(), free_port()
        redis_binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        processes.append(
            _spawn(
                [
                    redis_binary,
                    "--port",
                    str(redis_port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(work),
                ],
                dict(os.environ),
                work / "redis.log",
            )
        )
        server_module = (
            ["bench/minimal_server.py"]
            if arguments.server == "minimal"
            else ["-m", "tests.support.fake_sendgrid"]
        )
        for port in (real_port, ceiling_port):
            processes.append(
                _spawn(
                    [sys.executable, *server_module, "--port", str(port)],
                    dict(os.environ),
                    work / f"sendgrid-{port}.log",
                )
            )
        mail_server, redis_server = processes[1], processes[0]
        for port in (redis_port, real_port, ceiling_port):
            _wait_port(port)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DATA_DIR": str(work / "var"),
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "PUBLIC_BASE_URL": "https://news.example.org",
            "MAIL_FROM": "news@news.example.org",
            "PUBLISHER_NAME": "The Example Review",
            "PUBLISHER_ADDRESS": "2 Example Road, Hong Kong",
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_HOST": f"http://127.0.0.1:{real_port}",
            "SENDGRID_TIMEOUT_SECONDS": "30",
            "SEND_LEASE_SECONDS": "120",
            "SCHEDULER_TICK_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }
        settings = load_settings({k: v for k, v in env.items() if k.isupper()})

        print(f"preparing {count:,} subscribers ...", flush=True)
        started = time.perf_counter()
        session = session_factory(database_url)()
        mailing_list = make_list(session)
        article = article_row(session)
        bulk_subscribers(session, mailing_list.id, count)
        issue = create_issue(
            session, ["weekly"], "The river issue", [article.id], preheader="Ferries at dawn"
        )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)

        # --- the raw ceiling: same requests, one process, no ledger ----------------------
        content = sending.issue_content(session, settings, issue)
        rows = session.execute(
            text("SELECT s.id, s.email, s.name FROM subscribers s ORDER BY s.id")
        ).all()
        session.commit()
        ceiling_sender = SendGridEmailSender(API_KEY, f"http://127.0.0.1:{ceiling_port}", 30)
        ceiling_started = time.perf_counter()
        for start in range(0, len(rows), 1000):
            # The same per-recipient work a worker does for a batch (tokens, links, tags).
            personaliser = sending.content_personaliser(settings, content)
            recipients, _ = sending.ledger_recipients(
                personaliser,
                [
                    (row.id, row.id, mailing_list.id, row.email, row.name, None)
                    for row in rows[start : start + 1000]
                ],
            )
            ceiling_sender.send_batch(
                sending.build_outgoing_batch(
                    settings,
                    content,
                    issue.id,
                    recipients,
                    custom_args=sending.batch_tags(issue.id, start, 1),
                )
            )
        ceiling_seconds = time.perf_counter() - ceiling_started
        del rows

        # --- the real path: ledger + broker + 2 worker processes --------------------------
        for index in range(arguments.workers):
            processes.append(
                _spawn(
                    [
                        sys.executable,
                        "-m",
                        "distributor.cli.main",
                        "worker",
                        "--concurrency",
                        str(arguments.concurrency),
                        "--pool",
                        arguments.pool,
                        "--queues",
                        "send,default",
                    ],
                    env,
                    work / f"worker-{index}.log",
                )
            )
        time.sleep(4)  # let the workers connect before the clock starts
        workers = processes[3 : 3 + arguments.workers]
        cpu_before = {
            "workers": sum(_cpu_seconds(worker.pid) for worker in workers),
            "mail server": _cpu_seconds(mail_server.pid),
            "redis": _cpu_seconds(redis_server.pid),
            "postgresql": _postgres_cpu(session, name),
        }

        from workers.celery_app import create_celery

        app = create_celery(settings)
        sending.start_issue_now(session, issue.id)
        session.commit()
        send_started = time.perf_counter()
        first_publish: list[float] = []

        def publish(batch_id: int) -> None:
            if not first_publish:
                first_publish.append(time.perf_counter() - send_started)
            app.send_task("distributor.send_batch", args=[batch_id])

        # As the dispatcher task does: the ledger is written in chunks and each chunk's batches
        # are published at once, so the workers send while the rest of the ledger is written.
        report = sending.dispatch_due(session, settings, now=datetime.now(UTC), publish=publish)
        ledger_seconds = time.perf_counter() - send_started
        published = sending.publish_pending_batches(session, settings, publish)
        # The scheduler (sweeper, finisher) starts only now: started earlier, it would dispatch
        # the issue itself and the ledger would not be timed.
        processes.append(
            _spawn(
                [sys.executable, "-m", "distributor.cli.main", "scheduler"],
                env,
                work / "scheduler.log",
            )
        )
        # Only the issue's status is polled while sending: counting a million-row ledger (the
        # full progress below) would compete with the send for the same two cores.
        while True:
            status = session.execute(
                text("SELECT status FROM issues WHERE id = :id"), {"id": issue.id}
            ).scalar_one()
            session.commit()
            if status not in {"sending", "scheduled"}:
                break
            time.sleep(0.25)
        total_seconds = time.perf_counter() - send_started
        cpu_used = {
            "workers": sum(_cpu_seconds(worker.pid) for worker in workers) - cpu_before["workers"],
            "mail server": _cpu_seconds(mail_server.pid) - cpu_before["mail server"],
            "redis": _cpu_seconds(redis_server.pid) - cpu_before["redis"],
            "postgresql": _postgres_cpu(session, name) - cpu_before["postgresql"],
        }
        progress = issue_progress(session, issue.id)
        session.commit()
        stats = _stats(real_port) if arguments.server == "validating" else {}
        session.close()

        rate = count / total_seconds
        ceiling_rate = count / ceiling_seconds
        print(f"recipients                     {count:,}")
        chunks = -(-count // settings.SEND_LEDGER_CHUNK)
        print(
            f"ledger written                 {ledger_seconds:.2f} s in {chunks} chunks, "
            f"while sending ({report.batches} batches, {report.recipients:,} rows)"
        )
        print(
            f"first batch published after    {first_publish[0] if first_publish else 0:.2f} s"
            f" (left over at the end: {published})"
        )
        print(
            f"end-to-end send                {total_seconds:.2f} s -> {rate:,.0f} recipients/s "
            f"(status {progress['status']}, sent {progress['sent']:,})"
        )
        if stats:
            print(
                f"server accepted                {stats['accepted_total']:,} "
                f"(unique {stats['accepted_unique']:,}, duplicates {stats['duplicates']})"
            )
        print(f"mail server                    {arguments.server}")
        print(
            f"raw ceiling (1 process)        {ceiling_seconds:.2f} s -> "
            f"{ceiling_rate:,.0f} recipients/s"
        )
        print(f"ratio end-to-end / ceiling     {rate / ceiling_rate:.2f}")
        cpu_total = sum(cpu_used.values())
        print(
            "CPU seconds during the send    "
            + ", ".join(f"{part} {seconds:.1f}" for part, seconds in cpu_used.items())
            + f"; {cpu_total:.1f} in all over {total_seconds:.1f} s on {os.cpu_count()} cores"
            f" ({cpu_total / (total_seconds * (os.cpu_count() or 1)):.0%} busy)"
        )
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        engine_for(database_url).dispose()
        if not arguments.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
