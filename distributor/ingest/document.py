"""One entry point for any incoming document: our JSON format or an RSS/Atom feed."""

from __future__ import annotations

from distributor.domain.articles import Article
from distributor.ingest.json_schema import parse_json_document
from distributor.ingest.pipeline import parse_feed
from distributor.ingest.report import IngestReport, NotAFeedError


def looks_like_json(data: bytes, content_type: str | None = None) -> bool:
    """True for JSON bytes (by media type, else by the first non-blank character)."""
    if content_type and "json" in content_type.lower():
        return True
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[")


def parse_document(
    data: bytes, source: str, base_url: str | None = None, content_type: str | None = None
) -> tuple[list[Article], IngestReport]:
    """Articles and a report from ``data``; raises NotAFeedError for anything else."""
    if not data.strip():
        raise NotAFeedError(f"{source}: the document is empty")
    if looks_like_json(data, content_type):
        return parse_json_document(data, source)
    return parse_feed(data, source, base_url)
