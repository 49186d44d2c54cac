"""JSON Feed 1.1 with the documented ``_distributor`` extension (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from distributor.domain.articles import Article
from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds.common import (
    EXTENSION_ABOUT,
    JSONFEED_EXTENSION,
    FeedPolicy,
    FeedSpec,
    attribution_line,
    clean_title,
    effective_restriction,
    feed_language,
    feed_updated,
    full_html,
    image_copyright,
    image_mime_type,
    item_id,
    modified_time,
    published_time,
    rfc3339,
    select_entries,
    story_language,
    summary_text,
)

CONTENT_TYPE = "application/feed+json; charset=utf-8"
VERSION = "https://jsonfeed.org/version/1.1"


def _author(name: str, url: str | None, avatar: str | None) -> dict[str, str]:
    person = {"name": name}
    if url:
        person["url"] = url
    if avatar:
        person["avatar"] = avatar
    return person


def _extension(article: Article, spec: FeedSpec, policy: FeedPolicy) -> dict[str, Any]:
    data: dict[str, Any] = {
        "about": EXTENSION_ABOUT,
        "canonical_url": article.canonical_url,
        "revision": article.revision,
        "authors": [
            {"name": author.name, "bio": author.bio, "url": author.profile_url}
            for author in article.authors
        ],
        "images": [
            {
                "url": image.url,
                "caption": image.caption,
                "credit": image.credit,
                "copyright": image_copyright(article, image),
                "alt": image.alt_text or None,
                "width": image.width,
                "height": image.height,
                "is_lead": image.is_lead,
            }
            for image in article.images
        ],
        "notes": list(article.notes),
        "rights": article.rights or spec.rights,
        "usage_terms": article.usage_terms,
        "sections": list(article.sections),
    }
    restriction = effective_restriction(article)
    if restriction is not None:
        data["territories"] = {"relationship": restriction[0], "countries": list(restriction[1])}
    if policy.attribution:
        data["attribution"] = attribution_line(article, policy.attribution, spec.publisher)
    return data


def _item(article: Article, spec: FeedSpec, policy: FeedPolicy) -> dict[str, Any]:
    authors = [_author(a.name, a.profile_url, a.avatar_url) for a in article.authors]
    item: dict[str, Any] = {
        "id": item_id(article, spec.tag_authority),
        "url": article.canonical_url,
        "title": clean_title(article.title),
        "content_html": full_html(article, policy, spec.publisher),
        "summary": summary_text(article),
        "date_published": rfc3339(published_time(article)),
        "date_modified": rfc3339(modified_time(article)),
        "language": story_language(article),
    }
    lead = article.lead_image
    if lead is not None:
        item["image"] = lead.url
    if authors:
        item["authors"] = authors
        item["author"] = authors[0]  # JSON Feed 1.0 readers know only the singular form
    tags = list(dict.fromkeys([*article.sections, *article.tags]))
    if tags:
        item["tags"] = tags
    if article.images:
        item["attachments"] = [
            {
                "url": image.url,
                "mime_type": image_mime_type(image),
                "title": image.caption or image.url,
            }
            for image in article.images
        ]
    item[JSONFEED_EXTENSION] = _extension(article, spec, policy)
    return item


def render_jsonfeed(spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy) -> bytes:
    """A JSON Feed 1.1 document of the articles visible under ``policy``, newest first.

    Older pages are reached through ``next_url`` (the JSON Feed form of paging).
    """
    entries = select_entries(articles, FeedFormat.JSONFEED, policy)
    document: dict[str, Any] = {
        "version": VERSION,
        "title": clean_title(spec.title),
        "home_page_url": spec.home_url,
        "feed_url": spec.self_url,
        "description": spec.description or clean_title(spec.title),
        "language": feed_language(spec),
        "authors": [
            _author(spec.publisher or clean_title(spec.title), spec.publisher_url or None, None)
        ],
    }
    if spec.archive.prev_archive_url:
        document["next_url"] = spec.archive.prev_archive_url
    if spec.hub_url:
        document["hubs"] = [{"type": "WebSub", "url": spec.hub_url}]
    document[JSONFEED_EXTENSION] = {
        "about": EXTENSION_ABOUT,
        "updated": rfc3339(feed_updated(spec, entries)),
        "rights": spec.rights,
        "archive": spec.archive.is_archive,
        "current_url": spec.archive.current_url,
    }
    document["items"] = [_item(entry.article, spec, policy) for entry in entries]
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
    return (text + "\n").encode("utf-8")
