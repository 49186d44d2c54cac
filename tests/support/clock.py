"""A clock that moves only when a test moves it."""

from __future__ import annotations

import time


class SettableClock:
    """Stands in for the ``time`` module where code reads ``time.time()`` or
    ``time.monotonic()``: both start at the real values and move together by :meth:`advance`."""

    def __init__(self) -> None:
        self._wall = time.time()
        self._monotonic = time.monotonic()

    def time(self) -> float:
        """Seconds since the epoch, as ``time.time()``."""
        return self._wall

    def monotonic(self) -> float:
        """A monotonic reading, as ``time.monotonic()``."""
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass at once."""
        self._wall += seconds
        self._monotonic += seconds
