"""The clock port: the system clock is aware UTC; the fixed clock moves only when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from distributor.clock import SYSTEM_CLOCK, FixedClock


def test_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_fixed_clock_moves_only_when_set_or_advanced() -> None:
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    clock = FixedClock(start)
    assert clock.now() == clock.now() == start
    clock.advance(timedelta(minutes=5))
    assert clock.now() == start + timedelta(minutes=5)
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_fixed_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 3, 1, 9, 30))
