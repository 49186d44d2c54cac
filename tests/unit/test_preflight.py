"""The pre-flight rules (pure): embargoes block, everything else warns."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from distributor.domain.preflight import (
    ImageFacts,
    ListFacts,
    ProblemKind,
    SendPlan,
    Severity,
    StoryFacts,
    earliest_send_time,
    moment_text,
    preflight,
    zone_or_utc,
)

NOW = datetime(2026, 12, 5, 7, 20, tzinfo=UTC)
EMBARGO = datetime(2030, 1, 1, 6, 0, 30, tzinfo=UTC)


def _plan(**changes: object) -> SendPlan:
    plan = SendPlan(
        issue_id=4,
        recipients=3,
        stories=(
            StoryFacts(1, "The couriers", "en", None, (ImageFacts("Agency", "Riders at dusk"),)),
            StoryFacts(2, "Leaked files", "en", EMBARGO),
        ),
        lists=(ListFacts("weekly", "en"),),
        send_at=NOW,
        timezone="Asia/Hong_Kong",
        html_bytes=24_000,
        html_budget_bytes=100_000,
        send_now=True,
    )
    return replace(plan, **changes)  # type: ignore[arg-type]


def test_an_embargo_blocks_and_names_the_story_the_time_and_the_earliest_allowed_time() -> None:
    verdict = preflight(_plan())

    assert not verdict.may_send
    [problem] = verdict.blocking
    assert problem.kind is ProblemKind.EMBARGO
    assert problem.article_id == 2
    assert problem.message == (
        "“Leaked files” (article 2) is embargoed until 2030-01-01 14:00 Asia/Hong_Kong "
        "(2030-01-01 06:00 UTC)"
    )
    # Rounded up to the next minute: a schedule at 06:00 would still be 30 s early.
    assert verdict.earliest_allowed == datetime(2030, 1, 1, 6, 1, tzinfo=UTC)
    assert verdict.refusal() == (
        "issue 4 cannot be sent now: “Leaked files” (article 2) is embargoed until "
        "2030-01-01 14:00 Asia/Hong_Kong (2030-01-01 06:00 UTC). The earliest allowed time is "
        "2030-01-01 14:01 Asia/Hong_Kong (2030-01-01 06:01 UTC): schedule it then (or remove "
        "the embargoed stories)"
    )
    assert verdict.summary_lines()[0] == "Issue 4: 3 recipients, now."
    assert verdict.summary_lines()[1].startswith("BLOCKED: “Leaked files”")
    assert verdict.summary_lines()[-1].startswith("Earliest allowed time: 2030-01-01 14:01")


def test_a_send_time_after_every_embargo_is_allowed() -> None:
    at = datetime(2030, 1, 1, 6, 1, tzinfo=UTC)
    verdict = preflight(_plan(send_at=at, send_now=False, timezone="UTC"))

    assert verdict.may_send
    assert verdict.problems == ()
    assert verdict.earliest_allowed is None
    assert verdict.when_text() == "at 2030-01-01 06:01 UTC"
    assert verdict.summary_lines() == [
        "Issue 4: 3 recipients, at 2030-01-01 06:01 UTC.",
        "No open problems.",
    ]
    assert earliest_send_time(_plan().stories, at) is None


def test_warnings_for_credits_alt_text_size_language_and_an_empty_audience() -> None:
    stories = (
        StoryFacts(1, "河边小镇的冬天", "zh-Hans", None, (ImageFacts(None, " "),)),
        StoryFacts(2, "Harbour", "en_GB", NOW - timedelta(days=1)),
    )
    verdict = preflight(
        _plan(stories=stories, recipients=0, html_bytes=120_000, lists=(ListFacts("w", "en"),))
    )

    assert verdict.may_send
    assert verdict.blocking == ()
    assert [item.kind for item in verdict.warnings] == [
        ProblemKind.MISSING_CREDIT,
        ProblemKind.MISSING_ALT,
        ProblemKind.LANGUAGE,
        ProblemKind.OVER_SIZE,
        ProblemKind.NO_RECIPIENTS,
    ]
    assert all(item.severity is Severity.WARNING for item in verdict.warnings)
    assert verdict.warnings[2].message == "“河边小镇的冬天” is in zh-Hans but the list w is in en"
    assert "Gmail clips messages over about 102 KB" in verdict.warnings[3].message
    assert verdict.summary_lines()[0] == "Issue 4: 0 recipients, now."
    # en_GB and en are one language for a reader; zh-Hans and zh-Hant are not (another script).
    same = preflight(_plan(stories=stories[1:], lists=(ListFacts("w", "en"),)))
    assert same.problems == ()
    traditional = preflight(_plan(stories=stories[:1], lists=(ListFacts("z", "zh-Hant"),)))
    assert [item.message for item in traditional.problems if item.kind is ProblemKind.LANGUAGE] == [
        "“河边小镇的冬天” is in zh-Hans but the list z is in zh-Hant"
    ]
    for list_language in ("zh", "zh-CN", "zh-Hans"):
        simplified = preflight(_plan(stories=stories[:1], lists=(ListFacts("z", list_language),)))
        assert ProblemKind.LANGUAGE not in {item.kind for item in simplified.problems}
    taiwan = StoryFacts(3, "河邊小鎮的冬天", "zh-TW", None)
    hant = preflight(_plan(stories=(taiwan,), lists=(ListFacts("z", "zh-Hant"),)))
    assert ProblemKind.LANGUAGE not in {item.kind for item in hant.problems}


def test_an_issue_that_cannot_be_rendered_blocks_and_one_recipient_is_singular() -> None:
    verdict = preflight(
        _plan(stories=(), render_error="a story has no title", html_bytes=None, recipients=1)
    )

    assert [item.kind for item in verdict.blocking] == [ProblemKind.RENDER]
    assert verdict.earliest_allowed is None
    assert verdict.refusal() == (
        "issue 4 cannot be sent now: the issue cannot be rendered: a story has no title"
    )
    assert verdict.summary_lines()[0] == "Issue 4: 1 recipient, now."


def test_times_show_in_the_editors_zone_and_an_unknown_zone_falls_back_to_utc() -> None:
    assert moment_text(EMBARGO, "Europe/London") == (
        "2030-01-01 06:00 Europe/London (2030-01-01 06:00 UTC)"
    )
    assert moment_text(EMBARGO, "Hong Kong") == "2030-01-01 06:00 UTC"
    assert moment_text(EMBARGO, None) == "2030-01-01 06:00 UTC"
    assert zone_or_utc("Mars/Olympus").key == "UTC"
