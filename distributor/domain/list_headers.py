"""The ``List-Id`` header (RFC 2919) that tells mail clients and filters which list a message is.

Mail apps group and filter on it, and Gmail and Outlook read it with ``List-Unsubscribe``. The
value is ``"Title" <name.namespace>``: the list's name (already an RFC 5322 atom, see
:data:`distributor.services.subscribers` list-name rules) under the newsroom's host name. A
host that is not a domain (an IP address, a bare name) gives the namespace ``localhost``, which
RFC 2919 reserves for lists without a registered domain.
"""

from __future__ import annotations

import ipaddress
import re
from email.header import Header

from distributor.domain.text import normalise_space

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Printable ASCII without the two characters a quoted-string must escape.
_PLAIN_PHRASE = re.compile(r"^[\x20-\x7e]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def list_id_namespace(host: str | None) -> str:
    """The namespace part for a public host name: the host if it is a domain, else localhost."""
    candidate = (host or "").strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(candidate.strip("[]"))
    except ValueError:
        return candidate if _DOMAIN.match(candidate) else "localhost"
    return "localhost"


def list_id_header(name: str, title: str | None, namespace: str) -> str:
    """The ``List-Id`` value of a list, with its title as the phrase when it has one.

    A title outside printable ASCII becomes an RFC 2047 encoded word, so the header stays
    ASCII for every provider; control characters never reach the header.
    """
    label = f"<{name}.{namespace}>"
    phrase = normalise_space(_CONTROL.sub(" ", title or ""))
    if not phrase:
        return label
    if _PLAIN_PHRASE.match(phrase):
        quoted = phrase.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" {label}'
    encoded = Header(phrase, "utf-8", maxlinelen=10_000).encode()
    return f"{' '.join(encoded.split())} {label}"
