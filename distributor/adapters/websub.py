"""WebSub publisher notifications ("this topic changed") to a hub, plus an in-memory twin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx


class WebSubPublisher(Protocol):
    """Port: tell ``hub_url`` that each topic URL has new content; returns error messages."""

    def publish(self, hub_url: str, topic_urls: Sequence[str]) -> list[str]:
        """Notify the hub; an empty list means every notification was accepted."""
        ...


class HttpxWebSubPublisher:
    """The de-facto publish ping: ``POST hub.mode=publish&hub.url=<topic>`` per topic.

    WebSub leaves publisher-to-hub notification unspecified (§6); this form is what common
    hubs accept. A failed ping is only logged by callers: the hub also polls.
    """

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout = timeout_seconds

    def publish(self, hub_url: str, topic_urls: Sequence[str]) -> list[str]:
        """POST one form per topic; collect failures as readable messages."""
        errors: list[str] = []
        with httpx.Client(timeout=self._timeout) as client:
            for topic in topic_urls:
                try:
                    response = client.post(hub_url, data={"hub.mode": "publish", "hub.url": topic})
                except httpx.HTTPError as exc:
                    errors.append(f"{topic}: {type(exc).__name__}: {exc}")
                    continue
                if not response.is_success:
                    errors.append(f"{topic}: hub answered HTTP {response.status_code}")
        return errors


@dataclass
class InMemoryWebSubPublisher:
    """Twin: records (hub, topic) pairs."""

    pings: list[tuple[str, str]] = field(default_factory=list)

    def publish(self, hub_url: str, topic_urls: Sequence[str]) -> list[str]:
        """Record each topic."""
        self.pings.extend((hub_url, topic) for topic in topic_urls)
        return []
