"""Pre-flight: what an editor must know before an issue is mailed (pure).

One function, :func:`preflight`, decides for the CLI and the desk alike. Embargoes *block*: an
issue cannot go out before the latest embargo among its stories. Everything else (missing
credits or alt text, an email over the size budget, a story in another language than a list,
nobody to send to) is a *warning* the editor may confirm away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from distributor.domain.languages import same_language_for_readers

# Gmail clips a message whose HTML is over about 102 KB; the budget setting
# (EMAIL_HTML_BUDGET_BYTES, 100,000 by default) keeps a margin below it.
GMAIL_CLIP_BYTES = 102_000


class Severity(StrEnum):
    """Whether a problem stops the send (blocking) or only needs the editor's consent."""

    BLOCKING = "blocking"
    WARNING = "warning"


class ProblemKind(StrEnum):
    """What a pre-flight problem is about."""

    EMBARGO = "embargo"
    RENDER = "render"
    MISSING_CREDIT = "missing_credit"
    MISSING_ALT = "missing_alt"
    OVER_SIZE = "over_size"
    LANGUAGE = "language"
    NO_RECIPIENTS = "no_recipients"


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What pre-flight reads of a photo."""

    credit: str | None = None
    alt: str | None = None


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """What pre-flight reads of a story in the issue."""

    article_id: int
    title: str
    language: str = "en"
    embargo_until: datetime | None = None
    images: tuple[ImageFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class ListFacts:
    """A list the issue goes to."""

    name: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class SendPlan:
    """An issue about to be sent at ``send_at`` (UTC), as the editor asked in ``timezone``.

    ``html_bytes`` is None when the issue could not be rendered (``render_error`` says why).
    """

    issue_id: int
    recipients: int
    stories: tuple[StoryFacts, ...]
    lists: tuple[ListFacts, ...]
    send_at: datetime
    timezone: str = "UTC"
    html_bytes: int | None = None
    html_budget_bytes: int = 100_000
    render_error: str | None = None
    send_now: bool = False
    # What to do when the HTML is over the budget (which whole stories to show as excerpts).
    size_advice: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the editor must know; ``article_id`` names the story when there is one."""

    kind: ProblemKind
    severity: Severity
    message: str
    article_id: int | None = None


@dataclass(frozen=True, slots=True)
class Preflight:
    """The verdict on a :class:`SendPlan`."""

    issue_id: int
    recipients: int
    send_at: datetime
    timezone: str
    send_now: bool
    problems: tuple[Problem, ...]
    # The earliest time the issue may go out when an embargo blocks ``send_at``.
    earliest_allowed: datetime | None = None

    @property
    def blocking(self) -> tuple[Problem, ...]:
        """Problems that no confirmation can override."""
        return tuple(item for item in self.problems if item.severity is Severity.BLOCKING)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems the editor may confirm away."""
        return tuple(item for item in self.problems if item.severity is Severity.WARNING)

    @property
    def may_send(self) -> bool:
        """True when nothing blocks the send (warnings still need a confirmation)."""
        return not self.blocking

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON values (the CLI's --json and the API)."""
        return {
            "recipients": self.recipients,
            "send_at": self.send_at.isoformat(),
            "timezone": self.timezone,
            "may_send": self.may_send,
            "earliest_allowed": (
                self.earliest_allowed.isoformat() if self.earliest_allowed else None
            ),
            "problems": [
                {
                    "kind": str(item.kind),
                    "severity": str(item.severity),
                    "message": item.message,
                    "article_id": item.article_id,
                }
                for item in self.problems
            ],
        }

    def when_text(self) -> str:
        """ "now" or the send time in the editor's zone (and UTC)."""
        return "now" if self.send_now else f"at {moment_text(self.send_at, self.timezone)}"

    def refusal(self) -> str:
        """One message naming every blocking problem and the earliest allowed time."""
        reasons = "; ".join(item.message for item in self.blocking)
        action = "sent now" if self.send_now else f"sent {self.when_text()}"
        text = f"issue {self.issue_id} cannot be {action}: {reasons}"
        if self.earliest_allowed is not None:
            text += (
                f". The earliest allowed time is "
                f"{moment_text(self.earliest_allowed, self.timezone)}: schedule it then"
                " (or remove the embargoed stories)"
            )
        return text

    def summary_lines(self) -> list[str]:
        """The summary shown by the CLI before its prompt (the desk shows the same facts)."""
        readers = "recipient" if self.recipients == 1 else "recipients"
        lines = [f"Issue {self.issue_id}: {self.recipients} {readers}, {self.when_text()}."]
        lines.extend(f"BLOCKED: {item.message}" for item in self.blocking)
        lines.extend(f"warning: {item.message}" for item in self.warnings)
        if self.earliest_allowed is not None:
            lines.append(
                f"Earliest allowed time: {moment_text(self.earliest_allowed, self.timezone)}."
            )
        if not self.problems:
            lines.append("No open problems.")
        return lines


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC when it is empty or unknown (display only)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def moment_text(moment: datetime, timezone: str | None) -> str:
    """``2030-01-01 14:00 Asia/Hong_Kong (2030-01-01 06:00 UTC)``; just UTC for UTC."""
    zone = zone_or_utc(timezone)
    utc = moment.astimezone(UTC)
    if zone.key == "UTC":
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone.key} ({utc:%Y-%m-%d %H:%M} UTC)"


def embargoed_stories(stories: tuple[StoryFacts, ...], at: datetime) -> tuple[StoryFacts, ...]:
    """The stories still under embargo at ``at``."""
    return tuple(
        story
        for story in stories
        if story.embargo_until is not None and story.embargo_until.astimezone(UTC) > at
    )


def earliest_send_time(stories: tuple[StoryFacts, ...], at: datetime) -> datetime | None:
    """The latest embargo among ``stories`` when it is after ``at``, rounded up to the minute
    (schedules are minutes); None when nothing is embargoed at ``at``."""
    held = embargoed_stories(stories, at)
    if not held:
        return None
    latest = max(story.embargo_until.astimezone(UTC) for story in held if story.embargo_until)
    rounded = latest.replace(second=0, microsecond=0)
    return rounded if rounded == latest else rounded + timedelta(minutes=1)


def embargo_problems(
    stories: tuple[StoryFacts, ...], at: datetime, timezone: str | None
) -> tuple[Problem, ...]:
    """One blocking problem per story still embargoed at ``at``, naming it and its embargo."""
    return tuple(
        Problem(
            ProblemKind.EMBARGO,
            Severity.BLOCKING,
            f"“{story.title}” (article {story.article_id}) is embargoed until "
            f"{moment_text(story.embargo_until, timezone)}",
            story.article_id,
        )
        for story in embargoed_stories(stories, at)
        if story.embargo_until is not None
    )


def preflight(plan: SendPlan) -> Preflight:
    """Every open problem of ``plan``, blocking ones first, in story order."""
    problems: list[Problem] = list(embargo_problems(plan.stories, plan.send_at, plan.timezone))
    if plan.render_error is not None:
        problems.append(
            Problem(
                ProblemKind.RENDER,
                Severity.BLOCKING,
                f"the issue cannot be rendered: {plan.render_error}",
            )
        )
    for story in plan.stories:
        for number, image in enumerate(story.images, start=1):
            if not (image.credit or "").strip():
                problems.append(
                    Problem(
                        ProblemKind.MISSING_CREDIT,
                        Severity.WARNING,
                        f"“{story.title}”: image {number} has no credit",
                        story.article_id,
                    )
                )
            if not (image.alt or "").strip():
                problems.append(
                    Problem(
                        ProblemKind.MISSING_ALT,
                        Severity.WARNING,
                        f"“{story.title}”: image {number} has no alt text",
                        story.article_id,
                    )
                )
        for mailing_list in plan.lists:
            # en-GB on an en list is fine; zh-Hant on a zh-Hans list is not (another script).
            if not same_language_for_readers(story.language, mailing_list.language):
                problems.append(
                    Problem(
                        ProblemKind.LANGUAGE,
                        Severity.WARNING,
                        f"“{story.title}” is in {story.language} but the list "
                        f"{mailing_list.name} is in {mailing_list.language}",
                        story.article_id,
                    )
                )
    if plan.html_bytes is not None and plan.html_bytes > plan.html_budget_bytes:
        problems.append(
            Problem(
                ProblemKind.OVER_SIZE,
                Severity.WARNING,
                f"the email's HTML is {plan.html_bytes:,} bytes, over the budget of "
                f"{plan.html_budget_bytes:,}: Gmail clips messages over about "
                f"{GMAIL_CLIP_BYTES // 1000} KB and hides the rest behind a link"
                + (f". {plan.size_advice}" if plan.size_advice else ""),
            )
        )
    if plan.recipients == 0:
        problems.append(
            Problem(
                ProblemKind.NO_RECIPIENTS,
                Severity.WARNING,
                "nobody would receive it: the lists have no confirmed, unsuppressed readers",
            )
        )
    problems.sort(key=lambda item: item.severity is not Severity.BLOCKING)
    return Preflight(
        issue_id=plan.issue_id,
        recipients=plan.recipients,
        send_at=plan.send_at,
        timezone=plan.timezone,
        send_now=plan.send_now,
        problems=tuple(problems),
        earliest_allowed=earliest_send_time(plan.stories, plan.send_at),
    )
