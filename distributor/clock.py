"""The one clock: every read of the wall clock outside the database goes through a ``Clock``.

Code that needs the time takes a ``Clock`` (or a ``now`` given by a caller that has one) and
defaults to :data:`SYSTEM_CLOCK`; tests pass a :class:`FixedClock` and move it instead of
sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is set or advanced (for tests and replays)."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        """The time the clock was last set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (timezone-aware)."""
        self._at = _aware(at)

    def advance(self, by: timedelta) -> None:
        """Move the clock forward by ``by``."""
        self._at += by


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"a clock needs a timezone-aware time, got {at.isoformat()}")
    return at.astimezone(UTC)


SYSTEM_CLOCK: Clock = SystemClock()
