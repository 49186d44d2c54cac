"""What an ingest run found wrong, in words an editor can act on.

An ingest never stops at the first bad item: it keeps every article it could recover and
records one :class:`IngestProblem` per thing it had to skip, repair or guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a problem is: a warning keeps the item, a skip drops it, fatal drops all."""

    WARNING = "warning"
    SKIPPED = "skipped"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class IngestProblem:
    """One thing that was wrong: where (source, item) and why."""

    source: str
    reason: str
    item: str | None = None
    severity: Severity = Severity.WARNING

    def describe(self) -> str:
        """A one-line human message: "feed.xml, item 3 (guid x): skipped: no link"."""
        where = self.source if self.item is None else f"{self.source}, {self.item}"
        return f"{where}: {self.severity.value}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "item": self.item,
            "severity": self.severity.value,
            "reason": self.reason,
        }


class NotAFeedError(ValueError):
    """The document is neither a feed nor our JSON article format."""


@dataclass(slots=True)
class IngestReport:
    """Everything an ingest run wants to tell: items seen and the problems met."""

    source: str
    items_seen: int = 0
    problems: list[IngestProblem] = field(default_factory=list)

    def warn(self, reason: str, item: str | None = None) -> None:
        """Record a problem that did not stop the item."""
        self.problems.append(IngestProblem(self.source, reason, item, Severity.WARNING))

    def skip(self, reason: str, item: str | None = None) -> None:
        """Record an item that was dropped."""
        self.problems.append(IngestProblem(self.source, reason, item, Severity.SKIPPED))

    def fatal(self, reason: str) -> None:
        """Record that the document as a whole could not be used."""
        self.problems.append(IngestProblem(self.source, reason, None, Severity.FATAL))

    @property
    def skipped(self) -> list[IngestProblem]:
        """Problems that dropped an item."""
        return [p for p in self.problems if p.severity is Severity.SKIPPED]

    @property
    def warnings(self) -> list[IngestProblem]:
        """Problems that kept the item."""
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "items_seen": self.items_seen,
            "problems": [problem.as_dict() for problem in self.problems],
        }
