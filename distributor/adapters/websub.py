"""WebSub publisher notifications ("this topic changed") to a hub, plus an in-memory twin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx

from distributor.adapters.safe_http import (
    AddressPolicy,
    guarded_client,
    overall_deadline,
    refusal_of,
)

if TYPE_CHECKING:
    from distributor.config import Settings


class WebSubPublisher(Protocol):
    """Port: tell ``hub_url`` that each topic URL has new content; returns error messages."""

    def publish(self, hub_url: str, topic_urls: Sequence[str]) -> list[str]:
        """Notify the hub; an empty list means every notification was accepted."""
        ...


class HttpxWebSubPublisher:
    """The de-facto publish ping: ``POST hub.mode=publish&hub.url=<topic>`` per topic.

    WebSub leaves publisher-to-hub notification unspecified (§6); this form is what common
    hubs accept. A failed ping is only logged by callers: the hub also polls. Pings go through
    the address guard of :mod:`distributor.adapters.safe_http`, within an overall deadline.
    """

    def __init__(
        self,
        timeout_seconds: float = 10.0,
        *,
        allow_private_addresses: bool = False,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._policy = policy or AddressPolicy(allow_private_addresses=allow_private_addresses)

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpxWebSubPublisher:
        """The publisher configured by ``FETCH_ALLOW_PRIVATE_ADDRESSES`` and
        ``FETCH_ALLOWED_NETWORKS``."""
        return cls(policy=AddressPolicy.from_settings(settings))

    def publish(self, hub_url: str, topic_urls: Sequence[str]) -> list[str]:
        """POST one form per topic; collect failures as readable messages."""
        errors: list[str] = []
        client = guarded_client(self._policy, timeout_seconds=self._timeout)
        with client:
            for topic in topic_urls:
                try:
                    with overall_deadline(self._timeout * 2):
                        response = client.post(
                            hub_url, data={"hub.mode": "publish", "hub.url": topic}
                        )
                except httpx.HTTPError as exc:
                    reason = refusal_of(exc) or f"{type(exc).__name__}: {exc}"
                    errors.append(f"{topic}: {reason}")
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
