"""SendGrid v3 Mail Send: one request per batch, up to 1,000 personalizations.

Uses the official ``sendgrid`` client with plain dict payloads (its ``Mail`` helper reorders
personalizations). One client per process: it keeps no connection open (urllib, one TCP
connection per call) and shares a mutable headers dict, so it is never given per-call headers.

How failures are classified, and why:

* HTTP 429: not accepted; retry after ``X-RateLimit-Reset`` (epoch seconds).
* HTTP 5xx: not accepted as far as SendGrid says; retry with back-off.
* HTTP 400/401/403/404/405/413/415: the request itself is wrong; never retried.
* Errors while connecting or writing the request (urllib wraps them in ``URLError``): nothing
  complete reached SendGrid, so a retry is safe.
* Errors while waiting for the answer (read timeout, reset, closed connection): the request was
  sent and may have been accepted: ambiguous.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    OutgoingBatch,
    PermanentDeliveryError,
    SendReceipt,
    TransientDeliveryError,
)

MAX_PERSONALIZATIONS = 1000
# Characters SendGrid refuses in display names.
_NAME_FORBIDDEN = str.maketrans({";": " ", ",": " ", "\r": " ", "\n": " "})


def display_name(name: str | None) -> str | None:
    """A display name SendGrid accepts (no ``;`` or ``,``), or None when blank."""
    if not name:
        return None
    if _is_clean_name(name):
        return name
    cleaned = " ".join(name.translate(_NAME_FORBIDDEN).split())
    return cleaned or None


def _is_clean_name(name: str) -> bool:
    """Whether ``name`` is already what :func:`display_name` makes of it: a printable name
    (no control characters, no space other than " ") without ``;`` or ``,``, doubled or
    outer spaces. This runs for every recipient; the rewrite is the rare case."""
    return (
        name.isprintable()
        and ";" not in name
        and "," not in name
        and "  " not in name
        and name[0] != " "
        and name[-1] != " "
    )


def _address(email: str, name: str | None) -> dict[str, str]:
    if not name:
        return {"email": email}
    cleaned = display_name(name)
    return {"email": email, "name": cleaned} if cleaned else {"email": email}


def build_payload(batch: OutgoingBatch) -> dict[str, Any]:
    """The Mail Send JSON body for ``batch`` (text/plain first, then text/html)."""
    if not batch.recipients:
        raise ValueError("a batch needs at least one recipient")
    if len(batch.recipients) > MAX_PERSONALIZATIONS:
        raise ValueError(f"SendGrid accepts at most {MAX_PERSONALIZATIONS} recipients per request")
    # The recipients' dicts go into the payload as they are (it is only serialised): a batch
    # has a thousand of them.
    personalizations: list[dict[str, Any]] = []
    for recipient in batch.recipients:
        entry: dict[str, Any] = {"to": [_address(recipient.email, recipient.name)]}
        if recipient.substitutions:
            entry["substitutions"] = recipient.substitutions
        if recipient.headers:
            entry["headers"] = recipient.headers
        if recipient.custom_args:
            entry["custom_args"] = recipient.custom_args
        personalizations.append(entry)
    payload: dict[str, Any] = {
        "personalizations": personalizations,
        "from": _address(batch.from_email, batch.from_name),
        "subject": batch.subject,
        "content": [
            {"type": "text/plain", "value": batch.text},
            {"type": "text/html", "value": batch.html},
        ],
        "tracking_settings": {
            "click_tracking": {"enable": batch.track_clicks, "enable_text": batch.track_clicks},
            "open_tracking": {"enable": batch.track_opens},
            # We send our own List-Unsubscribe headers (RFC 8058); SendGrid must not add more.
            "subscription_tracking": {"enable": False},
        },
    }
    if batch.reply_to:
        payload["reply_to"] = {"email": batch.reply_to}
    if batch.headers:
        payload["headers"] = dict(batch.headers)
    if batch.categories:
        payload["categories"] = list(dict.fromkeys(batch.categories))[:10]
    if batch.custom_args:
        payload["custom_args"] = dict(batch.custom_args)
    return payload


def _error_message(error: http_errors.HTTPError) -> str:
    """SendGrid's own words from an error body, e.g. "field: message"."""
    body = error.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        parsed = json.loads(text)
        parts = []
        for item in parsed.get("errors", []):
            field = item.get("field")
            message = item.get("message", "")
            parts.append(f"{field}: {message}" if field else str(message))
        if parts:
            return f"HTTP {error.status_code}: " + "; ".join(parts)
    except (ValueError, AttributeError):
        pass
    return f"HTTP {error.status_code}: {text[:500] or error.reason}"


def _header(error: http_errors.HTTPError, name: str) -> str | None:
    headers = error.headers
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


class SendGridEmailSender:
    """:class:`~distributor.adapters.email_base.EmailSender` for the SendGrid v3 API."""

    def __init__(self, api_key: str, host: str, timeout_seconds: float) -> None:
        if not api_key:
            raise ValueError("SENDGRID_API_KEY is empty: set it, or unset it to use SMTP/outbox")
        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        # The client has no timeout by default: a hung connection would hold a worker forever.
        self._client.client.timeout = timeout_seconds

    def send_batch(self, batch: OutgoingBatch) -> SendReceipt:
        """POST ``batch`` as one request; classify every failure (see the module docs)."""
        payload = build_payload(batch)
        try:
            response = self._client.send(payload)
        except http_errors.HTTPError as error:
            raise self._classify_http_error(error) from None
        except urllib.error.URLError as error:
            # urllib wraps only failures that happen before the request was fully written.
            raise TransientDeliveryError(f"could not reach SendGrid: {error.reason}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as error:
            raise AmbiguousDeliveryError(
                f"no answer from SendGrid after sending ({type(error).__name__}: {error})"
            ) from None
        headers = response.headers
        message_id = headers.get("X-Message-Id") if headers is not None else None
        return SendReceipt(
            provider_message_id=str(message_id) if message_id else None,
            accepted_ids=[recipient.delivery_id for recipient in batch.recipients],
        )

    @staticmethod
    def _classify_http_error(error: http_errors.HTTPError) -> Exception:
        status = int(error.status_code)
        message = _error_message(error)
        if status == 429:
            reset = _header(error, "X-RateLimit-Reset")
            retry_after: float | None = None
            if reset is not None:
                try:
                    retry_after = max(0.0, float(reset) - time.time())
                except ValueError:
                    retry_after = None
            return TransientDeliveryError(message, retry_after, rate_limited=True)
        if status >= 500:
            return TransientDeliveryError(message)
        return PermanentDeliveryError(message, status_code=status)

    def close(self) -> None:
        """Nothing to release: the client opens one connection per request."""
