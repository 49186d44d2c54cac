"""A sliding-window counter of hits per key, kept in this process's memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

# Bounded memory: beyond this many keys, the least recently seen are forgotten first.
MAX_TRACKED_KEYS = 50_000


class SlidingWindowLimiter:
    """At most ``limit`` hits per key within ``window`` seconds (in this process only)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one hit; None when allowed, else seconds until the next one would be."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
                while len(self._hits) > MAX_TRACKED_KEYS:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= moment - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - moment)
            hits.append(moment)
            return None

    def give_back(self, key: str) -> None:
        """Take back the latest hit of ``key`` (an attempt that turned out not to count)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()
