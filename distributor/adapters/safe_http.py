"""Outgoing HTTP that cannot be pointed at our own network, and that ends on time.

Every URL we fetch or post to (CMS feeds, partner pushes, WebSub pings) is typed in by a
person or comes from a redirect, so it may name a loopback, private or cloud-metadata address
(server-side request forgery). Checking the URL once is not enough: a name can resolve
differently later, and a redirect can point anywhere. So the check lives in the connection:

- :class:`GuardedNetworkBackend` resolves the host itself, refuses the connection when *any*
  address is loopback, private, link-local, multicast, reserved or otherwise not public, and
  connects to the address it checked. TLS still verifies the certificate against the host
  name (httpcore sends the URL's host as SNI and ``Host``), so nothing else changes.
- Because every connection (every redirect hop included) goes through the backend, a redirect
  to an internal address is refused just like a first request.
- :func:`overall_deadline` bounds a whole request, body included: each socket read and write
  waits at most until the deadline, so a server that trickles one byte at a time cannot keep
  a fetch alive past it (a read timeout alone restarts with every byte).

An :class:`AddressPolicy` says what may be reached: ``FETCH_ALLOWED_NETWORKS`` opens chosen
internal networks (an intranet CMS), ``FETCH_ALLOW_PRIVATE_ADDRESSES=true`` lifts the address
check altogether (tests); the scheme check and the deadline always apply.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx

if TYPE_CHECKING:
    from distributor.config import Settings

ALLOWED_SCHEMES = ("http", "https")
PRIVATE_SETTING = "FETCH_ALLOW_PRIVATE_ADDRESSES"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The wall-clock moment (time.monotonic) at which the current request must end, if any.
_deadline: ContextVar[float | None] = ContextVar("distributor_http_deadline", default=None)


class UnsafeURLError(ValueError):
    """A URL we refuse to fetch or post to (scheme, or an address that is not public)."""


class BlockedAddressError(httpcore.ConnectError):
    """A connection refused because the host resolves to an address that is not public."""


class DeadlineExceededError(httpcore.ReadTimeout):
    """The whole request took longer than its overall deadline."""


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public Internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return address_problem(mapped)
        if address.teredo is not None:
            return "a Teredo tunnel address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public Internet address"
    return None


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Networks from a comma-separated list such as ``"10.1.2.0/24, 192.168.5.7"``."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
    )


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses outgoing requests may reach: public ones, plus ``allowed_networks``,
    or everything when ``allow_private_addresses``."""

    allow_private_addresses: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        """``FETCH_ALLOW_PRIVATE_ADDRESSES`` and ``FETCH_ALLOWED_NETWORKS``."""
        return cls(
            allow_private_addresses=settings.FETCH_ALLOW_PRIVATE_ADDRESSES,
            allowed_networks=parse_networks(settings.FETCH_ALLOWED_NETWORKS),
        )

    def problem(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or None."""
        if self.allow_private_addresses:
            return None
        problem = address_problem(address)
        if problem is None or any(address in network for network in self.allowed_networks):
            return None
        return problem


def _refusal(
    host: str, address: IPAddress, problem: str, verb: str = "refused to connect to"
) -> str:
    shown = host if host == str(address) else f"{host} ({address})"
    return (
        f"{verb} {shown}: {problem}; set {PRIVATE_SETTING}=true, or list the network in "
        "FETCH_ALLOWED_NETWORKS, to allow it"
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (IP literals, including odd forms, included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url: str, policy: AddressPolicy, what: str = "URL") -> str:
    """Refuse a URL that is not http(s), or whose host resolves to a non-public address.

    Called when a URL is registered, so people hear about a bad one at once; the connection
    is checked again every time (see :class:`GuardedNetworkBackend`). A host name that does
    not resolve now passes here: it may be a temporary DNS failure, and it cannot be
    connected to while it does not resolve. Returns the URL stripped of spaces.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        raise UnsafeURLError(f"{what} must be an absolute http:// or https:// URL (got {url!r})")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise UnsafeURLError(f"{what} has an invalid port (got {url!r})") from exc
    if policy.allow_private_addresses:
        return url
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError, ValueError):
        return url
    for address in addresses:
        problem = policy.problem(address)
        if problem is not None:
            raise UnsafeURLError(
                f"{what} {url!r} is refused: "
                + _refusal(parts.hostname, address, problem, verb="it points to")
            )
    return url


@contextmanager
def overall_deadline(seconds: float) -> Iterator[None]:
    """Within this block, requests made through a guarded client end after ``seconds``."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline_passed() -> bool:
    """True inside :func:`overall_deadline` once its time is up."""
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left before the deadline (raises once it has passed)."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceededError("the overall deadline of the request has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the overall deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bounded = _bounded(timeout)
        try:
            return self._stream.read(max_bytes, bounded)
        except httpcore.ReadTimeout as exc:
            if bounded != timeout or deadline_passed():
                raise DeadlineExceededError(
                    "the overall deadline of the request has passed"
                ) from exc
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """Resolve, check every address, then connect to a checked address (see module doc)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout)
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        for address in addresses:
            problem = self.policy.problem(address)
            if problem is not None:
                raise BlockedAddressError(_refusal(host, address, problem))
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = self._backend.connect_tcp(
                    str(address), port, _bounded(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream)
        if last_error is not None:
            raise last_error
        raise httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedAddressError("Unix sockets are never used for outgoing requests")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a :class:`GuardedNetworkBackend` (no proxies, no Unix sockets)."""

    def __init__(
        self,
        policy: AddressPolicy,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(trust_env=False)
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        self._pool = httpcore.ConnectionPool(
            # Certificates are checked against the URL's host name, never the address we
            # connect to; SSL_CERT_FILE / SSL_CERT_DIR name extra authorities, as for httpx.
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )


def guarded_client(
    policy: AddressPolicy,
    *,
    timeout_seconds: float,
    follow_redirects: bool = False,
    max_redirects: int = 5,
    headers: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.Client:
    """An httpx client whose every connection is checked (see module doc).

    Environment proxies are ignored (``trust_env=False``): a proxy would make the address we
    check the proxy's, not the target's.
    """
    return httpx.Client(
        transport=GuardedTransport(policy, ssl_context=ssl_context),
        timeout=timeout_seconds,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        headers=headers,
        trust_env=False,
    )


def refusal_of(exc: BaseException) -> str | None:
    """Our own message when ``exc`` (or what caused it) is a refused address, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockedAddressError | UnsafeURLError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None
