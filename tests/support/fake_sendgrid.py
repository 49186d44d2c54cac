"""A SendGrid-compatible Mail Send server for tests and benchmarks (127.0.0.1 only).

It checks every request against the rules in research/email-sendgrid.md §7 and the official
``tsg_mail_v3.json`` schema (patched in memory for its two known bugs: top-level
``custom_args`` typed as a string, and non-string values allowed in personalization
``custom_args``), records every accepted recipient, and can be told to fail on purpose:
a share of 429 (with ``X-RateLimit-Reset``), a share of 500, or "accept then hang" (the
request is accepted and recorded, then the answer never comes in time).

Run standalone (used by bench/send.py): ``python -m tests.support.fake_sendgrid --port 8025``;
``GET /__stats`` returns the counters as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import queue
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from tests.support.paths import SCHEMAS_DIR

SCHEMA_PATH = SCHEMAS_DIR / "sendgrid" / "tsg_mail_v3.json"
API_KEY = "SG.test-key.for-the-fake-server"
MAX_BODY_BYTES = 30 * 1024 * 1024
RESERVED_HEADERS = {
    "x-sg-id",
    "x-sg-eid",
    "received",
    "dkim-signature",
    "content-type",
    "content-transfer-encoding",
    "to",
    "from",
    "subject",
    "reply-to",
    "cc",
    "bcc",
}


def _inline_refs(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline_refs(components[ref.rsplit("/", 1)[1]], components)
        return {key: _inline_refs(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, components) for item in node]
    return node


def mail_send_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The request-body schema of POST /v3/mail/send, patched for the two known spec bugs."""
    document = json.loads(path.read_text(encoding="utf-8"))
    body = copy.deepcopy(
        document["components"]["requestBodies"]["PostMailSend"]["content"]["application/json"][
            "schema"
        ]
    )
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    # Spec bug 1: top-level custom_args is typed "string"; the live API wants an object.
    body["properties"]["custom_args"] = dict(string_map)
    # Spec bug 2: personalization custom_args allow numbers; the live API answers 400.
    body["properties"]["personalizations"]["items"]["properties"]["custom_args"] = dict(string_map)
    return dict(_inline_refs(body, document["components"]["schemas"]))


_validator_lock = threading.Lock()
_validator: Callable[[Any], Any] | None = None


def _schema_validator() -> Callable[[Any], Any]:
    global _validator  # noqa: PLW0603 - compiled once per process; compiling takes ~1 s
    with _validator_lock:
        if _validator is None:
            _validator = fastjsonschema.compile(mail_send_schema())
        return _validator


class RequestRejectedError(Exception):
    """A request the real API would refuse: status and SendGrid-style error list."""

    def __init__(self, status: int, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field_name = field_name


def _string_map(value: Any, where: str, limit: int | None = None) -> int:
    """Check that ``value`` maps names to strings (and, given ``limit``, that its JSON stays
    under ``limit`` bytes); return an upper bound of its JSON size in bytes (every
    character escaped as ``\\uXXXX``, plus quotes and separators)."""
    if not isinstance(value, dict):
        raise RequestRejectedError(400, "Invalid type. Expected: object", where)
    try:
        # join refuses anything but strings, in C: this runs for every personalization.
        characters = len("".join(value)) + len("".join(value.values()))
    except TypeError:
        for key, item in value.items():
            if not isinstance(item, str):
                raise RequestRejectedError(400, f"{where}.{key} must be a string", where) from None
        raise
    bound = 2 + 8 * len(value) + 6 * characters
    if limit is not None and bound >= limit and len(json.dumps(value).encode()) >= limit:
        raise RequestRejectedError(400, f"{where} exceeds {limit} bytes", where)
    return bound


def _lowered(headers: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _check_one_click(lowered: dict[str, str], where: str) -> None:
    """The RFC 8058 headers, given the request's headers with lower-cased names."""
    unsubscribe = lowered.get("list-unsubscribe")
    if unsubscribe is None:
        raise RequestRejectedError(400, "List-Unsubscribe header is required (project rule)", where)
    links = [part.strip() for part in unsubscribe.split(",")]
    https = [link for link in links if link.startswith("<https://") and link.endswith(">")]
    others = [link for link in links if link not in https]
    if len(https) != 1 or any(not link.startswith("<mailto:") for link in others):
        raise RequestRejectedError(
            400, "List-Unsubscribe needs exactly one <https://...> URI", where
        )
    if lowered.get("list-unsubscribe-post") != "List-Unsubscribe=One-Click":
        raise RequestRejectedError(
            400, "List-Unsubscribe-Post must be exactly List-Unsubscribe=One-Click", where
        )


def validate_mail_send(payload: Any) -> None:
    """Raise :class:`RequestRejectedError` unless ``payload`` is a request SendGrid would accept."""
    try:
        _schema_validator()(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        raise RequestRejectedError(400, str(error.message), str(error.path)) from None
    personalizations = payload.get("personalizations")
    if not personalizations or len(personalizations) > 1000:
        raise RequestRejectedError(
            400, "between 1 and 1000 personalizations are required", "personalizations"
        )
    sender = payload.get("from") or {}
    if not sender.get("email") or not str(sender["email"]).isascii():
        raise RequestRejectedError(400, "from.email is required and must be ASCII", "from.email")
    if "reply_to" in payload and "reply_to_list" in payload:
        raise RequestRejectedError(400, "use reply_to or reply_to_list, not both", "reply_to")
    template = payload.get("template_id")
    content = payload.get("content") or []
    if not template:
        types = [part.get("type") for part in content]
        if not types or types[0] != "text/plain":
            raise RequestRejectedError(
                400, "text/plain must be first, followed by text/html", "content"
            )
        if len(set(types)) != len(types):
            raise RequestRejectedError(400, "each content type may appear once", "content")
        if any(not part.get("value") for part in content):
            raise RequestRejectedError(400, "content values must not be empty", "content")
    top_custom = payload.get("custom_args") or {}
    top_custom_bound = _string_map(top_custom, "custom_args") if top_custom else 0
    top_headers = payload.get("headers") or {}
    _string_map(top_headers, "headers")
    tracking = payload.get("tracking_settings") or {}
    subscription_tracking = bool((tracking.get("subscription_tracking") or {}).get("enable"))
    categories = payload.get("categories") or []
    if (
        len(categories) > 10
        or len(set(categories)) != len(categories)
        or any(len(category) > 255 for category in categories)
    ):
        raise RequestRejectedError(
            400, "at most 10 unique categories of at most 255 characters", "categories"
        )
    if "send_at" in payload and "batch_id" not in payload:
        raise RequestRejectedError(400, "send_at requires a batch_id (project rule)", "send_at")
    _check_personalizations(
        personalizations,
        needs_subject=not payload.get("subject") and not template,
        template=str(template or ""),
        top_custom=top_custom,
        top_custom_bound=top_custom_bound,
        top_headers=top_headers,
        one_click=not subscription_tracking,
    )


def _check_personalizations(
    personalizations: list[Any],
    *,
    needs_subject: bool,
    template: str,
    top_custom: dict[str, Any],
    top_custom_bound: int,
    top_headers: dict[str, Any],
    one_click: bool,
) -> None:
    """The per-recipient rules. A request carries up to a thousand personalizations, so what
    depends only on the request is worked out once (the request-wide maps were checked by
    the caller) and each entry's own maps are checked against it."""
    seen: set[str] = set()
    recipients = 0
    dynamic = template.startswith("d-")
    top_lowered = _lowered(top_headers)
    top_reserved = set(top_lowered) & RESERVED_HEADERS
    # Lower-casing the merged headers equals merging the lower-cased ones unless the
    # request-wide headers name one header twice in different cases.
    merge_lowered = len(top_lowered) == len(top_headers)
    for index, entry in enumerate(personalizations):
        if not entry.get("to"):
            raise RequestRejectedError(
                400, "each personalization needs a to", f"personalizations.{index}.to"
            )
        if needs_subject and not entry.get("subject"):
            raise RequestRejectedError(400, "a subject is required", "subject")
        for kind in ("to", "cc", "bcc"):
            for address in entry.get(kind) or ():
                recipients += 1
                email = str(address.get("email", "")).lower()
                if email in seen:
                    raise RequestRejectedError(
                        400, f"duplicate address {email}", f"personalizations.{index}.{kind}"
                    )
                seen.add(email)
                name = address.get("name")
                if name is not None and (";" in name or "," in name):
                    raise RequestRejectedError(
                        400, "names may not contain ; or ,", f"personalizations.{index}.{kind}"
                    )
        if recipients > 1000:
            raise RequestRejectedError(
                400, "at most 1000 recipients per request", "personalizations"
            )
        if "substitutions" in entry:
            if dynamic:
                raise RequestRejectedError(
                    400,
                    "substitutions cannot be used with dynamic templates",
                    f"personalizations.{index}",
                )
            _string_map(entry["substitutions"], f"personalizations.{index}.substitutions", 10_001)
        if "dynamic_template_data" in entry and not dynamic:
            raise RequestRejectedError(
                400, "dynamic_template_data needs a d- template", f"personalizations.{index}"
            )
        own_custom = entry.get("custom_args") or {}
        own_bound = _string_map(own_custom, f"personalizations.{index}.custom_args")
        # The merged map is measured only when the two bounds together do not settle it.
        if top_custom_bound + own_bound >= 10_000:
            _string_map(
                {**top_custom, **own_custom}, f"personalizations.{index}.custom_args", 10_000
            )
        own_headers = entry.get("headers") or {}
        _string_map(own_headers, f"personalizations.{index}.headers")
        own_lowered = _lowered(own_headers)
        reserved = top_reserved | (own_lowered.keys() & RESERVED_HEADERS)
        if reserved:
            raise RequestRejectedError(
                400, f"reserved header(s) {sorted(reserved)}", f"personalizations.{index}"
            )
        if one_click:
            lowered = (
                top_lowered | own_lowered
                if merge_lowered
                else _lowered({**top_headers, **own_headers})
            )
            _check_one_click(lowered, f"personalizations.{index}.headers")


@dataclass
class Faults:
    """Scripted misbehaviour. Shares are probabilities per request."""

    share_429: float = 0.0
    reset_after_seconds: float = 1.0
    share_500: float = 0.0
    share_hang: float = 0.0
    hang_seconds: float = 5.0
    seed: int = 7


@dataclass
class AcceptedRecipient:
    """One recipient of an accepted request."""

    email: str
    custom_args: dict[str, str]
    message_id: str
    # The request-wide headers merged with the personalization's own.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeSendGridState:
    """What the server saw; every field is guarded by ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: Counter[str] = field(default_factory=Counter)
    records: list[AcceptedRecipient] = field(default_factory=list)
    requests: Counter[int] = field(default_factory=Counter)
    rejections: list[str] = field(default_factory=list)


class FakeSendGrid:
    """The server. ``on_events`` receives 'processed' events for accepted requests."""

    def __init__(
        self,
        faults: Faults | None = None,
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
        record_details: bool = True,
    ) -> None:
        self.faults = faults or Faults()
        self.state = FakeSendGridState()
        self._random = random.Random(self.faults.seed)
        self._random_lock = threading.Lock()
        self._on_events = on_events
        self._record_details = record_details
        self._events: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        # Event lists queued but not yet through ``on_events``: wait_for_events waits for the
        # callback to return, not just for the queue to empty.
        self._events_pending = 0
        self._events_done = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []
        _schema_validator()

    @property
    def host(self) -> str:
        """Base URL for SENDGRID_API_HOST."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeSendGrid:
        """Serve in background threads."""
        serving = threading.Thread(target=self._server.serve_forever, daemon=True)
        serving.start()
        self._threads.append(serving)
        if self._on_events is not None:
            emitter = threading.Thread(target=self._emit_loop, daemon=True)
            emitter.start()
            self._threads.append(emitter)
        return self

    def stop(self) -> None:
        """Stop serving and flush pending events."""
        self._events.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def wait_for_events(self, timeout: float = 10.0) -> None:
        """Block until ``on_events`` has returned for every queued event (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._events_done:
            while self._events_pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._events_done.wait(remaining)

    def _emit_loop(self) -> None:
        assert self._on_events is not None
        while True:
            events = self._events.get()
            if events is None:
                return
            try:
                self._on_events(events)
            except Exception as error:  # a test callback failing must be visible, not fatal
                with self.state.lock:
                    self.state.rejections.append(f"event callback failed: {error!r}")
            finally:
                with self._events_done:
                    self._events_pending -= 1
                    self._events_done.notify_all()

    def _roll(self) -> float:
        with self._random_lock:
            return self._random.random()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(
                self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def _error(
                self,
                status: int,
                message: str,
                field_name: str | None = None,
                headers: dict[str, str] | None = None,
            ) -> None:
                with server.state.lock:
                    server.state.requests[status] += 1
                    if status not in {429, 500}:
                        server.state.rejections.append(f"{status} {field_name}: {message}")
                body = json.dumps(
                    {"errors": [{"message": message, "field": field_name, "help": None}]}
                ).encode()
                self._reply(status, body, headers)

            def do_GET(self) -> None:
                if self.path == "/__stats":
                    with server.state.lock:
                        stats = {
                            "accepted_total": sum(server.state.accepted.values()),
                            "accepted_unique": len(server.state.accepted),
                            "duplicates": sum(
                                count - 1 for count in server.state.accepted.values() if count > 1
                            ),
                            "requests": {str(k): v for k, v in server.state.requests.items()},
                            "rejections": server.state.rejections[-5:],
                        }
                    self._reply(200, json.dumps(stats).encode())
                    return
                self._error(405, "method not allowed")

            def do_PUT(self) -> None:
                self._error(405, "method not allowed")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path != "/v3/mail/send":
                    self._error(405 if self.path.startswith("/v3/mail") else 404, "not found")
                    return
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._error(401, "authorization required")
                    return
                if "application/json" not in (self.headers.get("Content-Type") or ""):
                    self._error(415, "content type must be application/json")
                    return
                if self.headers.get("Content-Encoding"):
                    self._error(400, "Content-Encoding is not enabled for this account")
                    return
                if length >= MAX_BODY_BYTES:
                    self._error(413, "content too large")
                    return
                roll = server._roll()
                faults = server.faults
                if roll < faults.share_429:
                    reset = int(time.time() + faults.reset_after_seconds) + 1
                    self._error(
                        429,
                        "too many requests",
                        headers={
                            "X-RateLimit-Limit": "600",
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(reset),
                        },
                    )
                    return
                if roll < faults.share_429 + faults.share_500:
                    self._error(500, "internal error")
                    return
                try:
                    # orjson: parsing a thousand personalizations with the json module costs
                    # the server more than checking them.
                    payload = orjson.loads(raw)
                    validate_mail_send(payload)
                except orjson.JSONDecodeError:
                    self._error(400, "request body is not valid JSON")
                    return
                except RequestRejectedError as rejected:
                    self._error(rejected.status, rejected.message, rejected.field_name)
                    return
                sandbox = bool(
                    ((payload.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable")
                )
                if sandbox:
                    with server.state.lock:
                        server.state.requests[200] += 1
                    self._reply(200)
                    return
                message_id = uuid.uuid4().hex[:22]
                server._accept(payload, message_id)
                if roll < faults.share_429 + faults.share_500 + faults.share_hang:
                    # Accepted, but the answer does not come before the client gives up.
                    time.sleep(faults.hang_seconds)
                    self.close_connection = True
                    return
                with server.state.lock:
                    server.state.requests[202] += 1
                self._reply(202, headers={"X-Message-Id": message_id})

        return Handler

    def _accept(self, payload: dict[str, Any], message_id: str) -> None:
        top_custom = payload.get("custom_args") or {}
        events: list[dict[str, Any]] = []
        now = int(time.time())
        with self.state.lock:
            for index, entry in enumerate(payload["personalizations"]):
                custom = {**top_custom, **(entry.get("custom_args") or {})}
                headers = {**(payload.get("headers") or {}), **(entry.get("headers") or {})}
                for address in entry["to"]:
                    email = address["email"]
                    self.state.accepted[email] += 1
                    if self._record_details:
                        self.state.records.append(
                            AcceptedRecipient(email, custom, message_id, headers)
                        )
                    if self._on_events is not None:
                        events.append(
                            {
                                "email": email,
                                "timestamp": now,
                                "event": "processed",
                                "sg_event_id": f"{message_id}-{index}-processed",
                                "sg_message_id": f"{message_id}.filter-{index}",
                                "category": payload.get("categories") or [],
                                **custom,
                            }
                        )
        if events:
            with self._events_done:
                self._events_pending += 1
            self._events.put(events)


def main() -> None:
    """Serve on a given port until killed (for benchmarks)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    fake = FakeSendGrid(record_details=False)
    fake._server.server_close()
    fake._server = ThreadingHTTPServer(("127.0.0.1", arguments.port), fake._handler_class())
    fake._server.daemon_threads = True
    print(f"fake SendGrid on {fake.host}", flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
