"""Where articles come from (pure).

A story is identified by its source and the GUID that source gave it. Besides the CMS feeds
registered by an operator, two sources are built in: ``api`` (``POST /api/articles``) and
``desk`` (stories put in by hand: the command line without ``--source``, the demo).
"""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    """What kind of source a row is."""

    FEED = "feed"
    API = "api"
    DESK = "desk"


BUILTIN_KINDS = (SourceKind.API, SourceKind.DESK)


def builtin_address(kind: SourceKind) -> str:
    """The fixed ``url`` of the built-in source of ``kind`` (not a web address: it is never
    fetched, and being unique it guarantees one built-in source per kind)."""
    if kind not in BUILTIN_KINDS:
        raise ValueError(f"{kind} sources are registered, not built in")
    return f"distributor:{kind.value}"
