"""Stored rows to domain objects (one place, so every output sees the same Article)."""

from __future__ import annotations

from distributor.db import models
from distributor.domain.articles import Article, ArticleStatus, Author, Image


def _strings(values: list[object] | None) -> tuple[str, ...]:
    return tuple(str(value) for value in values or () if value is not None and str(value) != "")


def author_from_row(row: models.Author) -> Author:
    """A stored author as a domain :class:`Author`."""
    return Author(
        name=row.name,
        bio=row.bio,
        avatar_url=row.avatar_url,
        profile_url=row.profile_url,
        email=row.email,
    )


def image_from_row(row: models.Image) -> Image:
    """A stored image as a domain :class:`Image` (caption, credit, alt and rights kept)."""
    return Image(
        url=row.url,
        caption=row.caption,
        credit=row.credit,
        alt=row.alt,
        width=row.width,
        height=row.height,
        mime_type=row.mime_type,
        copyright=row.copyright,
        is_lead=bool(row.is_lead),
    )


def article_from_row(row: models.Article) -> Article:
    """A stored article with its byline (in order) and images (in order) as a domain Article.

    Authors and images are ordered by their ``position`` here as well as by the relationship,
    so the result does not depend on how the row was loaded.
    """
    links = sorted(row.authors, key=lambda link: link.position)
    images = sorted(row.images, key=lambda image: image.position)
    return Article(
        guid=row.guid,
        title=row.title,
        canonical_url=row.canonical_url,
        body_html=row.body_html or "",
        dek=row.dek,
        language=row.language or "en",
        sections=_strings(row.sections),
        tags=_strings(row.tags),
        authors=tuple(author_from_row(link.author) for link in links),
        images=tuple(image_from_row(image) for image in images),
        notes=_strings(row.notes),
        published_at=row.published_at,
        updated_at=row.updated_at,
        embargo_until=row.embargo_until,
        rights=row.rights,
        usage_terms=row.usage_terms,
        territories_allow=_strings(row.territories_allow),
        territories_deny=_strings(row.territories_deny),
        revision=row.revision,
        status=ArticleStatus(row.status),
        id=row.id,
        source_id=row.source_id,
        stored_at=row.ingested_at,
        guid_is_feed_id=bool(row.guid_is_feed_id),
    )
