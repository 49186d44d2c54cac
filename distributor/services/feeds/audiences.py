"""Who a set of feed documents is for (the public, or one partner), and what that means for
rendering: which stories, seen under which policy, described by which feed spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from distributor.config import Settings
from distributor.db import models
from distributor.domain.partners import (
    NINJS_VERSIONS,
    FeedFormat,
    PartnerSelection,
    parse_feed_format,
)
from distributor.rendering.feeds.common import (
    DEFAULT_ATTRIBUTION,
    ArchiveLinks,
    FeedPolicy,
    FeedSpec,
)
from distributor.services.feeds.addresses import (
    PUBLIC_KEY,
    partner_audience_key,
    partner_path,
    public_path,
)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a set of feed documents is for: the public, or one partner."""

    key: str
    title: str
    base_path: str
    formats: tuple[FeedFormat, ...]
    selection: PartnerSelection | None
    attribution: str | None
    ninjs_version: str
    is_public: bool


def public_audience(settings: Settings) -> Audience:
    """The public feeds: everything published and not embargoed, in every format."""
    return Audience(
        key=PUBLIC_KEY,
        title=settings.PUBLISHER_NAME,
        base_path="/feeds",
        formats=tuple(FeedFormat),
        selection=None,
        attribution=None,
        ninjs_version="3.1",
        is_public=True,
    )


def partner_selection(partner: models.Partner) -> PartnerSelection:
    """The domain selection rules of a stored partner."""
    return PartnerSelection(
        sections=tuple(str(value) for value in partner.sections or ()),
        tags=tuple(str(value) for value in partner.tags or ()),
        languages=tuple(str(value) for value in partner.languages or ()),
        territory=partner.territory,
        allow_embargoed=partner.allow_embargoed,
    )


def partner_formats(partner: models.Partner) -> tuple[FeedFormat, ...]:
    """The formats a partner may fetch (all when none were chosen)."""
    chosen = [parse_feed_format(str(value)) for value in partner.formats or ()]
    return tuple(chosen) or tuple(FeedFormat)


def partner_audience(settings: Settings, partner: models.Partner) -> Audience:
    """One partner's feeds."""
    return Audience(
        key=partner_audience_key(partner.id),
        title=f"{settings.PUBLISHER_NAME} for {partner.name}",
        base_path="/partners/feed",
        formats=partner_formats(partner),
        selection=partner_selection(partner),
        attribution=partner.attribution or DEFAULT_ATTRIBUTION,
        ninjs_version=partner.ninjs_version if partner.ninjs_version in NINJS_VERSIONS else "3.1",
        is_public=False,
    )


def document_url(
    settings: Settings, audience: Audience, feed_format: FeedFormat, archive: int | None
) -> str:
    """The absolute URL of one of ``audience``'s documents (``archive`` None: the current one)."""
    path = (
        public_path(feed_format, archive)
        if audience.is_public
        else partner_path(feed_format, archive)
    )
    return settings.PUBLIC_BASE_URL + path


def feed_policy(audience: Audience, now: datetime) -> FeedPolicy:
    """How ``audience`` sees the stories at ``now``."""
    selection = audience.selection
    return FeedPolicy(
        now=now,
        attribution=audience.attribution,
        territory=selection.territory if selection else None,
        allow_embargoed=selection.allow_embargoed if selection else False,
        ninjs_version=audience.ninjs_version,
    )


def _language(audience: Audience) -> str:
    if audience.selection and audience.selection.languages:
        return audience.selection.languages[0]
    return "en"


def feed_spec(
    settings: Settings, audience: Audience, feed_format: FeedFormat, page: int | None, pages: int
) -> FeedSpec:
    """The description of one document: the current one (``page`` None) or archive page
    ``page`` of ``pages``, with its RFC 5005 links."""
    current = document_url(settings, audience, feed_format, None)
    if page is None:
        archive = ArchiveLinks(
            is_archive=False,
            prev_archive_url=document_url(settings, audience, feed_format, pages)
            if pages
            else None,
        )
    else:
        archive = ArchiveLinks(
            is_archive=True,
            current_url=current,
            prev_archive_url=document_url(settings, audience, feed_format, page - 1)
            if page > 1
            else None,
            next_archive_url=document_url(settings, audience, feed_format, page + 1)
            if page < pages
            else None,
        )
    return FeedSpec(
        title=audience.title,
        self_url=document_url(settings, audience, feed_format, page),
        home_url=settings.PUBLISHER_URL,
        description=f"Stories from {settings.PUBLISHER_NAME}",
        language=_language(audience),
        feed_id=current,
        publisher=settings.PUBLISHER_NAME,
        publisher_url=settings.PUBLISHER_URL,
        tag_authority=settings.feed_tag_authority,
        rights=f"© {settings.PUBLISHER_NAME}",
        hub_url=settings.WEBSUB_HUB_URL if audience.is_public else None,
        archive=archive,
    )
