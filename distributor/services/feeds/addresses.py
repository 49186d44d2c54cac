"""Where feed documents live: their public and partner URL paths, and their storage keys.

Both are stable: partners and readers bookmark the paths, and ``feed_documents.key`` is
``<audience>:<format>`` or ``<audience>:<format>:archive:<n>`` (RFC 5005 archive pages,
oldest = 1), the audience being ``public`` or ``partner:<id>``.
"""

from __future__ import annotations

from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds import format_by_extension, format_by_name, format_record

PUBLIC_KEY = "public"
PUBLIC_NAME = "public"  # public documents are public.<extension>


def public_path(feed_format: FeedFormat, archive: int | None = None) -> str:
    """``/feeds/public.rss`` or ``/feeds/public/archive/3.rss``."""
    suffix = format_record(feed_format).extension
    if archive is None:
        return f"/feeds/{PUBLIC_NAME}{suffix}"
    return f"/feeds/public/archive/{archive}{suffix}"


def public_feed_format(file_name: str) -> FeedFormat | None:
    """The format of a public document's file name (``public.rss``, ``public.ninjs.json``),
    or None: ``public`` followed by exactly the format's extension."""
    if not file_name.startswith(PUBLIC_NAME):
        return None
    record = format_by_extension(file_name.removeprefix(PUBLIC_NAME))
    return None if record is None else record.name


def partner_path(feed_format: FeedFormat, archive: int | None = None) -> str:
    """``/partners/feed/rss`` or ``/partners/feed/rss/archive/3`` (same for every partner)."""
    if archive is None:
        return f"/partners/feed/{feed_format.value}"
    return f"/partners/feed/{feed_format.value}/archive/{archive}"


def partner_feed_format(name: str) -> FeedFormat | None:
    """The format a partner asks for in ``/partners/feed/<name>``: its name or one of its
    aliases (``feed.json``), in any case; None when there is no such format."""
    record = format_by_name(name)
    return None if record is None else record.name


def document_key(audience_key: str, feed_format: FeedFormat, archive: int | None = None) -> str:
    """The ``feed_documents.key`` of one document."""
    key = f"{audience_key}:{feed_format.value}"
    return key if archive is None else f"{key}:archive:{archive}"


def partner_audience_key(partner_id: int) -> str:
    """``partner:<id>``."""
    return f"partner:{partner_id}"
