"""SQLAlchemy 2 typed models for the whole service.

Portable between SQLite (embedded default) and PostgreSQL: generic types only, times stored
as aware UTC (see :class:`UTCDateTime`), JSON for small lists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Plain BigInteger ids on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention (for Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


# --------------------------------------------------------------------------------- ingest
class Source(Base):
    """Where articles come from; an article's identity is (source, GUID).

    ``kind`` is ``feed`` (a CMS feed polled on a schedule with conditional GET, or read once
    from the command line), ``api`` (``POST /api/articles``) or ``desk`` (stories put in by
    hand: the command line without ``--source``, the demo). There is one built-in source of
    kind ``api`` and one of kind ``desk``; their ``url`` is a fixed ``distributor:`` name.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="feed")
    name: Mapped[str] = mapped_column(String(200), default="")
    interval_seconds: Mapped[int] = mapped_column(Integer, default=900)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_polled_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_report: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Author(Base):
    """A credited person; ``key`` identifies them across articles (normalised name/profile)."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    profile_url: Mapped[str | None] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ArticleAuthor(Base):
    """Ordered byline of an article."""

    __tablename__ = "article_authors"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[Author] = relationship(lazy="joined")


class Article(Base):
    """The current revision of a story; earlier revisions live in ``article_revisions``.

    A story is identified by its source and the GUID that source gave it: the same GUID from
    another source is another story. ``guid_is_feed_id`` is True when the GUID itself (an
    absolute http(s) URL no other article had when this one was first stored) is the story's
    id in the feeds; else the feeds mint a ``tag:`` URI (see ``rendering.feeds.common``).
    """

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("source_id", "guid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guid: Mapped[str] = mapped_column(String(1000), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    guid_is_feed_id: Mapped[bool] = mapped_column(Boolean, default=False)
    canonical_url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(1000))
    dek: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35), default="en", index=True)
    sections: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]
    embargo_until: Mapped[datetime | None] = mapped_column(index=True)
    rights: Mapped[str | None] = mapped_column(Text)
    usage_terms: Mapped[str | None] = mapped_column(Text)
    territories_allow: Mapped[list[Any]] = mapped_column(default=list)
    territories_deny: Mapped[list[Any]] = mapped_column(default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    authors: Mapped[list[ArticleAuthor]] = relationship(
        order_by="ArticleAuthor.position", cascade="all, delete-orphan", lazy="selectin"
    )
    images: Mapped[list[Image]] = relationship(
        order_by="Image.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ArticleRevision(Base):
    """A snapshot of an article as it was at one revision (for history and partners)."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleFix(Base):
    """An editor's correction of a story, kept so that a later revision from the CMS does not
    silently undo it.

    ``before`` is what the CMS had when the editor changed the field, ``after`` the editor's
    value. While the CMS keeps sending ``before``, ``after`` is applied again to each new
    revision; once the CMS sends something else, the CMS's newer value wins and the fix is
    dropped. ``field`` is ``image.caption``, ``image.credit``, ``image.alt`` (``target`` is
    the image URL) or ``notes`` (``target`` empty).
    """

    __tablename__ = "article_fixes"
    __table_args__ = (UniqueConstraint("article_id", "field", "target"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(2000), default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Image(Base):
    """A photo of an article with its caption, credit and alt text."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str] = mapped_column(String(2000))
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(1000))
    alt: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    copyright: Mapped[str | None] = mapped_column(String(1000))
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)


# ---------------------------------------------------------------------------- subscribers
class MailingList(Base):
    """A newsletter people subscribe to."""

    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    opt_in: Mapped[str] = mapped_column(String(10), default="double")
    language: Mapped[str] = mapped_column(String(35), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An archived list takes no new readers and is the audience of no new send; its members,
    # their history and its past issues stay (lists are never deleted: the ledger names them).
    archived_at: Mapped[datetime | None]
    # "public" (signup page, offered to every reader) or "private" (only its members see it;
    # joined only through an operator). Lists that existed before migration 0009 are private.
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    # The welcome email (Markdown) a reader gets once their subscription is active; None: none.
    welcome_markdown: Mapped[str | None] = mapped_column(Text)


class Subscriber(Base):
    """A reader. After erasure only ``email_hash`` remains meaningful."""

    __tablename__ = "subscribers"
    __table_args__ = (
        # Looked up by equality only (erased and suppressed addresses). On PostgreSQL a hash
        # index: a quarter of the size of a B-tree of 64-character keys, and cheaper to keep
        # up when a large import adds a million readers (migration 0005).
        Index("ix_subscribers_email_hash", "email_hash", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(35))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    # When the last confirmation email went to this address (any list): the next one waits
    # for CONFIRMATION_COOLDOWN_SECONDS, so signups cannot mail-bomb an address.
    confirmation_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """Membership of a subscriber in a list."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_list_status", "list_id", "status"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="unconfirmed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]


class WelcomeDelivery(Base):
    """The welcome email of one list sent to one reader: UNIQUE(list, subscriber) makes it once.

    The row is claimed (``status`` pending) before the email goes out, so a repeated task finds
    it and does nothing; ``status`` then records the outcome.
    """

    __tablename__ = "welcome_deliveries"
    __table_args__ = (UniqueConstraint("list_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Suppression(Base):
    """An address (by hash) that is never mailed again, from any list."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------- issues
class Issue(Base):
    """A newsletter issue: content, audience, schedule and the rendered body."""

    __tablename__ = "issues"
    __table_args__ = (CheckConstraint("layout IN ('full', 'excerpt')", name="layout"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    editor_note: Mapped[str] = mapped_column(Text, default="")
    # Whether the note opens with "Dear {first name},": an option the editor sees and sets.
    greeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    language: Mapped[str] = mapped_column(String(35), default="en")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    send_at: Mapped[datetime | None] = mapped_column(index=True)
    schedule_timezone: Mapped[str | None] = mapped_column(String(64))
    schedule_local: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The ledger is written in chunks in subscriber order while the first batches go out:
    # the last subscriber id written so far, whether the ledger is complete, and when the
    # writer last made progress (a writer silent for long is presumed dead and replaced).
    ledger_after: Mapped[int | None] = mapped_column(BigInteger)
    ledger_done: Mapped[bool] = mapped_column(default=True, server_default=true())
    ledger_touched_at: Mapped[datetime | None]
    rendered_html: Mapped[str | None] = mapped_column(Text)
    rendered_text: Mapped[str | None] = mapped_column(Text)
    rendered_hash: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]
    html_size: Mapped[int | None] = mapped_column(Integer)
    web_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "excerpt" (opening paragraphs and a link) or "full" (whole stories); see IssueLayout.
    layout: Mapped[str] = mapped_column(String(10), default="excerpt")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    articles: Mapped[list[IssueArticle]] = relationship(
        order_by="IssueArticle.position", cascade="all, delete-orphan", lazy="selectin"
    )
    lists: Mapped[list[IssueList]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class IssueArticle(Base):
    """An article's place in an issue."""

    __tablename__ = "issue_articles"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # This story's own layout: True = excerpt, False = whole story, None = the issue's layout.
    excerpt: Mapped[bool | None] = mapped_column(Boolean)


class IssueList(Base):
    """A list an issue goes to."""

    __tablename__ = "issue_lists"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id"), primary_key=True)


class SendBatch(Base):
    """Up to 1,000 recipients of an issue, sent in one provider request.

    Claimed by a worker with a conditional UPDATE (status + claim_token + lease), so a
    duplicated or redelivered task finds nothing to do.
    """

    __tablename__ = "send_batches"
    __table_args__ = (
        UniqueConstraint("issue_id", "seq"),
        Index("ix_send_batches_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One recipient of one issue. UNIQUE(issue, subscriber) anchors exactly-once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_deliveries_batch", "batch_id"),
        # Nothing else is indexed, so recording an outcome (status, provider id, time) is a
        # heap-only update; on PostgreSQL the table keeps 40% of each page free for it
        # (fillfactor, set in migration 0002).
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign keys, on purpose: the ledger is append-only and written by one INSERT ...
    # SELECT from the very rows these columns name, and issues, batches, lists and
    # subscribers are never deleted (erasure blanks a subscriber in place). A foreign key
    # would cost an index lookup and a row lock per recipient: most of the time it takes to
    # write a million-row ledger (see docs/sending.md).
    issue_id: Mapped[int] = mapped_column(BigId)
    batch_id: Mapped[int] = mapped_column(BigId)
    subscriber_id: Mapped[int] = mapped_column(BigId)
    list_id: Mapped[int | None] = mapped_column(BigId)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProviderEvent(Base):
    """An event reported by the email provider (SendGrid Event Webhook), de-duplicated."""

    __tablename__ = "provider_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        Index("ix_provider_events_email_hash", "email_hash"),
        Index("ix_provider_events_unscrubbed", "received_at", "scrubbed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30), default="sendgrid")
    event_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(40), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64))
    issue_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the payload lost its personal data (retention period over, or the reader erased).
    scrubbed_at: Mapped[datetime | None]


# ------------------------------------------------------------------------------- partners
class Partner(Base):
    """A partner outlet that pulls (or is pushed) syndicated copies."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    api_key_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    api_key_prefix: Mapped[str | None] = mapped_column(String(16))
    key_rotated_at: Mapped[datetime | None]
    formats: Mapped[list[Any]] = mapped_column(default=list)
    sections: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    territory: Mapped[str | None] = mapped_column(String(8))
    allow_embargoed: Mapped[bool] = mapped_column(Boolean, default=False)
    ninjs_version: Mapped[str] = mapped_column(String(8), default="3.1")
    attribution: Mapped[str | None] = mapped_column(Text)
    push_url: Mapped[str | None] = mapped_column(String(2000))
    push_secret: Mapped[str | None] = mapped_column(String(200))
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fetch_at: Mapped[datetime | None]
    fetch_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerPush(Base):
    """One signed webhook push of an article revision to a partner (the delivery log)."""

    __tablename__ = "partner_pushes"
    __table_args__ = (
        UniqueConstraint("partner_id", "article_id", "revision", "event"),
        Index("ix_partner_pushes_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class FeedDocument(Base):
    """A feed rendered when content changed; the web app serves these stored bytes."""

    __tablename__ = "feed_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(100))
    last_modified: Mapped[datetime]
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------------------------ desk
class User(Base):
    """A person who signs in to the editor's desk."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="editor")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie; changing it (sign-out, password change) ends all sessions.
    session_nonce: Mapped[str] = mapped_column(String(64), default="")
    # The desk's language for this user (a shipped BCP 47 tag); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed what, when: one desk, API or command-line action (see services/audit.py).

    ``changes`` maps each changed field to ``[before, after]``. Entries never name a reader's
    address: readers appear by id, and an erasure blanks the entries about that reader.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A personal API token: acts as its user, with the user's role, until revoked.

    Only a SHA-256 digest of the token is stored (the token is random, 256 bits); the token
    itself is shown once, when it is created.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# ------------------------------------------------------------------------------- automation
class Schedule(Base):
    """A recurring issue: every time ``cron`` fires in ``timezone``, the new stories that match
    the filters become an issue of ``list_id`` (a draft for an editor, or sent at once).

    Filters left empty match everything; ``source_id`` names one source of stories.
    """

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id"))
    cron: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10), default="draft")
    layout: Mapped[str] = mapped_column(String(10), default="excerpt")
    min_stories: Mapped[int] = mapped_column(Integer, default=1)
    max_stories: Mapped[int] = mapped_column(Integer, default=10)
    subject_template: Mapped[str] = mapped_column(String(500))
    section: Mapped[str | None] = mapped_column(String(200))
    tag: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(35))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Occurrences before this instant never run: set when the schedule is created, resumed or
    # given a new cron or zone, so none of those fires a time that passed meanwhile.
    active_since: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScheduleOccurrence(Base):
    """One time a schedule fired: claimed by inserting this row, so UNIQUE(schedule, time)
    makes each occurrence happen once however many schedulers run.

    ``status`` is ``created`` (``issue_id`` names the issue), ``skipped`` (an older occurrence
    missed during downtime; only the latest is caught up) or ``too_few`` (fewer new stories than
    the schedule's minimum); ``reason`` says why in words.
    """

    __tablename__ = "schedule_occurrences"
    __table_args__ = (UniqueConstraint("schedule_id", "occurs_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    occurs_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskNotification(Base):
    """An email to the desk users about an issue (a draft is ready, it finished, it was paused
    or held), stored in the transaction that made the event happen and mailed afterwards.

    UNIQUE(kind, issue, event key) records each event once: a repeated task or a retried
    transaction cannot mail it twice. ``status`` is ``pending``, ``sending`` (claimed),
    ``sent`` or ``failed``.
    """

    __tablename__ = "desk_notifications"
    __table_args__ = (
        UniqueConstraint("kind", "issue_id", "event_key"),
        Index("ix_desk_notifications_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The languages whose message has gone out: a retry sends only the others (migration 0018).
    sent_languages: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
