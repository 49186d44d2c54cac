"""The guarded client connects to the address it checked, yet TLS still verifies the
certificate for the URL's host name (SNI) and the Host header names that host."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from distributor.adapters.safe_http import AddressPolicy, guarded_client, parse_networks

LOOPBACK = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8, ::1/128"))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test authority and a certificate for ``localhost`` only (no IP address in it)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test CA"))
        .issuer_name(_name("Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[tuple[str | None, bytes]]]]:
    """An HTTPS server on 127.0.0.1 recording (SNI, request head) of each connection."""
    ca_path, cert_path, key_path = _certificates(tmp_path)
    seen: list[tuple[str | None, bytes]] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    names: dict[int, str | None] = {}

    def remember(sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
        names[id(sock)] = name

    context.sni_callback = remember  # type: ignore[assignment]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    head = conn.recv(65536)
                    seen.append((names.get(id(conn)), head))
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except (ssl.SSLError, OSError):
                seen.append((None, b"handshake failed"))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], ca_path, seen
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_tls_is_verified_for_the_host_name_while_connecting_to_the_checked_address(
    tls_server: tuple[int, Path, list[tuple[str | None, bytes]]],
) -> None:
    port, ca_path, seen = tls_server
    trusted = ssl.create_default_context(cafile=str(ca_path))
    with guarded_client(LOOPBACK, timeout_seconds=5, ssl_context=trusted) as client:
        answer = client.get(f"https://localhost:{port}/feed.xml")
        assert answer.status_code == 200
        assert answer.text == "ok"
        # The certificate names localhost, not 127.0.0.1: by address it must be refused.
        with pytest.raises(httpx.ConnectError, match="certificate"):
            client.get(f"https://127.0.0.1:{port}/feed.xml")
    sni, head = seen[0]
    assert sni == "localhost"
    assert f"Host: localhost:{port}".encode() in head
