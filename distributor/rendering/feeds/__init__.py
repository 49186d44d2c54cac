"""Feed renderers: RSS 2.0, Atom 1.0, JSON Feed 1.1 and IPTC ninjs (pure; bytes out).

Each format is one renderer module plus one record in :mod:`.formats`, which is where the
rest of the code looks formats up (by name, alias, file extension or media type).
"""

from __future__ import annotations

from distributor.rendering.feeds.formats import (
    FORMATS,
    FeedFormatRecord,
    Renderer,
    format_by_extension,
    format_by_media_type,
    format_by_name,
    format_record,
    render_feed,
)

__all__ = [
    "FORMATS",
    "FeedFormatRecord",
    "Renderer",
    "format_by_extension",
    "format_by_media_type",
    "format_by_name",
    "format_record",
    "render_feed",
]
