"""Hostile HTTP servers for the fetching tests, listening on loopback addresses only.

- :class:`TricklingServer` answers 200 with a large ``Content-Length`` and then sends one
  byte at a time, as a slow (or malicious) feed does.
- :class:`RecordingServer` answers every request with a fixed status, headers and body, and
  records what reached it (method, path, Host header), so a test can prove nothing did.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TricklingServer:
    """One byte every ``interval`` seconds after the headers, for at most ``lifetime`` s."""

    def __init__(self, interval: float = 0.5, lifetime: float = 30.0) -> None:
        self.interval = interval
        self.lifetime = lifetime
        self.connected = threading.Event()
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/slow.rss"
        self._thread = threading.Thread(target=self._serve, name="trickle", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                b"Content-Length: 1000000\r\n\r\n"
            )
            self.connected.set()
            ends = time.monotonic() + self.lifetime
            while not self._stop.is_set() and time.monotonic() < ends:
                try:
                    connection.sendall(b"<")
                except OSError:
                    return  # the client gave up
                self.bytes_sent += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


@dataclass
class Answer:
    """What a :class:`RecordingServer` answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordingServer:
    """A real HTTP server on ``host`` (a loopback address) with one answer for every path."""

    host: str
    answer: Answer
    hits: list[tuple[str, str, str]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/") -> str:
        """``http://host:port/path``."""
        return f"http://{self.host}:{self.port}{path}"


@contextmanager
def recording_server(host: str, answer: Answer) -> Iterator[RecordingServer]:
    """Serve ``answer`` on ``host`` (e.g. 127.0.0.2, a loopback address Linux routes to lo)."""
    record = RecordingServer(host, answer)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            record.hits.append((self.command, self.path, self.headers.get("Host", "")))
            self.send_response(record.answer.status)
            for name, value in record.answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(record.answer.body)))
            self.end_headers()
            self.wfile.write(record.answer.body)

        do_GET = do_POST = _reply  # noqa: N815 (the names http.server dispatches to)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    record.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
