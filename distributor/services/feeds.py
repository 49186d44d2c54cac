"""Feed use cases: rebuild stored feed documents, look them up, manage partners, push.

Feeds are built when content changes (a task calls :func:`rebuild_feeds`) and stored as
``feed_documents`` rows, one per document key:

- ``public:<format>`` and ``public:<format>:archive:<n>`` (RFC 5005 archive pages, oldest = 1)
- ``partner:<id>:<format>`` and ``partner:<id>:<format>:archive:<n>``

The web app serves the stored bytes; nothing is rendered per request.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from distributor.adapters.webhook_push import PushRequest, PushSender
from distributor.adapters.websub import WebSubPublisher
from distributor.config import Settings
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.articles import Article, ArticleStatus
from distributor.domain.partners import (
    NINJS_VERSIONS,
    PUSH_MAX_ATTEMPTS,
    FeedFormat,
    IssuedApiKey,
    PartnerSelection,
    PushStatus,
    Visibility,
    api_key_prefix,
    generate_api_key,
    generate_push_secret,
    hash_api_key,
    matches,
    parse_feed_format,
    push_failure_is_permanent,
    push_headers,
    push_retry_delay,
    territory_allows,
    visibility,
)
from distributor.rendering.feeds import CONTENT_TYPES, render_feed
from distributor.rendering.feeds.common import (
    DEFAULT_ATTRIBUTION,
    ArchiveLinks,
    FeedPolicy,
    FeedSpec,
    order_key,
    select_entries,
)
from distributor.rendering.feeds.ninjs import render_ninjs_item

# Public URL paths. Stable: partners and readers bookmark them.
PUBLIC_SUFFIX = {
    FeedFormat.RSS: ".rss",
    FeedFormat.ATOM: ".atom",
    FeedFormat.JSONFEED: ".json",
    FeedFormat.NINJS: ".ninjs.json",
}
PUBLIC_KEY = "public"


class PartnerError(ValueError):
    """A partner request that cannot be carried out; the message says what to change."""


# ------------------------------------------------------------------------------ mapping


def load_articles(session: Session, article_ids: Iterable[int] | None = None) -> list[Article]:
    """Every distributable article (published or withdrawn), or only ``article_ids``."""
    query = select(models.Article).where(
        models.Article.status.in_([status.value for status in ArticleStatus])
    )
    if article_ids is not None:
        query = query.where(models.Article.id.in_(list(article_ids)))
    return [article_from_row(row) for row in session.scalars(query)]


# ----------------------------------------------------------------------------- audiences


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


def public_path(feed_format: FeedFormat, archive: int | None = None) -> str:
    """``/feeds/public.rss`` or ``/feeds/public/archive/3.rss``."""
    suffix = PUBLIC_SUFFIX[feed_format]
    if archive is None:
        return f"/feeds/public{suffix}"
    return f"/feeds/public/archive/{archive}{suffix}"


def partner_path(feed_format: FeedFormat, archive: int | None = None) -> str:
    """``/partners/feed/rss`` or ``/partners/feed/rss/archive/3`` (same for every partner)."""
    if archive is None:
        return f"/partners/feed/{feed_format.value}"
    return f"/partners/feed/{feed_format.value}/archive/{archive}"


def document_key(audience_key: str, feed_format: FeedFormat, archive: int | None = None) -> str:
    """The ``feed_documents.key`` of one document."""
    key = f"{audience_key}:{feed_format.value}"
    return key if archive is None else f"{key}:archive:{archive}"


def partner_audience_key(partner_id: int) -> str:
    """``partner:<id>``."""
    return f"partner:{partner_id}"


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


def _url(
    settings: Settings, audience: Audience, feed_format: FeedFormat, archive: int | None
) -> str:
    path = (
        public_path(feed_format, archive)
        if audience.is_public
        else partner_path(feed_format, archive)
    )
    return settings.PUBLIC_BASE_URL + path


def _policy(audience: Audience, now: datetime) -> FeedPolicy:
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


def _spec(
    settings: Settings, audience: Audience, feed_format: FeedFormat, page: int | None, pages: int
) -> FeedSpec:
    current = _url(settings, audience, feed_format, None)
    if page is None:
        archive = ArchiveLinks(
            is_archive=False,
            prev_archive_url=_url(settings, audience, feed_format, pages) if pages else None,
        )
    else:
        archive = ArchiveLinks(
            is_archive=True,
            current_url=current,
            prev_archive_url=_url(settings, audience, feed_format, page - 1) if page > 1 else None,
            next_archive_url=_url(settings, audience, feed_format, page + 1)
            if page < pages
            else None,
        )
    return FeedSpec(
        title=audience.title,
        self_url=_url(settings, audience, feed_format, page),
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


# ------------------------------------------------------------------------------ building


@dataclass(frozen=True, slots=True)
class BuiltDocument:
    """One rendered document, ready to store or print."""

    key: str
    url: str
    content_type: str
    body: bytes
    item_count: int


def audience_articles(audience: Audience, articles: Sequence[Article]) -> list[Article]:
    """The articles in an audience's topical selection (territory/embargo come later)."""
    if audience.selection is None:
        return list(articles)
    return [article for article in articles if matches(article, audience.selection)]


def build_documents(
    settings: Settings,
    audience: Audience,
    articles: Sequence[Article],
    now: datetime,
    formats: Iterable[FeedFormat] | None = None,
    *,
    archives: bool = True,
) -> list[BuiltDocument]:
    """Render every document of ``audience``: the current one per format plus archive pages
    (``archives=False``: the current ones only).

    The current document holds the newest ``FEED_PAGE_SIZE`` items. Archive page ``n`` holds
    items ``(n-1)*size .. n*size-1`` counted from the oldest, and exists only once full, so
    its membership never changes (RFC 5005 §4).
    """
    chosen = audience_articles(audience, articles)
    policy = _policy(audience, now)
    size = settings.FEED_PAGE_SIZE
    documents: list[BuiltDocument] = []
    for feed_format in formats or audience.formats:
        entries = select_entries(chosen, feed_format, policy)
        oldest_first = sorted((entry.article for entry in entries), key=order_key)
        pages = len(oldest_first) // size if len(oldest_first) > size else 0
        newest = oldest_first[-size:]
        content_type = CONTENT_TYPES[feed_format]
        spec = _spec(settings, audience, feed_format, None, pages)
        documents.append(
            BuiltDocument(
                key=document_key(audience.key, feed_format),
                url=spec.self_url,
                content_type=content_type,
                body=render_feed(feed_format, spec, newest, policy),
                item_count=len(newest),
            )
        )
        for page in range(1, pages + 1 if archives else 1):
            members = oldest_first[(page - 1) * size : page * size]
            spec = _spec(settings, audience, feed_format, page, pages)
            documents.append(
                BuiltDocument(
                    key=document_key(audience.key, feed_format, page),
                    url=spec.self_url,
                    content_type=content_type,
                    body=render_feed(feed_format, spec, members, policy),
                    item_count=len(members),
                )
            )
    return documents


def entity_tag(body: bytes) -> str:
    """A strong ETag derived from the body only, so equal bodies always share it."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def gzip_body(body: bytes) -> bytes:
    """Deterministic gzip (no timestamp in the header)."""
    return gzip.compress(body, compresslevel=6, mtime=0)


@dataclass
class RebuildReport:
    """What a rebuild changed."""

    built: int = 0
    changed_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    public_topics_changed: list[str] = field(default_factory=list)


def _store(
    session: Session, documents: Sequence[BuiltDocument], now: datetime, report: RebuildReport
) -> None:
    keys = [document.key for document in documents]
    existing = {
        row.key: row
        for row in session.scalars(
            select(models.FeedDocument).where(models.FeedDocument.key.in_(keys))
        )
    }
    # HTTP dates have whole seconds; a finer Last-Modified would never compare equal.
    moment = now.astimezone(UTC).replace(microsecond=0)
    for document in documents:
        etag = entity_tag(document.body)
        row = existing.get(document.key)
        report.built += 1
        if row is not None and row.etag == etag:
            row.built_at = moment
            continue
        if row is None:
            row = models.FeedDocument(key=document.key)
            session.add(row)
        row.content_type = document.content_type
        row.body = document.body
        row.body_gzip = gzip_body(document.body)
        row.etag = etag
        row.last_modified = moment
        row.item_count = document.item_count
        row.built_at = moment
        report.changed_keys.append(document.key)
        if document.key.startswith(PUBLIC_KEY + ":") and ":archive:" not in document.key:
            report.public_topics_changed.append(document.url)


def _remove_stale(
    session: Session, audience_key: str, keep: set[str], report: RebuildReport
) -> None:
    pattern = audience_key + ":%"
    stale = [
        key
        for key in session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like(pattern))
        )
        if key not in keep
        and key.split(":")[len(audience_key.split(":"))] in {f.value for f in FeedFormat}
    ]
    if stale:
        session.execute(delete(models.FeedDocument).where(models.FeedDocument.key.in_(stale)))
        report.removed_keys.extend(stale)


def rebuild_feeds(
    session: Session,
    settings: Settings,
    article_ids: Sequence[int] | None,
    now: datetime,
    partner_ids: Sequence[int] = (),
    *,
    archives: bool = True,
) -> RebuildReport:
    """Re-render the documents affected by ``article_ids`` (None: every document).

    Affected: the public feeds, each active partner whose selection includes one of the
    articles, and the partners in ``partner_ids`` (created, or their selection changed). With
    no article ids but partner ids, only those partners' documents are built. Unchanged
    documents keep their bytes, ETag and Last-Modified. ``archives=False`` builds the current
    documents only and leaves the archive pages as they are (a worker builds them next).

    Every document is rendered before the first write, so the write transaction lasts only as
    long as storing the bytes, not as long as the rendering.
    """
    articles = load_articles(session)
    partners = list(session.scalars(select(models.Partner).where(models.Partner.active.is_(True))))
    touched: list[Article] | None = None
    if article_ids is not None:
        wanted = set(article_ids)
        touched = [article for article in articles if article.id in wanted]
    chosen_partners = set(partner_ids)
    report = RebuildReport()
    audiences = []
    if article_ids is None or article_ids or not chosen_partners:
        audiences.append(public_audience(settings))
    for partner in partners:
        audience = partner_audience(settings, partner)
        selection = audience.selection
        if partner.id not in chosen_partners and (
            touched is not None
            and selection is not None
            and not any(matches(article, selection) for article in touched)
        ):
            continue
        audiences.append(audience)
    rendered = [
        (audience, build_documents(settings, audience, articles, now, archives=archives))
        for audience in audiences
    ]
    for audience, documents in rendered:
        _store(session, documents, now, report)
        if archives:
            _remove_stale(session, audience.key, {doc.key for doc in documents}, report)
    if article_ids is None:
        # Documents of partners that were removed or deactivated must not stay servable.
        live = {audience.key for audience in audiences}
        for key in session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like("partner:%"))
        ):
            if ":".join(key.split(":")[:2]) not in live:
                session.execute(delete(models.FeedDocument).where(models.FeedDocument.key == key))
                report.removed_keys.append(key)
    session.flush()
    return report


def notify_hub(
    settings: Settings, publisher: WebSubPublisher, topic_urls: Sequence[str]
) -> list[str]:
    """Ping the WebSub hub for changed public feeds (call after commit). No hub: no-op."""
    if not settings.WEBSUB_HUB_URL or not topic_urls:
        return []
    return publisher.publish(settings.WEBSUB_HUB_URL, sorted(set(topic_urls)))


def last_build_time(session: Session) -> datetime | None:
    """When the public RSS document was last rebuilt (the feeds' watermark)."""
    return session.scalar(
        select(models.FeedDocument.built_at).where(
            models.FeedDocument.key == document_key(PUBLIC_KEY, FeedFormat.RSS)
        )
    )


def articles_released_since(session: Session, since: datetime | None, now: datetime) -> list[int]:
    """Ids of articles whose embargo ended in (since, now]."""
    query = select(models.Article.id).where(
        models.Article.embargo_until.is_not(None), models.Article.embargo_until <= now
    )
    if since is not None:
        query = query.where(models.Article.embargo_until > since)
    return list(session.scalars(query.order_by(models.Article.id)))


def feeds_are_stale(session: Session, watermark: datetime | None) -> bool:
    """True when feeds were never built, an article changed after the last build, or an
    active partner has no documents yet (its rebuild after creation was lost)."""
    if watermark is None:
        return True  # never built: build once, even empty, so the URLs answer
    if (
        session.scalar(
            select(models.Article.id).where(models.Article.modified_at > watermark).limit(1)
        )
        is not None
    ):
        return True
    return bool(partners_never_built(session))


def partners_never_built(session: Session) -> list[int]:
    """Ids of active partners with no current document for one of their formats."""
    built = set(
        session.scalars(
            select(models.FeedDocument.key).where(models.FeedDocument.key.like("partner:%"))
        )
    )
    missing = []
    for partner in session.scalars(
        select(models.Partner).where(models.Partner.active.is_(True)).order_by(models.Partner.id)
    ):
        audience_key = partner_audience_key(partner.id)
        formats = partner_formats(partner)
        if any(document_key(audience_key, each) not in built for each in formats):
            missing.append(partner.id)
    return missing


# ----------------------------------------------------------------------------- freshness
# Feeds are rebuilt right after the commit of the change that affects them. Services mark
# what changed on the session (``article_changed`` in services.events for stories,
# :func:`partner_changed` here for partners); whoever commits the unit of work then calls
# :func:`rebuild_after_commit`. The periodic ``release_embargoes`` check stays as the safety
# net for a lost message or a crash between the commit and the rebuild.

_CHANGED_PARTNERS_KEY = "distributor.feeds_changed_partner_ids"


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """What committed changes affect: stories (by id) and partners (created or re-selected)."""

    article_ids: tuple[int, ...] = ()
    partner_ids: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.article_ids or self.partner_ids)


RebuildSender = Callable[[FeedChanges], None]
_rebuild_sender: list[RebuildSender] = []


def send_rebuilds_with(sender: RebuildSender | None) -> None:
    """Install how this process hands story rebuilds to a worker (a task queue that has a
    consumer: Redis, or the embedded worker of ``serve``). None: rebuild inline."""
    _rebuild_sender.clear()
    if sender is not None:
        _rebuild_sender.append(sender)


def partner_changed(session: Session, partner_id: int) -> None:
    """Mark a partner's documents for a rebuild after this session commits."""
    changed: set[int] = session.info.setdefault(_CHANGED_PARTNERS_KEY, set())
    changed.add(partner_id)


def take_feed_changes(session: Session) -> FeedChanges:
    """What this session marked (then forgotten). Call after commit."""
    from distributor.services.events import take_dirty_article_ids

    partners: set[int] = session.info.pop(_CHANGED_PARTNERS_KEY, set())
    return FeedChanges(tuple(take_dirty_article_ids(session)), tuple(sorted(partners)))


def has_feed_changes(session: Session) -> bool:
    """True when this session marked something that affects the feeds."""
    from distributor.services.events import DIRTY_ARTICLES_KEY

    return bool(session.info.get(_CHANGED_PARTNERS_KEY) or session.info.get(DIRTY_ARTICLES_KEY))


def rebuild_after_commit(
    session: Session,
    settings: Settings,
    units: Callable[[], AbstractContextManager[Session]],
    now: datetime | None = None,
    publisher: WebSubPublisher | None = None,
) -> RebuildReport | None:
    """Rebuild what ``session`` (just committed) changed.

    With an installed sender (a worker consumes this process's tasks) everything goes to the
    worker, which rebuilds within moments; a changed partner's current documents are built
    here first (one audience, 50 items a format), because the partner is about to use the key
    it was just shown. Without a sender, everything is rebuilt here. Rebuilds here run in a
    new unit of work from ``units``. Returns the report of what was built here, or None.
    """
    changes = take_feed_changes(session)
    if not changes:
        return None
    sender = _rebuild_sender[0] if _rebuild_sender else None
    report = None
    if changes.partner_ids or sender is None:
        with units() as unit:
            report = rebuild_feeds(
                unit,
                settings,
                [] if sender is not None else list(changes.article_ids),
                now or datetime.now(UTC),
                changes.partner_ids,
                archives=sender is None,
            )
        if publisher is not None:
            notify_hub(settings, publisher, report.public_topics_changed)
    if sender is not None:
        sender(changes)
    return report


def next_embargo_end(session: Session, now: datetime) -> datetime | None:
    """When the next embargo ends (after ``now``), or None."""
    return session.scalar(
        select(models.Article.embargo_until)
        .where(models.Article.embargo_until > now)
        .order_by(models.Article.embargo_until)
        .limit(1)
    )


# ------------------------------------------------------------------------------ serving


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A stored document as the web app serves it."""

    key: str
    content_type: str
    body: bytes
    body_gzip: bytes
    etag: str
    last_modified: datetime
    item_count: int


def load_feed_document(session: Session, key: str) -> StoredFeed | None:
    """The stored document ``key``, or None when it was never built."""
    row = session.scalar(select(models.FeedDocument).where(models.FeedDocument.key == key))
    if row is None:
        return None
    return StoredFeed(
        key=row.key,
        content_type=row.content_type,
        body=row.body,
        body_gzip=row.body_gzip,
        etag=row.etag,
        last_modified=row.last_modified,
        item_count=row.item_count,
    )


@dataclass(frozen=True, slots=True)
class PartnerAccess:
    """What the web app needs to know about an authenticated partner."""

    partner_id: int
    name: str
    formats: tuple[FeedFormat, ...]
    rate_limit_per_minute: int | None


def authenticate_partner(session: Session, api_key: str) -> PartnerAccess | None:
    """The active partner holding ``api_key``, or None (malformed, unknown or inactive)."""
    if api_key_prefix(api_key) is None:
        return None
    partner = session.scalar(
        select(models.Partner).where(
            models.Partner.api_key_hash == hash_api_key(api_key), models.Partner.active.is_(True)
        )
    )
    if partner is None:
        return None
    return PartnerAccess(
        partner_id=partner.id,
        name=partner.name,
        formats=partner_formats(partner),
        rate_limit_per_minute=partner.rate_limit_per_minute,
    )


def record_partner_fetches(session: Session, counts: dict[int, int], at: datetime) -> None:
    """Add batched fetch counts (one UPDATE per partner, not one per request)."""
    for partner_id, count in sorted(counts.items()):
        session.execute(
            update(models.Partner)
            .where(models.Partner.id == partner_id)
            .values(fetch_count=models.Partner.fetch_count + count, last_fetch_at=at)
        )


# ------------------------------------------------------------------------------ partners

_TERRITORY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True, slots=True)
class PartnerSettings:
    """The editable settings of a partner (validated by :func:`validate_partner_settings`)."""

    formats: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    territory: str | None = None
    allow_embargoed: bool = False
    ninjs_version: str = "3.1"
    push_url: str | None = None
    attribution: str | None = None
    rate_limit_per_minute: int | None = None


def validate_partner_settings(values: PartnerSettings) -> PartnerSettings:
    """Normalised settings, or :class:`PartnerError` naming every problem."""
    problems: list[str] = []
    formats: list[str] = []
    for value in values.formats:
        try:
            formats.append(parse_feed_format(value).value)
        except ValueError as exc:
            problems.append(f"--format: {exc}")
    territory = values.territory.strip().upper() if values.territory else None
    if territory is not None and not _TERRITORY.match(territory):
        problems.append(
            f"--territory: {values.territory!r} is not a two-letter ISO 3166 code like GB"
        )
    for language in values.languages:
        if not _LANGUAGE.match(language.strip()):
            problems.append(f"--language: {language!r} is not a BCP 47 tag like en or zh-Hans")
    if values.ninjs_version not in NINJS_VERSIONS:
        problems.append(
            f"--ninjs-version: {values.ninjs_version!r}; use one of {', '.join(NINJS_VERSIONS)}"
        )
    if values.push_url and not values.push_url.startswith(("https://", "http://")):
        problems.append(f"--push-url: {values.push_url!r} must be an http(s) URL")
    if values.rate_limit_per_minute is not None and values.rate_limit_per_minute < 1:
        problems.append("--rate-limit: must be at least 1 request per minute")
    if problems:
        raise PartnerError("; ".join(problems))
    return PartnerSettings(
        formats=tuple(dict.fromkeys(formats)),
        sections=tuple(dict.fromkeys(value.strip() for value in values.sections if value.strip())),
        tags=tuple(dict.fromkeys(value.strip() for value in values.tags if value.strip())),
        languages=tuple(dict.fromkeys(value.strip() for value in values.languages)),
        territory=territory,
        allow_embargoed=values.allow_embargoed,
        ninjs_version=values.ninjs_version,
        push_url=values.push_url or None,
        attribution=values.attribution or None,
        rate_limit_per_minute=values.rate_limit_per_minute,
    )


@dataclass(frozen=True, slots=True)
class CreatedPartner:
    """A new partner with its secrets, which are shown once and never again."""

    partner: models.Partner
    api_key: IssuedApiKey
    push_secret: str | None


def find_partner(session: Session, name: str) -> models.Partner:
    """The partner called ``name``, or :class:`PartnerError`."""
    partner = session.scalar(select(models.Partner).where(models.Partner.name == name))
    if partner is None:
        raise PartnerError(f"no partner named {name!r}; see `distributor partners list`")
    return partner


def _apply(partner: models.Partner, values: PartnerSettings) -> None:
    partner.formats = list(values.formats)
    partner.sections = list(values.sections)
    partner.tags = list(values.tags)
    partner.languages = list(values.languages)
    partner.territory = values.territory
    partner.allow_embargoed = values.allow_embargoed
    partner.ninjs_version = values.ninjs_version
    partner.push_url = values.push_url
    partner.attribution = values.attribution
    partner.rate_limit_per_minute = values.rate_limit_per_minute


def create_partner(
    session: Session, name: str, values: PartnerSettings, now: datetime
) -> CreatedPartner:
    """Create a partner with a fresh API key (and push secret when it has a push URL)."""
    name = name.strip()
    if not name:
        raise PartnerError("a partner needs a name")
    if session.scalar(select(models.Partner.id).where(models.Partner.name == name)) is not None:
        raise PartnerError(f"a partner named {name!r} already exists; use rotate-key or update")
    values = validate_partner_settings(values)
    issued = generate_api_key()
    partner = models.Partner(
        name=name,
        api_key_hash=issued.digest,
        api_key_prefix=issued.prefix,
        key_rotated_at=now,
        active=True,
    )
    _apply(partner, values)
    push_secret = generate_push_secret() if values.push_url else None
    partner.push_secret = push_secret
    session.add(partner)
    session.flush()
    partner_changed(session, partner.id)
    return CreatedPartner(partner, issued, push_secret)


def partner_settings(partner: models.Partner) -> PartnerSettings:
    """A partner's current settings, as :func:`update_partner` takes them."""
    return PartnerSettings(
        formats=tuple(partner.formats or ()),
        sections=tuple(partner.sections or ()),
        tags=tuple(partner.tags or ()),
        languages=tuple(partner.languages or ()),
        territory=partner.territory,
        allow_embargoed=bool(partner.allow_embargoed),
        ninjs_version=partner.ninjs_version or NINJS_VERSIONS[0],
        push_url=partner.push_url,
        attribution=partner.attribution,
        rate_limit_per_minute=partner.rate_limit_per_minute,
    )


def update_partner(session: Session, name: str, values: PartnerSettings) -> models.Partner:
    """Replace a partner's settings; a push secret is created when a push URL first appears."""
    return _update(session, find_partner(session, name), values)


def change_partner(session: Session, name: str, changes: dict[str, Any]) -> models.Partner:
    """Change the settings named in ``changes`` (fields of :class:`PartnerSettings`); the
    others keep their values."""
    partner = find_partner(session, name)
    return _update(session, partner, replace(partner_settings(partner), **changes))


def _update(session: Session, partner: models.Partner, values: PartnerSettings) -> models.Partner:
    values = validate_partner_settings(values)
    _apply(partner, values)
    if values.push_url and not partner.push_secret:
        partner.push_secret = generate_push_secret()
    session.flush()
    partner_changed(session, partner.id)
    return partner


def rotate_partner_key(session: Session, name: str, now: datetime) -> IssuedApiKey:
    """Issue a new API key; the old one stops working at once."""
    partner = find_partner(session, name)
    issued = generate_api_key()
    partner.api_key_hash = issued.digest
    partner.api_key_prefix = issued.prefix
    partner.key_rotated_at = now
    session.flush()
    return issued


def list_partners(session: Session) -> list[models.Partner]:
    """Every partner, by name."""
    return list(session.scalars(select(models.Partner).order_by(models.Partner.name)))


def partner_push_log(session: Session, name: str, limit: int = 50) -> list[models.PartnerPush]:
    """A partner's most recent pushes, newest first."""
    partner = find_partner(session, name)
    return list(
        session.scalars(
            select(models.PartnerPush)
            .where(models.PartnerPush.partner_id == partner.id)
            .order_by(models.PartnerPush.created_at.desc(), models.PartnerPush.id.desc())
            .limit(limit)
        )
    )


def render_for(
    session: Session,
    settings: Settings,
    feed_format: FeedFormat,
    partner_name: str | None,
    now: datetime,
) -> BuiltDocument:
    """The current document for the public or a partner, rendered now (for the CLI)."""
    if partner_name is None:
        audience = public_audience(settings)
    else:
        audience = partner_audience(settings, find_partner(session, partner_name))
        if feed_format not in audience.formats:
            enabled = ", ".join(value.value for value in audience.formats)
            raise PartnerError(
                f"{feed_format.value} is not enabled for {partner_name}; enabled: {enabled}"
            )
    documents = build_documents(settings, audience, load_articles(session), now, [feed_format])
    return documents[0]


# ---------------------------------------------------------------------------------- push

PUSH_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ClaimedPush:
    """A push claimed by this worker, with everything needed to send it outside a transaction."""

    push_id: int
    request: PushRequest | None
    skip_reason: str | None = None


def _push_payload(
    settings: Settings, partner: models.Partner, article: Article, now: datetime
) -> tuple[bytes | None, str | None]:
    audience = partner_audience(settings, partner)
    selection = audience.selection
    assert selection is not None
    if not territory_allows(article, selection.territory):
        return None, f"not allowed in territory {selection.territory}"
    seen = visibility(article, FeedFormat.NINJS, now, selection.allow_embargoed)
    if seen is Visibility.HIDDEN:
        return None, "embargoed; will be pushed on release"
    spec = _spec(settings, audience, FeedFormat.NINJS, None, 0)
    return render_ninjs_item(article, spec, _policy(audience, now), seen), None


def claim_due_pushes(
    session: Session, settings: Settings, now: datetime, limit: int = 20
) -> list[ClaimedPush]:
    """Claim due pushes by compare-and-set and prepare their signed requests.

    A claimed row gets a lease (``next_attempt_at`` = now + lease); a worker that dies leaves
    it due again after the lease, so nothing is lost and a second worker finds nothing to do
    meanwhile.
    """
    due = session.execute(
        select(models.PartnerPush.id, models.PartnerPush.status, models.PartnerPush.next_attempt_at)
        .where(
            models.PartnerPush.status.in_(
                [PushStatus.PENDING, PushStatus.RETRYING, PushStatus.SENDING]
            ),
            or_(
                models.PartnerPush.next_attempt_at.is_(None),
                models.PartnerPush.next_attempt_at <= now,
            ),
        )
        .order_by(models.PartnerPush.id)
        .limit(limit)
    ).all()
    claimed: list[ClaimedPush] = []
    for push_id, status, next_attempt in due:
        condition = [models.PartnerPush.id == push_id, models.PartnerPush.status == status]
        condition.append(
            models.PartnerPush.next_attempt_at.is_(None)
            if next_attempt is None
            else models.PartnerPush.next_attempt_at == next_attempt
        )
        result = session.execute(
            update(models.PartnerPush)
            .where(*condition)
            .values(
                status=PushStatus.SENDING.value,
                next_attempt_at=now + PUSH_LEASE,
                attempts=models.PartnerPush.attempts + 1,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another worker won the row
        push = session.get(models.PartnerPush, push_id)
        assert push is not None
        partner = session.get(models.Partner, push.partner_id)
        row = session.get(models.Article, push.article_id)
        if partner is None or row is None or not partner.push_url or not partner.push_secret:
            claimed.append(ClaimedPush(push_id, None, "partner has no push URL any more"))
            continue
        body, reason = _push_payload(settings, partner, article_from_row(row), now)
        if body is None:
            claimed.append(ClaimedPush(push_id, None, reason))
            continue
        headers = push_headers(
            partner.push_secret,
            int(now.timestamp()),
            body,
            push.event,
            f"{push.id}-{push.attempts}",
        )
        claimed.append(ClaimedPush(push_id, PushRequest(partner.push_url, body, headers)))
    session.flush()
    return claimed


def record_push_result(
    session: Session,
    push_id: int,
    status_code: int | None,
    error: str | None,
    *,
    now: datetime,
    jitter: float = 0.0,
) -> PushStatus:
    """Store the outcome of one attempt: delivered, retry later with back-off, or failed."""
    push = session.get(models.PartnerPush, push_id)
    if push is None:
        return PushStatus.FAILED
    push.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        push.status = PushStatus.DELIVERED.value
        push.delivered_at = now
        push.last_error = None
        push.next_attempt_at = None
    elif push_failure_is_permanent(status_code) or push.attempts >= PUSH_MAX_ATTEMPTS:
        push.status = PushStatus.FAILED.value
        push.last_error = error
        push.next_attempt_at = None
    else:
        push.status = PushStatus.RETRYING.value
        push.last_error = error
        push.next_attempt_at = now + push_retry_delay(push.attempts, jitter)
    session.flush()
    return PushStatus(push.status)


def skip_push(session: Session, push_id: int, reason: str) -> None:
    """Close a push that must not be sent (e.g. the partner's territory excludes the story)."""
    push = session.get(models.PartnerPush, push_id)
    if push is not None:
        push.status = PushStatus.SKIPPED.value
        push.last_error = reason
        push.next_attempt_at = None
        session.flush()


@dataclass
class PushRunReport:
    """Counts of one push run."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def push_due_partners(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    settings: Settings,
    sender: PushSender,
    clock: Callable[[], datetime],
    *,
    limit: int = 20,
    jitter: Callable[[], float] | None = None,
) -> PushRunReport:
    """Claim due pushes (one transaction), send them (no transaction open), record results."""
    draw = jitter or (lambda: secrets.randbelow(1000) / 1000)
    with unit_of_work() as session:
        claimed = claim_due_pushes(session, settings, clock(), limit)
    report = PushRunReport()
    for job in claimed:
        if job.request is None:
            with unit_of_work() as session:
                skip_push(session, job.push_id, job.skip_reason or "skipped")
            report.skipped += 1
            continue
        response = sender.send(job.request)
        with unit_of_work() as session:
            outcome = record_push_result(
                session,
                job.push_id,
                response.status_code,
                response.error,
                now=clock(),
                jitter=draw(),
            )
        if outcome is PushStatus.DELIVERED:
            report.delivered += 1
        elif outcome is PushStatus.RETRYING:
            report.retrying += 1
        else:
            report.failed += 1
    return report
