"""Email addresses: the one rule for whether an address is usable, and its stored form.

Readers, CSV imports, desk accounts, test sends, the CLI and the ``MAIL_FROM`` setting all
check addresses here, so an address accepted in one place is accepted in every other.
Deliberately simple: one @, no spaces or angle brackets, a dotted domain. Anything subtler is
the receiving server's call; a bounce then suppresses the address.
"""

from __future__ import annotations

import contextlib
import re

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# The common case in one match (imports check a million addresses): plain ASCII, a dotted
# domain with a letter TLD. Anything else takes the slower path that explains what is wrong.
_PLAIN_ADDRESS = re.compile(
    r"^[A-Za-z0-9_%+'=-]+(?:\.[A-Za-z0-9_%+'=-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def email_problem(
    address: str, *, ascii_only: bool = False, single_label_domain: bool = False
) -> str | None:
    """Why ``address`` is not a usable email address, or None when it looks deliverable.

    Surrounding spaces are ignored (see :func:`canonical_email`). ``ascii_only`` refuses an
    internationalised domain (a header written as is, such as ``MAIL_FROM``);
    ``single_label_domain`` accepts a host without dots (``news@localhost``) for addresses
    that only ever meet a local server.
    """
    value = address.strip()
    if (
        len(value) <= MAX_EMAIL_LENGTH
        and _PLAIN_ADDRESS.match(value)
        and len(value.partition("@")[0]) <= MAX_LOCAL_PART_LENGTH
    ):
        return None
    if not value:
        return "the email address is empty"
    if len(value) > MAX_EMAIL_LENGTH:
        return f"the email address is longer than {MAX_EMAIL_LENGTH} characters"
    if value.count("@") != 1:
        return "the email address must contain exactly one @"
    local, domain = value.split("@")
    if not local.isascii():
        return "the part before @ must use Latin letters, digits and punctuation only"
    if not local or len(local) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.match(local):
        return "the part before @ is empty or has characters not allowed in an address"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before @ has a misplaced dot"
    if ascii_only and not domain.isascii():
        return "the domain after @ must be written in ASCII (punycode, xn--…)"
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "the domain after @ is not a valid domain name"
    labels = ascii_domain.split(".")
    if len(labels) < (1 if single_label_domain else 2) or not all(
        _DOMAIN_LABEL.match(label) for label in labels
    ):
        return "the domain after @ must look like example.org"
    if len(labels) > 1 and labels[-1].isdigit():
        return "the domain after @ must be a name, not a number"
    return None


def normalise_email(address: str) -> str:
    """Trimmed and lower-cased: the form compared for uniqueness and sign-in, and hashed."""
    return address.strip().lower()


def canonical_email(address: str) -> str:
    """The stored form of a valid address: trimmed, lower-case, domain in ASCII (punycode).

    Providers and SMTP servers expect ASCII domains, and one form keeps uniqueness exact.
    """
    local, _, domain = address.strip().rpartition("@")
    if not domain.isascii():
        # An undecodable domain is not a valid address anyway; callers validate first.
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
    return normalise_email(f"{local}@{domain}")
