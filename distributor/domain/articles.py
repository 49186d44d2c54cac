"""Articles as they travel through Distributor: pure data, no I/O.

An :class:`Article` is what ingest produces, what storage keeps (as rows) and what every renderer
(email, RSS, Atom, JSON Feed, ninjs) consumes. Credits, bios and notes are first-class fields so
that no output format can silently drop them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class ArticleStatus(StrEnum):
    """Whether a stored article may be distributed."""

    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Author:
    """A person credited in a byline. ``bio`` is the "About the author" text (plain text)."""

    name: str
    bio: str | None = None
    avatar_url: str | None = None
    profile_url: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    """A photo that belongs to an article, with everything a partner must keep attached."""

    url: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None
    width: int | None = None
    height: int | None = None
    mime_type: str | None = None
    copyright: str | None = None
    is_lead: bool = False

    @property
    def alt_text(self) -> str:
        """The text to put in ``alt``: the explicit alt, else the caption, else empty."""
        return (self.alt or self.caption or "").strip()


@dataclass(frozen=True, slots=True)
class Article:
    """One published story.

    ``body_html`` is sanitised HTML with absolute URLs (ingest guarantees it). ``notes`` are
    statements that must travel with every copy of the story, e.g. "Names have been changed to
    protect sources". ``embargo_until`` (UTC) hides the story from public outputs until then.
    """

    guid: str
    title: str
    canonical_url: str
    body_html: str = ""
    dek: str | None = None
    language: str = "en"
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    images: tuple[Image, ...] = ()
    notes: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    embargo_until: datetime | None = None
    rights: str | None = None
    usage_terms: str | None = None
    territories_allow: tuple[str, ...] = ()
    territories_deny: tuple[str, ...] = ()
    revision: int = 1
    status: ArticleStatus = ArticleStatus.PUBLISHED
    id: int | None = None
    source_id: int | None = None
    # When the story was first stored, and whether its GUID is its feed id (see
    # rendering.feeds.common.item_id); set by storage, never by a CMS. None: not stored, an
    # http(s) GUID is the id.
    stored_at: datetime | None = None
    guid_is_feed_id: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def lead_image(self) -> Image | None:
        """The image to show first: the one marked lead, else the first one."""
        for image in self.images:
            if image.is_lead:
                return image
        return self.images[0] if self.images else None

    @property
    def byline(self) -> str:
        """Author names joined for display ("A, B and C")."""
        names = [author.name for author in self.authors]
        if len(names) <= 1:
            return "".join(names)
        return ", ".join(names[:-1]) + " and " + names[-1]

    def is_embargoed(self, now: datetime) -> bool:
        """True while the embargo (if any) has not yet passed at ``now`` (aware datetime)."""
        return self.embargo_until is not None and self.embargo_until > now

    def as_dict(self) -> dict[str, Any]:
        """The article as plain dicts and tuples: the same value ``dataclasses.asdict`` gives,
        built without its deep copies (every leaf here is immutable), which made storing a
        large feed noticeably slower."""
        return {name: _plain(getattr(self, name)) for name in _ARTICLE_FIELDS}

    def content_hash(self) -> str:
        """A stable digest of everything editorial; a change means a new revision.

        Identity and bookkeeping fields (id, revision, status, source) are excluded, so the
        same item ingested twice hashes the same.
        """
        return content_hash_of(self.as_dict())


# Identity and bookkeeping fields: left out of the content hash.
_NOT_HASHED = frozenset(
    {"id", "revision", "status", "source_id", "updated_at", "stored_at", "guid_is_feed_id"}
)


def is_http_guid(guid: str) -> bool:
    """True when ``guid`` is an absolute http(s) URL: such a GUID may serve as the story's id
    in the feeds as it is; any other GUID gets a minted ``tag:`` id."""
    text = guid.strip()
    if not text.isascii() or any(character.isspace() for character in text):
        return False
    parts = urlsplit(text)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def content_hash_of(data: Mapping[str, Any]) -> str:
    """:meth:`Article.content_hash` of the article whose :meth:`Article.as_dict` is ``data``
    (lets a caller that needs the dict anyway build it only once)."""
    editorial = {key: value for key, value in data.items() if key not in _NOT_HASHED}
    encoded = json.dumps(editorial, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
# Immutable leaves are returned as they are (asdict's deep copy of them is an equal value).
_LEAF_TYPES = frozenset({str, int, float, bool, type(None), datetime, ArticleStatus})
_NESTED_FIELDS: dict[type, tuple[str, ...]] = {
    Author: tuple(f.name for f in fields(Author)),
    Image: tuple(f.name for f in fields(Image)),
}


def _plain(value: Any) -> Any:
    """``value`` with nested Author/Image dataclasses turned into dicts (as ``asdict`` does)."""
    kind = type(value)
    if kind in _LEAF_TYPES:
        return value
    names = _NESTED_FIELDS.get(kind)
    if names is not None:
        plain: dict[str, Any] = {}
        for name in names:
            item = getattr(value, name)
            plain[name] = item if type(item) in _LEAF_TYPES else _plain(item)
        return plain
    if kind is tuple:
        for item in value:
            if type(item) not in _LEAF_TYPES:
                return tuple(map(_plain, value))
        # Only immutable leaves: the tuple itself is the equal copy asdict would make.
        return value
    if isinstance(value, list):
        return list(map(_plain, value))
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value
