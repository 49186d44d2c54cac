"""The feed formats Distributor renders: one record per format, and lookups (pure).

Everything the rest of the code needs to know about a format lives in its record: the
renderer, the Content-Type it is served with, the public file extension, the other names a
partner may fetch it by, and the official schema it is checked against in tests. Adding a
format (NewsML-G2, say) is a renderer module, one :class:`FeedFormatRecord` in :data:`FORMATS`
and one :class:`~distributor.domain.partners.FeedFormat` value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds import atom, jsonfeed, ninjs, rss
from distributor.rendering.feeds.common import FeedPolicy, FeedSpec

Renderer = Callable[[FeedSpec, Sequence[Article], FeedPolicy], bytes]


class SchemaScope(StrEnum):
    """What an official schema describes: the whole document, or each of its ``items``."""

    DOCUMENT = "document"
    ITEMS = "items"


@dataclass(frozen=True, slots=True)
class FeedFormatRecord:
    """One feed format.

    ``extension`` ends the public URLs (``/feeds/public.rss``, ``/feeds/public/archive/3.rss``)
    and is stable: readers bookmark it. ``aliases`` are the other names a partner may use
    in ``/partners/feed/<name>`` besides ``name``. ``schema`` is the official schema's file
    under the shared schemas folder (None: the format has no JSON schema).
    """

    name: FeedFormat
    content_type: str
    render: Renderer
    extension: str
    aliases: tuple[str, ...] = ()
    schema: str | None = None
    schema_scope: SchemaScope = SchemaScope.DOCUMENT

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, e.g. ``application/rss+xml``."""
        return _bare(self.content_type)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the format answers to: its own, then its aliases."""
        return (self.name.value, *self.aliases)


FORMATS: tuple[FeedFormatRecord, ...] = (
    FeedFormatRecord(
        name=FeedFormat.RSS,
        content_type=rss.CONTENT_TYPE,
        render=rss.render_rss,
        extension=".rss",
        aliases=("rss.xml",),
    ),
    FeedFormatRecord(
        name=FeedFormat.ATOM,
        content_type=atom.CONTENT_TYPE,
        render=atom.render_atom,
        extension=".atom",
        aliases=("atom.xml",),
    ),
    FeedFormatRecord(
        name=FeedFormat.JSONFEED,
        content_type=jsonfeed.CONTENT_TYPE,
        render=jsonfeed.render_jsonfeed,
        extension=".json",
        aliases=("json", "feed.json"),
        schema="jsonfeed/schema-v1.1.json",
    ),
    FeedFormatRecord(
        name=FeedFormat.NINJS,
        content_type=ninjs.CONTENT_TYPE,
        render=ninjs.render_ninjs,
        extension=".ninjs.json",
        schema="ninjs/ninjs-schema_3.1.json",
        schema_scope=SchemaScope.ITEMS,
    ),
)


def _bare(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _index(keys: Callable[[FeedFormatRecord], Sequence[str]]) -> dict[str, FeedFormatRecord]:
    index: dict[str, FeedFormatRecord] = {}
    for record in FORMATS:
        for key in keys(record):
            if key in index:
                raise ValueError(f"feed formats {index[key].name} and {record.name} share {key!r}")
            index[key] = record
    return index


_BY_FORMAT = {record.name: record for record in FORMATS}
if missing := [value.value for value in FeedFormat if value not in _BY_FORMAT]:
    raise ValueError(f"feed formats without a record in FORMATS: {', '.join(missing)}")
_BY_NAME = _index(lambda record: record.names)
_BY_EXTENSION = _index(lambda record: (record.extension,))
_BY_MEDIA_TYPE = _index(lambda record: (record.media_type,))


def format_record(feed_format: FeedFormat) -> FeedFormatRecord:
    """The record of ``feed_format`` (every :class:`FeedFormat` has one)."""
    return _BY_FORMAT[feed_format]


def format_by_name(name: str) -> FeedFormatRecord | None:
    """The format called ``name`` or one of its aliases (any case), e.g. ``feed.json``."""
    return _BY_NAME.get(name.lower())


def format_by_extension(extension: str) -> FeedFormatRecord | None:
    """The format whose public URLs end in ``extension`` exactly, e.g. ``.ninjs.json``."""
    return _BY_EXTENSION.get(extension)


def format_by_media_type(content_type: str) -> FeedFormatRecord | None:
    """The format served as ``content_type`` (parameters such as charset are ignored)."""
    return _BY_MEDIA_TYPE.get(_bare(content_type))


def render_feed(
    feed_format: FeedFormat, spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy
) -> bytes:
    """Render one feed document in ``feed_format``."""
    return format_record(feed_format).render(spec, articles, policy)
