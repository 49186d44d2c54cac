"""Feed renderers: RSS 2.0, Atom 1.0, JSON Feed 1.1 and IPTC ninjs (pure; bytes out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds import atom, jsonfeed, ninjs, rss
from distributor.rendering.feeds.common import FeedPolicy, FeedSpec

Renderer = Callable[[FeedSpec, Sequence[Article], FeedPolicy], bytes]

RENDERERS: dict[FeedFormat, Renderer] = {
    FeedFormat.RSS: rss.render_rss,
    FeedFormat.ATOM: atom.render_atom,
    FeedFormat.JSONFEED: jsonfeed.render_jsonfeed,
    FeedFormat.NINJS: ninjs.render_ninjs,
}

CONTENT_TYPES: dict[FeedFormat, str] = {
    FeedFormat.RSS: rss.CONTENT_TYPE,
    FeedFormat.ATOM: atom.CONTENT_TYPE,
    FeedFormat.JSONFEED: jsonfeed.CONTENT_TYPE,
    FeedFormat.NINJS: ninjs.CONTENT_TYPE,
}


def render_feed(
    feed_format: FeedFormat, spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy
) -> bytes:
    """Render one feed document in ``feed_format``."""
    return RENDERERS[feed_format](spec, articles, policy)
