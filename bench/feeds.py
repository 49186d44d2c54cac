"""Benchmark: a 50-item partner feed served by the real web app under uvicorn on 127.0.0.1.

Prints requests/second for 200 responses, 304 responses (If-None-Match), and the same server
answering a constant body from a bare route (the ceiling of the stack), in one run.

    .venv/bin/python bench/feeds.py [--seconds 5] [--connections 16] [--format rss]

The load generator is a lean asyncio keep-alive HTTP/1.1 client in this process; the server is
a separate process (one uvicorn worker), so the two do not share a GIL.

    .venv/bin/python bench/feeds.py --rebuild [--stories 50,500,2000] [--partners 5]

prints instead how long the rebuilds after a change take (SQLite): one story changed (the
public documents and the partners whose selection has it), one partner created (its current
documents, built before its key page answers; then with its archive pages, as the worker does)
and everything.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONSTANT_PATH = "/bench/constant"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(data_dir: Path, feed_format: str) -> tuple[str, str, int]:
    """Create a database with 50 stories and one partner; build the feeds.

    Returns (API key, feed path, partner id).
    """
    from distributor.config import load_settings
    from distributor.db.migrate import upgrade
    from distributor.db.session import unit_of_work
    from distributor.services.feeds import PartnerSettings, create_partner, rebuild_feeds
    from tests.factories.feed_stories import english_feed_article, upsert_article

    settings = load_settings(
        {"DATA_DIR": str(data_dir), "SECRET_KEY": "bench-secret-key-0123456789"}
    )
    upgrade(settings.database_url)
    now = datetime.now(UTC)
    with unit_of_work(settings.database_url) as session:
        for number in range(1, 51):
            published = now - timedelta(hours=100 - number)
            upsert_article(
                session, english_feed_article(number, published_at=published, updated_at=published)
            )
        created = create_partner(session, "Bench Partner", PartnerSettings(), now)
        rebuild_feeds(session, settings, None, now)
    return created.api_key.key, f"/partners/feed/{feed_format}", created.partner.id


def _serve(data_dir: str, port: int, feed_format: str, partner_id: int) -> None:
    import uvicorn
    from fastapi import Response

    from distributor.config import load_settings
    from distributor.db.session import session_factory
    from distributor.domain.partners import parse_feed_format
    from distributor.services.feeds import document_key, load_feed_document
    from distributor.web.app import create_app

    settings = load_settings(
        {
            "DATA_DIR": data_dir,
            "SECRET_KEY": "bench-secret-key-0123456789",
            "PARTNER_RATE_LIMIT_PER_MINUTE": "100000000",
            "LOG_LEVEL": "WARNING",
        }
    )
    app = create_app(settings)
    key = document_key(f"partner:{partner_id}", parse_feed_format(feed_format))
    with session_factory(settings.database_url)() as session:
        stored = load_feed_document(session, key)
    if stored is None:
        raise SystemExit(f"feed document {key} was not built")
    # The ceiling answers the very same bytes, so only the feed route's own work differs.
    body, content_type = stored.body, stored.content_type

    @app.get(CONSTANT_PATH)
    async def constant() -> Response:
        return Response(content=body, media_type=content_type)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _worker(port: int, request: bytes, deadline: float, counts: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def _load(
    port: int, request: bytes, seconds: float, connections: int
) -> tuple[float, dict[int, int]]:
    counts: dict[int, int] = {}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_worker(port, request, deadline, counts) for _ in range(connections)))
    return time.perf_counter() - start, counts


def _request(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _etag(port: int, path: str, api_key: str) -> str:
    import httpx

    response = httpx.get(
        f"http://127.0.0.1:{port}{path}",
        headers={"X-Api-Key": api_key, "Accept-Encoding": "identity"},
    )
    response.raise_for_status()
    return response.headers["etag"]


def _rebuild_figures(stories: list[int], partners: int) -> None:
    """Time the rebuilds that follow a change, for each database size in ``stories``."""
    from distributor.config import load_settings
    from distributor.db.migrate import upgrade
    from distributor.db.session import unit_of_work
    from distributor.services.feeds import PartnerSettings, create_partner, rebuild_feeds
    from tests.factories.feed_stories import english_feed_article, upsert_article

    print(f"rebuild after a change (SQLite, {partners} partners, FEED_PAGE_SIZE 50)")
    print(
        f"{'stories':>8} {'one story changed':>18} {'new partner,':>16} {'new partner,':>16}"
        f" {'everything':>11}"
    )
    print(f"{'':8} {'':18} {'current docs':>16} {'with archives':>16}")
    for count in stories:
        with tempfile.TemporaryDirectory(prefix="distributor-bench-") as folder:
            settings = load_settings(
                {"DATA_DIR": folder, "SECRET_KEY": "bench-secret-key-0123456789"}
            )
            upgrade(settings.database_url)
            now = datetime.now(UTC)
            with unit_of_work(settings.database_url) as session:
                for number in range(1, count + 1):
                    published = now - timedelta(minutes=count - number)
                    upsert_article(
                        session,
                        english_feed_article(number, published_at=published, updated_at=published),
                    )
                for number in range(partners):
                    create_partner(session, f"Partner {number}", PartnerSettings(), now)
            timings = []
            for article_ids, partner_ids in (
                (None, ()),  # the first build (also warms up)
                ([count], ()),
            ):
                start = time.perf_counter()
                with unit_of_work(settings.database_url) as session:
                    rebuild_feeds(session, settings, article_ids, now, partner_ids)
                timings.append(time.perf_counter() - start)
            with unit_of_work(settings.database_url) as session:
                created = create_partner(session, "New Partner", PartnerSettings(), now)
            for archives in (False, True):
                start = time.perf_counter()
                with unit_of_work(settings.database_url) as session:
                    rebuild_feeds(
                        session, settings, [], now, [created.partner.id], archives=archives
                    )
                timings.append(time.perf_counter() - start)
        print(
            f"{count:8d} {timings[1] * 1000:15.0f} ms {timings[2] * 1000:13.0f} ms"
            f" {timings[3] * 1000:13.0f} ms {timings[0] * 1000:8.0f} ms"
        )


def main() -> None:
    """Run the benchmark and print a small table."""
    from distributor.domain.partners import FeedFormat

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--format", default="rss", choices=[value.value for value in FeedFormat])
    parser.add_argument("--rebuild", action="store_true", help="Time rebuilds instead.")
    parser.add_argument("--stories", default="50,500,2000", help="With --rebuild: sizes.")
    parser.add_argument("--partners", type=int, default=5, help="With --rebuild: partners.")
    args = parser.parse_args()
    if args.rebuild:
        _rebuild_figures([int(n) for n in args.stories.split(",")], args.partners)
        return

    with tempfile.TemporaryDirectory(prefix="distributor-bench-") as folder:
        data_dir = Path(folder)
        api_key, path, partner_id = _prepare(data_dir, args.format)
        port = _free_port()
        context = multiprocessing.get_context("fork")
        server = context.Process(
            target=_serve, args=(str(data_dir), port, args.format, partner_id), daemon=True
        )
        server.start()
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("server did not start") from None
                    time.sleep(0.1)
            etag = _etag(port, path, api_key)
            key_header = {"X-Api-Key": api_key, "Accept-Encoding": "identity"}
            scenarios = [
                (
                    "constant body (ceiling)",
                    _request(CONSTANT_PATH, {"Accept-Encoding": "identity"}),
                ),
                ("partner feed 200", _request(path, key_header)),
                ("partner feed 304", _request(path, {**key_header, "If-None-Match": etag})),
            ]
            # Warm up caches and connections, then measure each scenario in turn.
            asyncio.run(_load(port, scenarios[1][1], 1.0, args.connections))
            results = []
            for name, request in scenarios:
                elapsed, counts = asyncio.run(_load(port, request, args.seconds, args.connections))
                results.append((name, sum(counts.values()) / elapsed, counts))
        finally:
            server.terminate()
            server.join(timeout=5)
    ceiling = results[0][1]
    print(
        f"50-item partner {args.format} feed, {args.connections} connections, "
        f"{args.seconds:.0f} s per scenario"
    )
    print(f"{'scenario':28} {'req/s':>10} {'of ceiling':>11}  statuses")
    for name, rate, counts in results:
        print(f"{name:28} {rate:10.0f} {rate / ceiling:10.0%}  {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
