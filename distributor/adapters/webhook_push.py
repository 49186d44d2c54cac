"""Outgoing partner webhooks: an httpx sender and an in-memory twin with scripted answers."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
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
    """Real sender: one pooled httpx client through the address guard, short timeouts, no
    redirects followed.

    Redirects are not followed because a signed body re-sent to an unexpected host would
    leak the story before the partner's own systems vetted the URL. The answer's body is never
    read or stored: the push log keeps the status and a reason we write ourselves, so a push
    URL cannot be used to read whatever answers at an address.
    """

    def __init__(
        self,
        timeout_seconds: float = 10.0,
        client: httpx.Client | None = None,
        *,
        allow_private_addresses: bool = False,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._client = client or guarded_client(
            policy or AddressPolicy(allow_private_addresses=allow_private_addresses),
            timeout_seconds=timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "Distributor-Push/1"},
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpxPushSender:
        """The sender configured by ``FETCH_ALLOW_PRIVATE_ADDRESSES`` and
        ``FETCH_ALLOWED_NETWORKS``."""
        return cls(policy=AddressPolicy.from_settings(settings))

    def send(self, request: PushRequest) -> PushResponse:
        """POST the body; network errors become a response without a status."""
        try:
            # Twice the timeout bounds the whole exchange, however slowly the partner answers.
            with (
                overall_deadline(self._timeout * 2),
                self._client.stream(
                    "POST", request.url, content=request.body, headers=request.headers
                ) as response,
            ):
                status = response.status_code
        except httpx.HTTPError as exc:
            return PushResponse(None, network_reason(exc))
        return PushResponse(status, None if 200 <= status < 300 else status_reason(status))

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()


def status_reason(status: int) -> str:
    """A short reason for a failed push, from the status alone (never the answer's body)."""
    if 300 <= status < 400:
        kind = "a redirect, which is not followed"
    elif status == 429:
        kind = "rate limited by the partner"
    elif 400 <= status < 500:
        kind = "refused by the partner"
    elif status >= 500:
        kind = "an error at the partner"
    else:
        kind = "not a success"
    return f"HTTP {status} ({kind})"


def network_reason(exc: httpx.HTTPError) -> str:
    """A short reason for a push that got no answer."""
    refused = refusal_of(exc)
    if refused is not None:
        return refused
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "the push URL is not an http(s) URL"
    return f"no answer ({type(exc).__name__})"


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
