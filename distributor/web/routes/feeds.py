"""Public and partner feeds over HTTP: stored bytes, conditional GET, gzip, keys, rate limits.

Hot path: a request for a document seen in the last few seconds touches no database. Stored
documents and API-key lookups are cached in this process for ``FEED_CACHE_SECONDS`` (2 s), so
a rebuilt feed, a rotated key or a withdrawn story is visible at most that long after the
worker commits. Rate limits and fetch counters are per web process (documented in
docs/feeds.md): N processes allow up to N times the configured rate.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from distributor.config import Settings
from distributor.db.session import session_factory
from distributor.domain.partners import FeedFormat, hash_api_key
from distributor.metrics import FEED_REQUESTS
from distributor.rendering.feeds.common import rfc822
from distributor.services.feeds import (
    PUBLIC_KEY,
    PartnerAccess,
    StoredFeed,
    authenticate_partner,
    document_key,
    partner_audience_key,
    partner_feed_format,
    partner_path,
    public_feed_format,
    public_path,
    record_partner_fetches,
)
from distributor.services.feeds import (
    load_feed_document as load_stored_document,
)

router = APIRouter(tags=["feeds"])

FEED_CACHE_SECONDS = 2.0
FETCH_FLUSH_SECONDS = 30.0
API_KEY_HEADER = "X-Api-Key"
PUBLIC_CACHE_CONTROL = "public, max-age=300"
PARTNER_CACHE_CONTROL = "private, max-age=60"


# ------------------------------------------------------------------------------- caching


@dataclass(frozen=True, slots=True)
class ServedDocument:
    """A stored document with its response headers worked out once."""

    body: bytes
    body_gzip: bytes
    etags: frozenset[str]
    last_modified: datetime
    headers: dict[str, str]
    headers_gzip: dict[str, str]


def _served(document: StoredFeed, cache_control: str, link: str | None) -> ServedDocument:
    gzip_etag = document.etag[:-1] + '-gzip"'
    common = {
        "Content-Type": document.content_type,
        "Last-Modified": rfc822(document.last_modified),
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding"
        if cache_control.startswith("public")
        else "Accept-Encoding, X-Api-Key, Authorization",
        "X-Content-Type-Options": "nosniff",
    }
    if link:
        common["Link"] = link
    return ServedDocument(
        body=document.body,
        body_gzip=document.body_gzip,
        etags=frozenset({document.etag, gzip_etag}),
        last_modified=document.last_modified,
        headers={**common, "ETag": document.etag},
        headers_gzip={**common, "ETag": gzip_etag, "Content-Encoding": "gzip"},
    )


class TimedCache:
    """A tiny time-bounded map; entries older than ``ttl`` seconds are reloaded."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        """(hit, value)."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return False, None
        return True, entry[1]

    def put(self, key: str, value: Any) -> None:
        """Remember ``value``; forgets everything when full (simple and bounded)."""
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)


class TokenBuckets:
    """Per-key token buckets: ``limit`` requests per minute with bursts up to ``limit``."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int, limit_per_minute: int) -> float:
        """0.0 when a request may pass, else seconds until the next token."""
        now = time.monotonic()
        rate = limit_per_minute / 60.0
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(limit_per_minute), now))
            tokens = min(float(limit_per_minute), tokens + (now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


class FeedServing:
    """Per-app serving state: caches, rate-limit buckets and batched fetch counters."""

    def __init__(self, settings: Settings, cache_seconds: float, flush_seconds: float) -> None:
        self.settings = settings
        self.documents = TimedCache(cache_seconds)
        self.keys = TimedCache(cache_seconds)
        self.buckets = TokenBuckets()
        self.flush_seconds = flush_seconds
        self._fetches: Counter[int] = Counter()
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        link = None
        if settings.WEBSUB_HUB_URL:
            link = f'<{settings.WEBSUB_HUB_URL}>; rel="hub"'
        self.public_link = link

    def sessions(self) -> Any:
        """A new database session."""
        return session_factory(self.settings.database_url)()

    def count_fetch(self, partner_id: int) -> dict[int, int] | None:
        """Count a fetch; returns the counts to write when a flush is due."""
        with self._lock:
            self._fetches[partner_id] += 1
            if time.monotonic() - self._last_flush < self.flush_seconds:
                return None
            counts = dict(self._fetches)
            self._fetches.clear()
            self._last_flush = time.monotonic()
            return counts

    def flush(self, counts: dict[int, int]) -> None:
        """Write batched fetch counts (runs in a worker thread)."""
        session = self.sessions()
        try:
            record_partner_fetches(session, counts, datetime.now(UTC))
            session.commit()
        finally:
            session.close()

    def load_document(self, key: str) -> StoredFeed | None:
        """Read one stored document (runs in a worker thread)."""
        session = self.sessions()
        try:
            return load_stored_document(session, key)
        finally:
            session.close()

    def authenticate(self, api_key: str) -> PartnerAccess | None:
        """Look a key up (runs in a worker thread)."""
        session = self.sessions()
        try:
            return authenticate_partner(session, api_key)
        finally:
            session.close()


def serving_state(request: Request) -> FeedServing:
    """The app's serving state, created on first use (tests may set the timings first)."""
    state = request.app.state
    serving: FeedServing | None = getattr(state, "feed_serving", None)
    if serving is None:
        serving = FeedServing(
            state.settings,
            getattr(state, "feed_cache_seconds", FEED_CACHE_SECONDS),
            getattr(state, "partner_fetch_flush_seconds", FETCH_FLUSH_SECONDS),
        )
        state.feed_serving = serving
    return serving


# ------------------------------------------------------------------------------ responses


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": message, **extra}, status_code=status, headers={"Cache-Control": "no-store"}
    )


def _public_urls(settings: Settings) -> dict[str, str]:
    return {f.value: settings.PUBLIC_BASE_URL + public_path(f) for f in FeedFormat}


def _partner_urls(settings: Settings, formats: tuple[FeedFormat, ...]) -> dict[str, str]:
    return {f.value: settings.PUBLIC_BASE_URL + partner_path(f) for f in formats}


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _not_modified(request: Request, document: ServedDocument) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return not candidates.isdisjoint(document.etags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return document.last_modified <= since
    return False


def _respond(
    request: Request, document: ServedDocument, audience: str, feed_format: FeedFormat
) -> Response:
    response = _answer(request, document)
    FEED_REQUESTS.labels(audience, feed_format.value, str(response.status_code)).inc()
    return response


def _answer(request: Request, document: ServedDocument) -> Response:
    gzip_ok = _accepts_gzip(request.headers.get("accept-encoding"))
    headers = document.headers_gzip if gzip_ok else document.headers
    if _not_modified(request, document):
        kept = {name: headers[name] for name in ("ETag", "Cache-Control", "Vary", "Last-Modified")}
        if "Link" in headers:
            kept["Link"] = headers["Link"]
        return Response(status_code=304, headers=kept)
    return Response(content=document.body_gzip if gzip_ok else document.body, headers=headers)


async def _document(
    serving: FeedServing, key: str, cache_control: str, link: str | None
) -> ServedDocument | None:
    hit, served = serving.documents.get(key)
    if not hit:
        stored = await run_in_threadpool(serving.load_document, key)
        if stored is None:
            # Not remembered: a document built a moment later must answer at once.
            return None
        served = _served(stored, cache_control, link)
        serving.documents.put(key, served)
    return served  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- public


async def _public(request: Request, feed_format: FeedFormat | None, page: int | None) -> Response:
    serving = serving_state(request)
    settings = serving.settings
    if feed_format is None:
        return _error(
            404,
            "unknown feed format",
            hint="public feeds are available at these URLs",
            feeds=_public_urls(settings),
        )
    self_url = settings.PUBLIC_BASE_URL + public_path(feed_format, page)
    link = f'{serving.public_link}, <{self_url}>; rel="self"' if serving.public_link else None
    key = document_key(PUBLIC_KEY, feed_format, page)
    document = await _document(serving, key, PUBLIC_CACHE_CONTROL, link)
    if document is None:
        if page is not None:
            return _error(404, f"there is no archive page {page}", feeds=_public_urls(settings))
        return _error(
            503,
            "this feed has not been built yet; it is built when stories arrive",
            retry_after_seconds=60,
        )
    return _respond(request, document, "public", feed_format)


@router.api_route("/feeds/{name}", methods=["GET", "HEAD"], include_in_schema=True)
async def public_feed(name: str, request: Request) -> Response:
    """The public feed (``public.rss``, ``public.atom``, ``public.json``, ``public.ninjs.json``)."""
    return await _public(request, public_feed_format(name), None)


@router.api_route("/feeds/public/archive/{name}", methods=["GET", "HEAD"])
async def public_archive(name: str, request: Request) -> Response:
    """An RFC 5005 archive page of the public feed, e.g. ``/feeds/public/archive/3.rss``."""
    number, _, suffix = name.partition(".")
    feed_format = public_feed_format(f"public.{suffix}")
    if not number.isdigit() or int(number) < 1:
        return _error(
            404,
            "archive pages are numbered from 1, like /feeds/public/archive/1.rss",
            feeds=_public_urls(serving_state(request).settings),
        )
    return await _public(request, feed_format, int(number))


# --------------------------------------------------------------------------------- partner


async def _partner(request: Request, format_name: str, page: int | None) -> Response:
    serving = serving_state(request)
    settings = serving.settings
    api_key = _presented_key(request)
    if not api_key:
        return _unauthorized(
            "send your partner API key in the X-Api-Key header (or as Authorization: Bearer <key>)"
        )
    digest = hash_api_key(api_key)
    hit, access = serving.keys.get(digest)
    if not hit:
        access = await run_in_threadpool(serving.authenticate, api_key)
        serving.keys.put(digest, access)
    if access is None:
        return _unauthorized("this API key is not valid (it may have been rotated)")
    assert isinstance(access, PartnerAccess)
    limit = access.rate_limit_per_minute or settings.PARTNER_RATE_LIMIT_PER_MINUTE
    wait = serving.buckets.take(access.partner_id, limit)
    if wait > 0:
        response = _error(429, f"rate limit of {limit} requests per minute exceeded")
        response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response
    feed_format = partner_feed_format(format_name)
    if feed_format is None or feed_format not in access.formats:
        return _error(
            404,
            f"unknown or disabled feed format {format_name!r}",
            hint="these formats are enabled for your key",
            feeds=_partner_urls(settings, access.formats),
        )
    counts = serving.count_fetch(access.partner_id)
    if counts:
        await run_in_threadpool(serving.flush, counts)
    key = document_key(partner_audience_key(access.partner_id), feed_format, page)
    document = await _document(serving, key, PARTNER_CACHE_CONTROL, None)
    if document is None:
        if page is not None:
            return _error(
                404,
                f"there is no archive page {page}",
                feeds=_partner_urls(settings, access.formats),
            )
        return _error(503, "your feed has not been built yet; it is built when stories arrive")
    return _respond(request, document, "partner", feed_format)


def _presented_key(request: Request) -> str:
    """The key from ``X-Api-Key``, else from ``Authorization: Bearer <key>``."""
    key = request.headers.get(API_KEY_HEADER, "").strip()
    if key:
        return key
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(message: str) -> JSONResponse:
    response = _error(401, message)
    response.headers["WWW-Authenticate"] = f'ApiKey header="{API_KEY_HEADER}", Bearer'
    return response


@router.api_route("/partners/feed/{format_name}", methods=["GET", "HEAD"])
async def partner_feed(format_name: str, request: Request) -> Response:
    """A partner's own feed; the API key goes in the ``X-Api-Key`` header (or is sent as
    ``Authorization: Bearer <key>``)."""
    return await _partner(request, format_name, None)


@router.api_route("/partners/feed/{format_name}/archive/{page}", methods=["GET", "HEAD"])
async def partner_archive(format_name: str, page: int, request: Request) -> Response:
    """An archive page of a partner's feed."""
    if page < 1:
        return _error(404, "archive pages are numbered from 1")
    return await _partner(request, format_name, page)
