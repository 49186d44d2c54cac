"""Outgoing partner webhooks: an httpx sender and an in-memory twin with scripted answers."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One signed POST to a partner."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class PushResponse:
    """What came back: an HTTP status, or None with an error when no answer arrived."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


class PushSender(Protocol):
    """Port: deliver one push and report the outcome (never raises for HTTP failures)."""

    def send(self, request: PushRequest) -> PushResponse:
        """POST ``request`` and describe the answer."""
        ...


class HttpxPushSender:
    """Real sender: one pooled httpx client, short timeouts, no redirects followed.

    Redirects are not followed because a signed body re-sent to an unexpected host would
    leak the story before the partner's own systems vetted the URL.
    """

    def __init__(self, timeout_seconds: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(
            timeout=timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "Distributor-Push/1"},
        )

    def send(self, request: PushRequest) -> PushResponse:
        """POST the body; network errors become a response without a status."""
        try:
            response = self._client.post(request.url, content=request.body, headers=request.headers)
        except httpx.HTTPError as exc:
            return PushResponse(None, f"{type(exc).__name__}: {exc}")
        error = (
            None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
        )
        return PushResponse(response.status_code, error)

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()


@dataclass
class InMemoryPushSender:
    """Twin for tests and demos: records every request; answers from a script, else 200."""

    script: deque[int | None] = field(default_factory=deque)
    sent: list[PushRequest] = field(default_factory=list)

    @classmethod
    def answering(cls, statuses: Iterable[int | None]) -> InMemoryPushSender:
        """A sender that answers with ``statuses`` in order (None = network failure)."""
        return cls(script=deque(statuses))

    def send(self, request: PushRequest) -> PushResponse:
        """Record the request and answer with the next scripted status."""
        self.sent.append(request)
        status = self.script.popleft() if self.script else 200
        if status is None:
            return PushResponse(None, "ConnectError: scripted network failure")
        return PushResponse(status, None if 200 <= status < 300 else f"HTTP {status}")
