"""Benchmark: `schedules run-due` over 1,000 schedules and 10,000 new stories.

Prints how long one ``run_due`` takes when every schedule is due at once (the worst minute:
each makes an issue of up to 10 stories), on SQLite by default or on PostgreSQL with --url.
Target: under 2 s.

    .venv/bin/python bench/schedules.py [--schedules 1000] [--stories 10000] [--mode draft]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_schedules]

The schedules vary their filters (section, tag, language, none) so the story selection does
real work; a second run right after shows the cost of a minute with nothing due.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECTIONS = ("News", "Sport", "Culture", "Business", "World")
TAGS = ("rivers", "ferries", "schools", "elections", "weather", "markets")
LANGUAGES = ("en", "zh-Hant", "en-GB")
CREATED = datetime(2030, 1, 1, tzinfo=UTC)
# Friday 4 January 2030, 08:00 in Hong Kong.
OCCURRENCE = datetime(2030, 1, 4, tzinfo=UTC)


def _prepare(url: str, schedules: int, stories: int, mode: str) -> None:
    from distributor.db.migrate import upgrade
    from distributor.db.session import unit_of_work
    from distributor.services.schedules import create_schedule
    from tests.factories.audience import make_list
    from tests.factories.schedules import bulk_stories, story_values

    upgrade(url)
    with unit_of_work(url) as session:
        make_list(session, "weekly")
        rows = []
        for number in range(stories):
            published = OCCURRENCE - timedelta(seconds=30 + number * 50)  # the last 6 days
            values = story_values(
                session, number, published, language=LANGUAGES[number % len(LANGUAGES)]
            )
            values["sections"] = [SECTIONS[number % len(SECTIONS)]]
            values["tags"] = [TAGS[number % len(TAGS)], TAGS[(number * 7) % len(TAGS)]]
            rows.append(values)
        bulk_stories(session, rows)
        for number in range(schedules):
            choice = number % 4
            create_schedule(
                session,
                f"schedule-{number}",
                list_name="weekly",
                cron="0 8 * * fri",
                timezone="Asia/Hong_Kong",
                mode=mode,
                section=SECTIONS[number % len(SECTIONS)] if choice == 1 else None,
                tag=TAGS[number % len(TAGS)] if choice == 2 else None,
                language="zh" if choice == 3 else None,
                subject="{date}: {first_title} and {count} more",
                now=CREATED,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=10000)
    parser.add_argument("--mode", choices=("draft", "auto"), default="draft")
    parser.add_argument("--url", default="", help="Database URL (default: a new SQLite file).")
    parser.add_argument("--profile", action="store_true", help="Print the top 25 functions.")
    args = parser.parse_args()

    from distributor.db.session import session_factory
    from distributor.services.schedules import run_due

    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        _prepare(url, args.schedules, args.stories, args.mode)
        session = session_factory(url)()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = run_due(session, OCCURRENCE + timedelta(seconds=20))
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
        created = len(report.created)
        stories = sum(item.stories for item in report.created)
        again_started = time.perf_counter()
        again = run_due(session, OCCURRENCE + timedelta(seconds=80))
        idle = time.perf_counter() - again_started
        session.close()
    backend = url.split(":", 1)[0]
    print(
        f"run_due ({backend}, {args.mode}): {args.schedules} schedules due, {args.stories} new"
        f" stories -> {created} issues of {stories} stories in {seconds:.2f} s"
        f" ({'under' if seconds < 2 else 'OVER'} the 2 s target);"
        f" the next minute (nothing due, {len(again.occurrences)} run) in {idle * 1000:.0f} ms"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
