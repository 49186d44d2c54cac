"""Fetching CMS feeds over HTTP with conditional GET, and an in-memory twin for tests.

A fetch sends ``If-None-Match`` / ``If-Modified-Since`` from the previous answer, so an unchanged
feed costs one ``304 Not Modified`` and no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx

from distributor.adapters.safe_http import (
    AddressPolicy,
    DeadlineExceededError,
    guarded_client,
    overall_deadline,
    refusal_of,
)

if TYPE_CHECKING:
    from distributor.config import Settings

USER_AGENT = "Distributor/0.1 (+https://github.com/distributor; feed ingest)"
MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_DEADLINE_SECONDS = 60.0


class FeedFetchError(RuntimeError):
    """The feed could not be fetched (network error, HTTP error, too large)."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One answer: 200 with a body, or 304 (not modified, empty body)."""

    url: str
    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer."""
        return self.status == 304


class FeedFetcher(Protocol):
    """The port services use to fetch a feed."""

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch ``url`` conditionally; raise FeedFetchError on failure."""
        ...


class HttpxFeedFetcher:
    """The real fetcher: httpx through the address guard, redirects capped, size-capped, and
    an overall deadline on each fetch (see :mod:`distributor.adapters.safe_http`)."""

    def __init__(
        self,
        timeout_seconds: float = 20.0,
        client: httpx.Client | None = None,
        *,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        allow_private_addresses: bool = False,
        policy: AddressPolicy | None = None,
    ) -> None:
        self.deadline_seconds = deadline_seconds
        self._client = client or guarded_client(
            policy or AddressPolicy(allow_private_addresses=allow_private_addresses),
            timeout_seconds=min(timeout_seconds, deadline_seconds),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpxFeedFetcher:
        """The fetcher configured by ``FETCH_DEADLINE_SECONDS``,
        ``FETCH_ALLOW_PRIVATE_ADDRESSES`` and ``FETCH_ALLOWED_NETWORKS``."""
        return cls(
            deadline_seconds=settings.FETCH_DEADLINE_SECONDS,
            policy=AddressPolicy.from_settings(settings),
        )

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url`` with the validators of the previous answer, within the deadline."""
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/json, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        size = 0
        try:
            with (
                overall_deadline(self.deadline_seconds),
                self._client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code == 304:
                    return FetchResult(
                        url=str(response.url),
                        status=304,
                        etag=response.headers.get("ETag") or etag,
                        last_modified=response.headers.get("Last-Modified") or last_modified,
                    )
                if response.status_code >= 400:
                    raise FeedFetchError(f"{url}: HTTP {response.status_code}")
                chunks: list[bytes] = []
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_FEED_BYTES:
                        raise FeedFetchError(f"{url}: larger than {MAX_FEED_BYTES} bytes")
                    chunks.append(chunk)
                return FetchResult(
                    url=str(response.url),
                    status=response.status_code,
                    body=b"".join(chunks),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type"),
                )
        except httpx.HTTPError as exc:
            refused = refusal_of(exc)
            if refused is not None:
                raise FeedFetchError(f"{url}: {refused}") from exc
            if isinstance(exc, httpx.TimeoutException) and _is_deadline(exc):
                raise FeedFetchError(
                    f"{url}: gave up after {self.deadline_seconds:g} s, the overall deadline "
                    f"of a fetch (FETCH_DEADLINE_SECONDS); {size} bytes had arrived"
                ) from exc
            raise FeedFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


def _is_deadline(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DeadlineExceededError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(slots=True)
class InMemoryFeedFetcher:
    """A twin serving documents from a dict, honouring ETag/Last-Modified like a server.

    ``documents[url] = bytes`` publishes; ``failures[url] = "reason"`` makes fetches fail.
    ``requests`` records (url, etag, last_modified) of every call.
    """

    documents: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @staticmethod
    def etag_for(body: bytes) -> str:
        """The ETag this twin sends for ``body``."""
        import hashlib

        return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Serve ``documents[url]``; 304 when the ETag matches."""
        self.requests.append((url, etag, last_modified))
        if url in self.failures:
            raise FeedFetchError(f"{url}: {self.failures[url]}")
        if url not in self.documents:
            raise FeedFetchError(f"{url}: HTTP 404")
        body = self.documents[url]
        current = self.etag_for(body)
        if etag == current:
            return FetchResult(url=url, status=304, etag=current)
        return FetchResult(
            url=url,
            status=200,
            body=body,
            etag=current,
            content_type=self.content_types.get(url, "application/rss+xml"),
        )
