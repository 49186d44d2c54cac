"""Benchmark: one 10-article issue render (excerpts, and whole stories with 3 to 6 photos
each), and personalised copies per second (one core). English and Simplified Chinese issues use
the long sample stories; Traditional Chinese, Arabic and Persian issues (right-to-left, other
fonts and labels) use the shorter sample stories of the language tests.

Run: .venv/bin/python bench/render.py [--renders 200] [--copies 50000]
Targets: < 20 ms per render, >= 50,000 personalised copies/s (both layouts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distributor.rendering.email import (
    IssueContent,
    Recipient,
    personalise,
    render_issue,
    substitutions_for,
)
from tests.factories.email_stories import branding, issue_content
from tests.factories.full_stories import full_issue
from tests.unit.rendering.email_lang_stories import issue_in

LANGUAGES = ("en", "zh-Hans", "zh-Hant", "ar", "fa")


def _content(language: str, layout: str) -> IssueContent:
    if language not in ("en", "zh-Hans"):
        return issue_in(language, 10, layout=layout)
    return full_issue(10, language) if layout == "full" else issue_content(10, language)


def bench_render(language: str, renders: int, layout: str = "excerpt") -> None:
    content = _content(language, layout)
    house = branding()
    for _ in range(10):
        rendered = render_issue(content, house)
    timings = []
    cpu_start = time.process_time()
    for _ in range(renders):
        start = time.perf_counter()
        rendered = render_issue(content, house)
        timings.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) / renders * 1000
    timings.sort()
    # CPU time is what one core spends; wall time also counts waiting when the machine is busy.
    print(
        f"render 10 articles [{language}, {layout}]: {cpu_ms:.2f} ms CPU per render; wall mean "
        f"{statistics.mean(timings):.2f} ms, median {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms | "
        f"HTML {rendered.html_bytes / 1000:.1f} KB, "
        f"text {len(rendered.text.encode()) / 1000:.1f} KB"
    )


def bench_personalise(language: str, copies: int, layout: str = "excerpt") -> None:
    rendered = render_issue(_content(language, layout), branding())
    base = "https://news.example.org"
    recipients = [
        Recipient(
            email=f"reader{index}@example.org",
            first_name=None if index % 7 == 0 else f"Reader{index}",
            unsubscribe_url=f"{base}/unsubscribe/AWUGi31mvnjHDYihJqyBWDfeoQl7j{index:06d}",
            preferences_url=f"{base}/preferences/AWUGi31mvnjHDYihJqyBWDfeoQl7j{index:06d}",
            web_url=f"{base}/archive/web-token-abcdefgh",
        )
        for index in range(1000)
    ]
    personalise(rendered, recipients[0], "reader")
    total_bytes = 0
    start = time.process_time()
    for index in range(copies):
        html, text = personalise(rendered, recipients[index % 1000], "reader")
        total_bytes += len(html) + len(text)
    elapsed = time.process_time() - start
    start = time.process_time()
    for index in range(copies):
        substitutions_for(recipients[index % 1000], "reader")
    substitutions_elapsed = time.process_time() - start
    print(
        f"personalise [{language}, {layout}]: {copies / elapsed:,.0f} copies/s of CPU "
        f"({elapsed / copies * 1e6:.1f} us per copy, {total_bytes / elapsed / 1e9:.2f} G chars/s); "
        f"substitutions only: {copies / substitutions_elapsed:,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--copies", type=int, default=50_000)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    args = parser.parse_args()
    languages = [language.strip() for language in args.languages.split(",") if language.strip()]
    for layout in ("excerpt", "full"):
        for language in languages:
            bench_render(language, args.renders, layout)
    for layout in ("excerpt", "full"):
        for language in languages:
            bench_personalise(language, args.copies, layout)


if __name__ == "__main__":
    main()
