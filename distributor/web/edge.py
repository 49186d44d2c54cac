"""The HTTP edge: what every request meets before a route sees it.

- :class:`BodyLimitMiddleware` refuses an oversized body while it arrives (413), by its
  ``Content-Length`` before reading anything and by counting the bytes actually streamed
  (chunked bodies have no length). Limits are per route: small for forms, ``IMPORT_MAX_BYTES``
  for the CSV upload. An upload is refused (403) before a byte of the file is accepted unless
  it comes from a signed-in session and carries that session's CSRF token ahead of the file.
- :class:`SecurityHeadersMiddleware` adds the Content-Security-Policy, ``nosniff``, a frame
  ban and a Referrer-Policy to every response that has not set its own.
- :func:`install_edge` wires both, the trusted-proxy handling (``TRUSTED_PROXIES``) and the
  4xx answers for input that used to end in a 500.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from python_multipart.multipart import parse_options_header
from sqlalchemy.exc import StatementError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from distributor.adapters.sendgrid_webhook import MAX_BODY_BYTES as WEBHOOK_BODY_BYTES
from distributor.config import Settings
from distributor.web.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, read_session_cookie

log = logging.getLogger("distributor.web.edge")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Reader forms (signup, preferences, unsubscribe) and sign-in: a few fields each.
PUBLIC_FORM_BYTES = 16 * 1024
# Desk forms: the longest is an issue's editor's note.
DESK_FORM_BYTES = 256 * 1024
# JSON articles pushed by a newsroom system through the API.
API_BODY_BYTES = 20 * 1024 * 1024
# Room for the multipart framing and the small fields around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# How much of an upload is read, at most, to find the CSRF field before the file.
UPLOAD_PREFIX_BYTES = 64 * 1024

PUBLIC_FORM_PREFIXES = ("/signup/", "/preferences/", "/unsubscribe/", "/confirm/", "/login")
UPLOAD_PATHS = ("/subscribers/import",)
# Pages whose address carries a reader's token: never send it on in a Referer.
TOKEN_PAGE_PREFIXES = ("/preferences/", "/unsubscribe/", "/confirm/", "/archive/")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:;"
    " object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self';"
    " frame-ancestors 'none'"
)
# Swagger UI (only when API_DOCS is on) loads its script and styles from a CDN, inline.
DOCS_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/api/docs", "/api/docs/oauth2-redirect")


class BodyTooLarge(StarletteHTTPException):
    """The request body went over the route's limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=(
                f"The request is larger than this address accepts ({_size(limit)}). "
                "Send less data, or a smaller file."
            ),
            headers={"Connection": "close"},
        )


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    return f"{count / 1024:g} kB"


@dataclass(frozen=True)
class BodyRule:
    """How much body a request may carry, and whether it is an authenticated upload."""

    limit: int
    upload: bool = False


def body_rule(settings: Settings, method: str, path: str) -> BodyRule:
    """The body limit for ``method path``."""
    if method == "POST" and path in UPLOAD_PATHS:
        return BodyRule(settings.IMPORT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES, upload=True)
    if path == "/webhooks/sendgrid":
        return BodyRule(WEBHOOK_BODY_BYTES)
    if path == "/api/articles" or path.startswith("/api/articles/"):
        return BodyRule(API_BODY_BYTES)
    if path.startswith(PUBLIC_FORM_PREFIXES):
        return BodyRule(PUBLIC_FORM_BYTES)
    return BodyRule(DESK_FORM_BYTES)


async def _answer(send: Send, status: int, message: str) -> None:
    """A small JSON error sent straight from the edge (no route ran)."""
    body = json.dumps({"detail": message}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _csrf_before_file(data: bytes, boundary: bytes) -> tuple[bool, str | None]:
    """Look for the CSRF field among the multipart parts that come before the first file.

    Returns ``(decided, token)``: ``decided`` is False while more bytes are needed; a
    decided ``None`` means a file (or the end) came first.
    """
    delimiter = b"--" + boundary
    start = data.find(delimiter)
    if start < 0:
        return False, None
    position = start + len(delimiter)
    while True:
        if data[position : position + 2] == b"--":
            return True, None
        header_end = data.find(b"\r\n\r\n", position)
        if header_end < 0:
            return False, None
        disposition = b""
        for line in data[position:header_end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-disposition":
                disposition = value.strip()
        _kind, options = parse_options_header(disposition)
        if b"filename" in options:
            return True, None
        content_start = header_end + 4
        content_end = data.find(b"\r\n" + delimiter, content_start)
        if content_end < 0:
            return False, None
        if options.get(b"name") == CSRF_FIELD.encode("ascii"):
            return True, data[content_start:content_end].decode("utf-8", "replace")
        position = content_end + 2 + len(delimiter)


class BodyLimitMiddleware:
    """Refuse oversized bodies while reading them, and anonymous or forged uploads at once."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the route's body limit to this request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = body_rule(self.settings, scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > rule.limit
        ):
            await _answer(send, 413, str(BodyTooLarge(rule.limit).detail))
            return
        buffered: list[Message] = []
        if rule.upload:
            refusal = await self._upload_refusal(scope, receive, buffered)
            if refusal is not None:
                await _answer(send, 403, refusal)
                return
        received = 0
        over = False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = buffered.pop(0) if buffered else await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > rule.limit:
                    over = True
                    raise BodyTooLarge(rule.limit)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if over:  # stop reading the rest of the body: close after this answer
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(send, 413, str(exc.detail))

    async def _upload_refusal(
        self, scope: Scope, receive: Receive, buffered: list[Message]
    ) -> str | None:
        """Why an upload is refused before its file is read, or None to accept it.

        Reads (into ``buffered``) only the small fields ahead of the file.
        """
        connection = HTTPConnection(scope)
        session, _age = read_session_cookie(self.settings, connection.cookies.get(SESSION_COOKIE))
        expected = session.get("c")
        if "u" not in session or not isinstance(expected, str) or not expected:
            return "Sign in to the desk before uploading a file."
        given = connection.headers.get(CSRF_HEADER)
        if given is None:
            content_type, options = parse_options_header(connection.headers.get("content-type", ""))
            boundary = options.get(b"boundary")
            if content_type != b"multipart/form-data" or not boundary:
                return "Send the file as a multipart/form-data form from the desk."
            data = b""
            while True:
                message = await receive()
                buffered.append(message)
                if message["type"] != "http.request":
                    return "The upload was interrupted."
                data += message.get("body", b"")
                decided, given = _csrf_before_file(data, boundary)
                if decided or len(data) > UPLOAD_PREFIX_BYTES or not message.get("more_body"):
                    break
        if not given or not hmac.compare_digest(expected, given):
            return (
                "This upload could not be accepted because its security token is missing or"
                " out of date. Reload the import page and choose the file again."
            )
        return None


class SecurityHeadersMiddleware:
    """Default security headers on every response (a route's own values are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                docs = path in DOCS_PATHS
                policy = DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
                headers.setdefault("Content-Security-Policy", policy)
                framing = headers["Content-Security-Policy"]
                if "frame-ancestors 'none'" in framing:
                    headers.setdefault("X-Frame-Options", "DENY")
                elif "frame-ancestors 'self'" in framing:
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if path.startswith(TOKEN_PAGE_PREFIXES):
                    headers["Referrer-Policy"] = "no-referrer"
                else:
                    headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class MalformedPathMiddleware:
    """Refuse (400) a path with control characters (``%00`` and kin) before any route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the decoded path."""
        if scope["type"] == "http" and any(
            ord(character) < 0x20 or ord(character) == 0x7F for character in scope["path"]
        ):
            await _answer(send, 400, "The address contains a control character.")
            return
        await self.app(scope, receive, send)


# PostgreSQL's SQLSTATE for "numeric value out of range" (a bigint parameter too large).
_NUMERIC_OUT_OF_RANGE = "22003"


def _number_out_of_range(exc: BaseException) -> bool:
    if isinstance(exc, OverflowError):  # SQLite: "Python int too large to convert"
        return True
    if isinstance(exc, StatementError):
        cause = exc.orig
        return isinstance(cause, OverflowError) or (
            getattr(cause, "sqlstate", None) == _NUMERIC_OUT_OF_RANGE
        )
    return False


async def _number_too_large(request: Request, exc: Exception) -> Response:
    """A number too large for the database (an id or a page of 20 digits) is the caller's
    mistake: 400 with a reason, not a 500."""
    if not _number_out_of_range(exc):
        raise exc
    detail = "A number in the address or the form is too large."
    if "text/html" in request.headers.get("accept", ""):
        return PlainTextResponse(detail, status_code=400, headers={"Cache-Control": "no-store"})
    return JSONResponse({"detail": detail}, status_code=400, headers={"Cache-Control": "no-store"})


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Add the edge middlewares (outermost last) and the 4xx answers to ``app``."""
    app.add_exception_handler(OverflowError, _number_too_large)
    app.add_exception_handler(StatementError, _number_too_large)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(MalformedPathMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.trusted_proxies:
        # Imported here: uvicorn is the server we ship, but the app works under any.
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
