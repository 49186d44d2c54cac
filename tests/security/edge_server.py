"""A real ``distributor serve`` on 127.0.0.1 for the HTTP-edge tests, and a raw HTTP client
that streams a large body and stops as soon as the server answers."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for
from tests.conftest import free_port
from tests.support.serve_process import inherited_environment, running_serve

SECRET = "edge-test-secret-key-0123456789abcdef"


@dataclass
class Served:
    """A running server: where it listens, its process id, its temporary folder and log."""

    port: int
    pid: int
    tmpdir: Path
    log: Path
    database_url: str

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>."""
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_bytes(self) -> int:
        """The most memory the server process has held (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc status")


def database_url_under(data_dir: Path) -> str:
    """The SQLite URL ``serve`` uses for ``DATA_DIR=data_dir``."""
    return f"sqlite:///{(data_dir / 'distributor.db').as_posix()}"


def migrate(data_dir: Path) -> str:
    """Create and migrate the server's database ahead of seeding it."""
    url = database_url_under(data_dir)
    upgrade(url)
    return url


@contextmanager
def serve(tmp_path: Path, **env_overrides: str) -> Iterator[Served]:
    """Run ``distributor serve`` (embedded mode, SQLite under ``tmp_path``) until the block ends."""
    port = free_port()
    data_dir = tmp_path / "var"
    tmpdir = tmp_path / "server-tmp"
    tmpdir.mkdir(exist_ok=True)
    database_url = database_url_under(data_dir)
    engine_for(database_url).dispose()
    env = inherited_environment()
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SECRET_KEY": SECRET,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
            "TMPDIR": str(tmpdir),
        }
    )
    env.update(env_overrides)
    log = tmp_path / "serve.log"
    with running_serve([], env, port, log) as server:
        yield Served(port, server.pid, tmpdir, log, database_url)


@dataclass
class StreamedPost:
    """What happened to one streamed request."""

    status: int | None
    body: bytes
    sent: int
    seconds: float


def _read_response(sock: socket.socket, deadline: float) -> tuple[int | None, bytes]:
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
        head, separator, body = data.partition(b"\r\n\r\n")
        if separator and b"content-length:" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(body) >= length:
                break
    if not data.startswith(b"HTTP/1.1 "):
        return None, data
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


def stream_post(
    port: int,
    path: str,
    *,
    total_bytes: int,
    headers: dict[str, str],
    prefix: bytes = b"",
    declare_length: bool = False,
    chunk_size: int = 256 * 1024,
    timeout: float = 60.0,
) -> StreamedPost:
    """POST ``prefix`` then zeros up to ``total_bytes`` to ``path``, chunked unless
    ``declare_length``; stop sending as soon as the server answers or closes."""
    started = time.monotonic()
    deadline = started + timeout
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(
        f"Content-Length: {total_bytes}" if declare_length else "Transfer-Encoding: chunked"
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sent = 0
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        filler = b"0" * chunk_size
        answered = False
        while sent < total_bytes and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            piece = (prefix if sent == 0 and prefix else filler)[: total_bytes - sent]
            frame = piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                answered = True
                break
            sent += len(piece)
        if not answered and not declare_length:
            with suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                sock.sendall(b"0\r\n\r\n")
        status, body = _read_response(sock, deadline)
    finally:
        sock.close()
    return StreamedPost(status, body, sent, time.monotonic() - started)
