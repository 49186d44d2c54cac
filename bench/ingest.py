"""Ingest throughput: parse + extract + sanitise + store, on a generated 500-item feed.

Prints articles per second for the whole pipeline and for each stage. Run:

    .venv/bin/python bench/ingest.py [--items 500] [--paragraphs 12] [--database-url URL]

The feed is generated here (SEED-STORY shaped items: chrome, byline, quotes, two captioned
photos with credits, a names-changed note and an "About the author" block). Timings are
printed, never asserted.

Before timing, the ORM mappers are configured (:func:`distributor.db.session.warm_up_orm`) and
the language-identification model is loaded, as a worker does once at start-up
(``workers.tasks._warm_up``); everything else a real ingest of 500 new items does is timed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work, warm_up_orm
from distributor.ingest.languages import warm_up as warm_up_language_model
from distributor.ingest.pipeline import parse_feed
from distributor.services.ingest import store_articles

PARAGRAPH = (
    "“We had no choice,” said Chen Lin*, a {n}-year-old courier who earns about 500 yuan "
    '(£53) a week on <a href="https://platform.example.com/jobs">DeliverNow</a> — '
    "and who asked that her real name not be used. Her route crosses Chengdu’s 三环路."
)


def generate_feed(items: int, paragraphs: int) -> bytes:
    """An RSS 2.0 + Media RSS + content:encoded feed with ``items`` SEED-shaped stories."""
    start = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Bench</title>'
        "<link>https://magazine.example.org/</link><description>bench</description>"
        "<language>en</language>"
    ]
    for index in range(items):
        body = [
            '<div class="loading">Loading…</div><p>Stories</p>',
            f"<p>BY AUTHOR NUMBER{index % 37}</p>",
        ]
        for number in range(paragraphs):
            body.append(f"<p>{PARAGRAPH.format(n=20 + number)}</p>")
            if number in (2, 7):
                body.append(
                    f'<p><img src="/images/{index}-{number}.jpg"></p>'
                    f"<p>Workers wait outside a depot in the rain. Credit: Collective {number}</p>"
                )
        body.append("<p>*Names have been changed to ensure the safety of sources</p>")
        body.append(
            "<h3>About the author</h3><p>Author Number is a reporter based in Taipei "
            "who covers labour and technology. Their work has appeared widely.</p>"
        )
        html = "".join(body)
        published = format_datetime(start + timedelta(minutes=index))
        parts.append(
            f"<item><title>Story {index}: couriers on the edge of the platform economy</title>"
            f"<link>https://magazine.example.org/stories/{index}</link>"
            f'<guid isPermaLink="false">bench-{index}</guid>'
            f"<pubDate>{published}</pubDate><dc:creator>Author Number{index % 37}</dc:creator>"
            f"<description>{escape('A short dek for story ' + str(index))}</description>"
            f"<content:encoded><![CDATA[{html}]]></content:encoded>"
            f'<media:content url="https://magazine.example.org/lead/{index}.jpg" '
            'medium="image" type="image/jpeg" width="1200" height="800">'
            "<media:description>A lead photo.</media:description>"
            '<media:credit role="photographer" scheme="urn:ebu">Lead Photographer</media:credit>'
            "</media:content></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--paragraphs", type=int, default=12)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--feedparser-only",
        action="store_true",
        help="read with feedparser alone, without the strict reader (prices that shortcut)",
    )
    options = parser.parse_args()
    data = generate_feed(options.items, options.paragraphs)
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.db"
        upgrade(url)
        warm_up_orm()  # what a worker does once at start-up (see the module doc)
        warm_up_language_model()  # likewise (workers.tasks._warm_up)
        started = time.perf_counter()
        cpu_started = time.process_time()
        articles, report = parse_feed(data, "bench.xml", strict_reader=not options.feedparser_only)
        parsed = time.perf_counter()
        cpu_parsed = time.process_time()
        with unit_of_work(url) as session:
            result = store_articles(session, articles)
        stored = time.perf_counter()
        with unit_of_work(url) as session:
            again = store_articles(session, articles)
        repeated = time.perf_counter()
        engine_for(url).dispose()
    total = stored - started
    count = len(articles)
    print(
        f"feed: {len(data) / 1e6:.2f} MB, {options.items} items, {count} articles, "
        f"{len(report.problems)} problems"
    )
    print(
        f"parse + extract + sanitise: {parsed - started:.3f} s ({count / (parsed - started):.0f}/s)"
    )
    # CPU time of this process: on a shared machine it varies less than the wall clock.
    print(
        f"parse + extract + sanitise, CPU: {cpu_parsed - cpu_started:.3f} s "
        f"({count / (cpu_parsed - cpu_started):.0f}/s)"
        + (" [feedparser only]" if options.feedparser_only else "")
    )
    print(
        f"store (new):                {stored - parsed:.3f} s ({count / (stored - parsed):.0f}/s)"
    )
    print(
        f"store (unchanged again):    {repeated - stored:.3f} s "
        f"({len(again.unchanged) / (repeated - stored):.0f}/s)"
    )
    print(
        f"TOTAL parse+extract+sanitise+store: {count / total:.0f} articles/s "
        f"({len(result.created)} created)"
    )


if __name__ == "__main__":
    main()
