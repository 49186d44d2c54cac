"""Taking articles in: documents, registered sources, storage with revisions.

- :func:`store_articles` keeps one row per (source, GUID): a story is identified by where it
  came from and the GUID that source gave it. The same content again changes nothing; a
  changed one becomes revision N+1 (a snapshot row in ``article_revisions``, ``modified_at``
  set); an item missing from a later fetch is never deleted.
- :func:`ingest_document` parses bytes (feed or JSON) and stores what it could read.
- Sources are registered feeds, plus the built-in ``api`` and ``desk`` sources
  (:func:`builtin_source`).
- :func:`ingest_source` / :func:`poll_due_sources` fetch registered sources with conditional
  GET, on a per-source interval, backing off when a source keeps failing. A failing source is
  recorded on its row; it never raises out of a poll.

After a store, new and revised articles are handed to
:func:`distributor.services.events.article_changed` ("published" / "revised") in the same
transaction; their ids are also in :attr:`StoreResult.changed_ids`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distributor.adapters.feed_fetcher import FeedFetcher, FeedFetchError
from distributor.clock import SYSTEM_CLOCK
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.articles import (
    Article,
    ArticleStatus,
    Author,
    content_hash_of,
    is_http_guid,
)
from distributor.domain.sources import BUILTIN_KINDS, SourceKind, builtin_address
from distributor.domain.text import normalise_space
from distributor.ingest.document import parse_document
from distributor.ingest.pipeline import EMPTY_FEED_WARNING
from distributor.ingest.report import IngestReport, NotAFeedError
from distributor.metrics import INGEST_ITEMS, INGEST_PROBLEMS
from distributor.services.article_edits import reapply_fixes
from distributor.services.events import article_changed

log = logging.getLogger("distributor.ingest")

MAX_BACKOFF = timedelta(hours=24)
MIN_INTERVAL_SECONDS = 60
# Articles stored per transaction by a poll: a large feed never holds the write lock for long.
STORE_CHUNK = 500


@dataclass(slots=True)
class StoreResult:
    """What a store did, by article id."""

    created: list[int] = field(default_factory=list)
    revised: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    # Revisions that tried to lift or shorten a running embargo, as (GUID, what was done).
    embargo_notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed_ids(self) -> list[int]:
        """New and revised articles: what the feeds must be told about."""
        return [*self.created, *self.revised]

    @property
    def taken_in(self) -> int:
        """Articles that are now stored (new, revised or already identical)."""
        return len(self.created) + len(self.revised) + len(self.unchanged)

    def as_dict(self) -> dict[str, list[int]]:
        """JSON-ready form."""
        return {"created": self.created, "revised": self.revised, "unchanged": self.unchanged}


@dataclass(slots=True)
class IngestOutcome:
    """A parse report plus what storing did."""

    report: IngestReport
    stored: StoreResult = field(default_factory=StoreResult)
    not_modified: bool = False

    @property
    def ok(self) -> bool:
        """True when at least one article was taken in (or the source was unchanged)."""
        return self.not_modified or self.stored.taken_in > 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "not_modified": self.not_modified,
            **self.stored.as_dict(),
            "report": self.report.as_dict(),
        }


# ------------------------------------------------------------------------------ storage
def author_key(author: Author) -> str:
    """How one person is recognised across articles: the profile URL, else the name."""
    if author.profile_url:
        return "url:" + author.profile_url.strip().lower()
    return "name:" + normalise_space(author.name.casefold())


def snapshot_of(article: Article) -> dict[str, Any]:
    """A JSON-ready dict of the article (for ``article_revisions``)."""
    return _snapshot(article.as_dict())


def _snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """:func:`snapshot_of` the article whose ``as_dict()`` is ``data`` (changed in place)."""
    for key in ("published_at", "updated_at", "embargo_until", "stored_at"):
        value = data.get(key)
        data[key] = value.isoformat() if isinstance(value, datetime) else None
    data["status"] = str(data["status"])
    return data


# New rows are written with Core executemany INSERTs rather than one ORM object per row:
# building and flushing thousands of objects was most of the time of storing a feed. Revised
# articles still go through the ORM for their own row.
_ARTICLES = models.Base.metadata.tables["articles"]
_AUTHORS = models.Base.metadata.tables["authors"]
_ARTICLE_AUTHORS = models.Base.metadata.tables["article_authors"]
_IMAGES = models.Base.metadata.tables["images"]
_REVISIONS = models.Base.metadata.tables["article_revisions"]
_AUTHOR_DETAILS = ("avatar_url", "profile_url", "email")


def _upsert_authors(session: Session, authors: Sequence[Author]) -> dict[str, int]:
    """Author ids by :func:`author_key`; unknown people are inserted, known ones updated."""
    keys = {author_key(a) for a in authors}
    if not keys:
        return {}
    rows = {
        row.key: row
        for row in session.scalars(select(models.Author).where(models.Author.key.in_(keys)))
    }
    new: dict[str, dict[str, Any]] = {}
    for author in authors:
        key = author_key(author)
        row = rows.get(key)
        if row is None:
            values = new.get(key)
            if values is None:
                new[key] = {
                    "key": key,
                    "name": author.name,
                    "bio": author.bio,
                    "avatar_url": author.avatar_url,
                    "profile_url": author.profile_url,
                    "email": author.email,
                }
                continue
            # A later copy of a new person in the same batch fills in as an update would.
            if author.bio and author.bio != values["bio"]:
                values["bio"] = author.bio
            for name in _AUTHOR_DETAILS:
                value = getattr(author, name)
                if value and value != values[name]:
                    values[name] = value
            continue
        # A newer non-empty value replaces; nothing is cleared by an item that lacks it.
        if author.bio and author.bio != row.bio:
            row.bio = author.bio
        for name in _AUTHOR_DETAILS:
            value = getattr(author, name)
            if value and value != getattr(row, name):
                setattr(row, name, value)
    ids = {key: row.id for key, row in rows.items()}
    if new:
        session.execute(insert(_AUTHORS), list(new.values()))
        ids.update(
            session.execute(
                select(_AUTHORS.c.key, _AUTHORS.c.id).where(_AUTHORS.c.key.in_(new))
            ).all()
        )
    return ids


def _content_columns(article: Article) -> dict[str, Any]:
    """The ``articles`` columns that come from the article itself."""
    return {
        "canonical_url": article.canonical_url,
        "title": article.title[:1000],
        "dek": article.dek,
        "body_html": article.body_html,
        "language": article.language,
        "sections": list(article.sections),
        "tags": list(article.tags),
        "notes": list(article.notes),
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "embargo_until": article.embargo_until,
        "rights": article.rights,
        "usage_terms": article.usage_terms,
        "territories_allow": list(article.territories_allow),
        "territories_deny": list(article.territories_deny),
    }


def _byline_rows(
    article_id: int, article: Article, authors: dict[str, int]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, author in enumerate(article.authors):
        key = author_key(author)
        if key in seen:
            continue
        seen.add(key)
        rows.append({"article_id": article_id, "author_id": authors[key], "position": position})
    return rows


def _image_rows(article_id: int, article: Article) -> list[dict[str, Any]]:
    return [
        {
            "article_id": article_id,
            "position": position,
            "url": image.url[:2000],
            "caption": image.caption,
            "credit": image.credit[:1000] if image.credit else None,
            "alt": image.alt,
            "width": image.width,
            "height": image.height,
            "mime_type": image.mime_type,
            "copyright": image.copyright[:1000] if image.copyright else None,
            "is_lead": image.is_lead,
        }
        for position, image in enumerate(article.images)
    ]


@dataclass(slots=True)
class _Change:
    """One new or revised article on its way into the tables."""

    article: Article
    data: dict[str, Any]  # article.as_dict(), becomes the revision snapshot
    content_hash: str
    row: models.Article | None = None  # the stored row of a revised article
    article_id: int = 0  # 0 until a new article is inserted


def _guard_embargo(
    change: _Change, stored: datetime | None, now: datetime, result: StoreResult
) -> None:
    """A revision never lifts a running embargo by leaving it out, and never does so silently.

    A CMS revision without an embargo keeps the one still running (a feed that simply omits the
    field must not publish a story early). A revision that names an earlier time moves the
    embargo there, as the newsroom asked, and the move is reported.
    """
    if stored is None:
        return
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    if stored <= now:
        return
    wanted = change.article.embargo_until
    guid = change.article.guid
    if wanted is None:
        change.article = dataclasses.replace(change.article, embargo_until=stored)
        change.data = change.article.as_dict()
        result.embargo_notes.append(
            (guid, f"the revision has no embargo; the embargo until {stored.isoformat()} is kept")
        )
    elif wanted < stored:
        result.embargo_notes.append(
            (
                guid,
                f"the revision moves the embargo earlier, from {stored.isoformat()} "
                f"to {wanted.isoformat()}",
            )
        )


def store_articles(
    session: Session,
    articles: Sequence[Article],
    source_id: int | None = None,
    now: datetime | None = None,
) -> StoreResult:
    """Insert new articles and revise changed ones (see module doc); flushes, no commit.

    ``source_id`` is the source the articles come from (None: the built-in desk source). An
    article is matched by (source, GUID) only: the same GUID from another source is another
    story, so no source can revise, retitle or un-embargo a story it did not send.
    """
    now = now or SYSTEM_CLOCK.now()
    result = StoreResult()
    if not articles:
        return result
    if source_id is None:
        source_id = builtin_source(session, SourceKind.DESK).id
    # The last copy of a GUID in one batch is the newest.
    unique = list({article.guid: article for article in articles}.values())
    stored = {
        guid: (article_id, content_hash)
        for article_id, guid, content_hash in session.execute(
            select(models.Article.id, models.Article.guid, models.Article.content_hash)
            .where(models.Article.source_id == source_id)
            .where(models.Article.guid.in_([a.guid for a in unique]))
        )
    }
    authors = _upsert_authors(session, [a for article in unique for a in article.authors])
    session.flush()
    changes: list[_Change] = []
    for article in unique:
        data = article.as_dict()
        content_hash = content_hash_of(data)
        found = stored.get(article.guid)
        if found is not None and found[1] == content_hash:
            result.unchanged.append(found[0])
            continue
        change = _Change(article, data, content_hash)
        if found is not None:
            change.article_id = found[0]
        changes.append(change)
    revised = [change for change in changes if change.article_id]
    if revised:
        # Editors' corrections survive a new revision from the CMS (see article_edits).
        fixed = reapply_fixes(session, {change.article_id: change.article for change in revised})
        for change in revised:
            if change.article_id in fixed:
                change.article = fixed[change.article_id]
                change.data = change.article.as_dict()
        rows = session.scalars(
            select(models.Article).where(models.Article.id.in_([c.article_id for c in revised]))
        )
        by_id = {row.id: row for row in rows}
        for change in revised:
            _guard_embargo(change, by_id[change.article_id].embargo_until, now, result)
        for change in revised:
            change.row = row = by_id[change.article_id]
            row.revision += 1
            row.content_hash = change.content_hash
            row.modified_at = now
            for name, value in _content_columns(change.article).items():
                setattr(row, name, value)
            if change.article.updated_at is None:
                row.updated_at = now  # the CMS did not say when; we saw the change now
        session.flush()
    created = [change for change in changes if not change.article_id]
    if created:
        claimed = _claimed_http_guids(session, [change.article.guid for change in created])
        session.execute(
            insert(_ARTICLES),
            [
                {
                    "guid": change.article.guid,
                    "source_id": source_id,
                    "guid_is_feed_id": is_http_guid(change.article.guid)
                    and change.article.guid not in claimed,
                    "revision": 1,
                    "content_hash": change.content_hash,
                    "status": ArticleStatus.PUBLISHED.value,
                    "ingested_at": now,
                    "modified_at": now,
                    **_content_columns(change.article),
                }
                for change in created
            ],
        )
        # Ids are read back by (source, GUID) (unique) rather than with RETURNING: SQLAlchemy
        # can only match RETURNING rows to parameters on SQLite by inserting one row at a time.
        new_ids = dict(
            session.execute(
                select(_ARTICLES.c.guid, _ARTICLES.c.id)
                .where(_ARTICLES.c.source_id == source_id)
                .where(_ARTICLES.c.guid.in_([change.article.guid for change in created]))
            ).all()
        )
        for change in created:
            change.article_id = new_ids[change.article.guid]
    result.created.extend(change.article_id for change in created)
    result.revised.extend(change.article_id for change in revised)
    _store_children(session, changes, authors, source_id, now)
    notify_article_changed(session, result, now)
    return result


def _claimed_http_guids(session: Session, guids: Sequence[str]) -> set[str]:
    """Those of ``guids`` that are http(s) URLs some stored story already has as its GUID.

    A story whose GUID is such a URL uses it as its feed id, unless an earlier story (from
    another source) has the same GUID: the later one gets a minted ``tag:`` id, so two
    stories never share a feed id.
    """
    urls = [guid for guid in guids if is_http_guid(guid)]
    if not urls:
        return set()
    return set(session.scalars(select(_ARTICLES.c.guid).where(_ARTICLES.c.guid.in_(urls))))


def _store_children(
    session: Session,
    changes: list[_Change],
    authors: dict[str, int],
    source_id: int | None,
    now: datetime,
) -> None:
    """Bylines, images and revision snapshots of new and revised articles (in batch order)."""
    revised_ids = [change.article_id for change in changes if change.row is not None]
    replaced_images: list[int] = []
    for change in changes:
        if change.row is not None:
            # The old byline and images are replaced below, behind the session's back: forget
            # them so this session loads the new ones (a kept author's position may change).
            for child in [*change.row.authors, *change.row.images]:
                session.expunge(child)
            session.expire(change.row, ["authors", "images"])
    if revised_ids:
        session.execute(
            delete(_ARTICLE_AUTHORS).where(_ARTICLE_AUTHORS.c.article_id.in_(revised_ids))
        )
        replaced_images = list(
            session.scalars(select(_IMAGES.c.id).where(_IMAGES.c.article_id.in_(revised_ids)))
        )
    bylines: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    for change in changes:
        bylines.extend(_byline_rows(change.article_id, change.article, authors))
        images.extend(_image_rows(change.article_id, change.article))
        row = change.row
        data = change.data
        data["id"] = change.article_id
        if row is None:
            data["revision"] = 1
            data["source_id"] = source_id
            data["stored_at"] = now
            data["status"] = ArticleStatus.PUBLISHED
        else:
            data["revision"] = row.revision
            data["source_id"] = row.source_id
            data["stored_at"] = row.ingested_at
            data["status"] = ArticleStatus(row.status)
            data["updated_at"] = row.updated_at
        snapshots.append(
            {
                "article_id": change.article_id,
                "revision": data["revision"],
                "content_hash": change.content_hash,
                "snapshot": _snapshot(data),
                "created_at": now,
            }
        )
    if images:
        session.execute(insert(_IMAGES), images)
    if bylines:
        session.execute(insert(_ARTICLE_AUTHORS), bylines)
    if replaced_images:
        # Removed after the new ones are in, as the ORM did, so ids are never reused early.
        session.execute(delete(_IMAGES).where(_IMAGES.c.id.in_(replaced_images)))
    if snapshots:
        session.execute(insert(_REVISIONS), snapshots)


def notify_article_changed(session: Session, result: StoreResult, now: datetime) -> None:
    """Tell the feeds and partner-push subsystem which articles are new or revised."""
    if result.created:
        article_changed(session, list(result.created), "published", now)
    if result.revised:
        article_changed(session, list(result.revised), "revised", now)


def get_article(session: Session, article_id: int) -> Article | None:
    """One stored article by id, or None."""
    row = session.get(models.Article, article_id)
    return article_from_row(row) if row is not None else None


def list_articles(session: Session, limit: int = 50, offset: int = 0) -> list[Article]:
    """Stored articles, newest first (by publication, then ingestion)."""
    rows = session.scalars(
        select(models.Article)
        .order_by(models.Article.published_at.desc().nulls_last(), models.Article.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [article_from_row(row) for row in rows]


def article_for_api(article: Article, now: datetime, *, with_id: bool) -> dict[str, Any]:
    """The JSON the article APIs answer for one story: its snapshot and whether it is under
    embargo at ``now`` (``/api/v1`` adds the id; the older ``/api/articles`` never had it)."""
    data = snapshot_of(article)
    if with_id:
        data["id"] = article.id
    data["embargoed"] = article.is_embargoed(now)
    return data


def articles_for_api(
    session: Session, now: datetime, *, limit: int, offset: int, with_id: bool
) -> list[dict[str, Any]]:
    """:func:`article_for_api` of a page of :func:`list_articles`."""
    return [
        article_for_api(article, now, with_id=with_id)
        for article in list_articles(session, limit=limit, offset=offset)
    ]


# ------------------------------------------------------------------------------ documents
def ingest_document(
    session: Session,
    data: bytes,
    source: str,
    *,
    base_url: str | None = None,
    content_type: str | None = None,
    source_id: int | None = None,
    now: datetime | None = None,
) -> IngestOutcome:
    """Parse ``data`` (feed or JSON) and store what could be read.

    A document that is neither raises :class:`NotAFeedError` (nothing is stored).
    """
    articles, report = parse_document(data, source, base_url, content_type)
    stored = store_articles(session, articles, source_id=source_id, now=now)
    report_embargo_notes(report, stored)
    return IngestOutcome(report=report, stored=stored)


def report_embargo_notes(report: IngestReport, stored: StoreResult) -> None:
    """Tell the ingest report about every revision that tried to lift or shorten an embargo."""
    for guid, note in stored.embargo_notes:
        report.warn(f"embargo: {note}", item=guid)


def ingest_path(session: Session, path: Path, now: datetime | None = None) -> IngestOutcome:
    """Ingest a local file (feed or JSON)."""
    return ingest_document(session, path.read_bytes(), path.name, now=now)


# ------------------------------------------------------------------------------ sources
class SourceError(ValueError):
    """A source cannot be registered (bad URL, bad interval)."""


def add_source(
    session: Session,
    url: str,
    interval_seconds: int = 900,
    name: str = "",
    now: datetime | None = None,
    *,
    poll: bool = True,
) -> models.Source:
    """Register a feed URL (idempotent: an existing URL gets the new interval and name).

    ``poll=False`` records a feed read once from the command line: its stories belong to it,
    but it is not polled until registered with ``poll=True`` (``sources add``).
    """
    from distributor.ingest.sanitise import is_http_url

    url = url.strip()
    if not is_http_url(url):
        raise SourceError(f"source URL must be an absolute http:// or https:// URL (got {url!r})")
    if interval_seconds < MIN_INTERVAL_SECONDS:
        raise SourceError(f"interval must be at least {MIN_INTERVAL_SECONDS} seconds")
    row = session.scalars(select(models.Source).where(models.Source.url == url)).first()
    if row is None:
        row = models.Source(
            url=url,
            kind=SourceKind.FEED.value,
            name=name,
            interval_seconds=interval_seconds,
            active=poll,
            consecutive_failures=0,
            next_poll_at=now or SYSTEM_CLOCK.now(),
        )
        session.add(row)
    elif poll:
        row.interval_seconds = interval_seconds
        row.name = name or row.name
        row.active = True
    session.flush()
    return row


def builtin_source(
    session: Session, kind: SourceKind, *, now: datetime | None = None
) -> models.Source:
    """The built-in source of ``kind`` (api or desk), created on first use.

    Two processes creating it at once both end with the same row: the address is unique,
    and the loser of the race reads the winner's row.
    """
    address = builtin_address(kind)
    query = select(models.Source).where(models.Source.url == address)
    row = session.scalars(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.execute(
                insert(models.Source).values(
                    url=address,
                    kind=kind.value,
                    name=kind.value,
                    interval_seconds=MIN_INTERVAL_SECONDS,
                    active=False,
                    consecutive_failures=0,
                    created_at=now or SYSTEM_CLOCK.now(),
                )
            )
    except IntegrityError:
        pass  # created meanwhile by another transaction
    return session.scalars(query).one()


def source_as_dict(row: models.Source) -> dict[str, Any]:
    """A source's settings and health as JSON-ready values (times stay datetimes)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "url": row.url,
        "interval_seconds": row.interval_seconds,
        "active": row.active,
        "last_polled_at": row.last_polled_at,
        "next_poll_at": row.next_poll_at,
        "consecutive_failures": row.consecutive_failures,
        "last_error": row.last_error,
    }


def list_sources(session: Session, *, builtin: bool = False) -> list[models.Source]:
    """Registered feeds, oldest first; ``builtin=True`` adds the built-in api and desk
    sources (once they exist)."""
    query = select(models.Source).order_by(models.Source.id)
    if not builtin:
        query = query.where(models.Source.kind == SourceKind.FEED.value)
    return list(session.scalars(query))


def find_source(session: Session, reference: str) -> models.Source:
    """The source named by ``reference``: an id, a feed URL, a name, or ``api`` / ``desk``
    (the built-in sources, created if needed).

    Raises :class:`SourceError` when nothing or more than one source matches.
    """
    text = reference.strip()
    if text.isdigit():
        found = session.get(models.Source, int(text))
        if found is not None:
            return found
    by_url = session.scalars(select(models.Source).where(models.Source.url == text)).first()
    if by_url is not None:
        return by_url
    named = list(
        session.scalars(
            select(models.Source)
            .where(func.lower(models.Source.name) == text.casefold())
            .order_by(models.Source.id)
        )
    )
    if len(named) > 1:
        ids = ", ".join(str(row.id) for row in named)
        raise SourceError(f"{len(named)} sources are named {text!r} (ids {ids}): give the id")
    if named:
        return named[0]
    for kind in BUILTIN_KINDS:
        if text.casefold() == kind.value:
            return builtin_source(session, kind)
    known = ", ".join(
        sorted({row.name or row.url for row in list_sources(session)} | {"api", "desk"})
    )
    raise SourceError(
        f"no source {text!r}; known: {known}. Register a feed with: distributor sources add URL"
    )


def backoff_delay(interval_seconds: int, failures: int) -> timedelta:
    """Wait before retrying a failing source: the interval doubled per failure, capped."""
    return min(timedelta(seconds=interval_seconds * 2 ** min(failures, 16)), MAX_BACKOFF)


def ingest_source(
    session: Session, source: models.Source, fetcher: FeedFetcher, now: datetime | None = None
) -> IngestOutcome:
    """Fetch one source conditionally, store its articles and schedule its next poll.

    Failures (network, HTTP, deadline, not a feed, storage) are recorded on the source row and
    in the returned report; they are never raised.

    Transactions: the session is committed before the fetch, the fetch and the parsing run
    with no transaction open, the articles are stored in short transactions of
    :data:`STORE_CHUNK` articles, and the source row is updated and committed last. On SQLite
    an open write transaction blocks every other writer (signup, unsubscribe, sign-in), so
    nothing here holds one while waiting on the network or the parser. A chunk that fails is
    rolled back; chunks stored before it stay.
    """
    now = now or SYSTEM_CLOCK.now()
    url, etag, last_modified, source_id = source.url, source.etag, source.last_modified, source.id
    session.commit()
    report = IngestReport(source=url)
    outcome: IngestOutcome | None = None
    failed = False  # storing broke off: chunks stored before stay, the source is failing
    try:
        fetched = fetcher.fetch(url, etag, last_modified)
        if fetched.not_modified:
            outcome = IngestOutcome(report=report, not_modified=True)
        else:
            articles, report = parse_document(fetched.body, url, fetched.url, fetched.content_type)
            outcome = IngestOutcome(report=report)
            for start in range(0, max(len(articles), 1), STORE_CHUNK):
                with session.begin_nested():
                    # The write lock first (SQLite): a transaction that reads before its first
                    # write cannot take the lock once another writer has committed meanwhile.
                    session.execute(
                        update(models.Source)
                        .where(models.Source.id == source_id)
                        .values(last_polled_at=now)
                    )
                    stored = store_articles(
                        session, articles[start : start + STORE_CHUNK], source_id=source_id, now=now
                    )
                session.commit()
                outcome.stored.created.extend(stored.created)
                outcome.stored.revised.extend(stored.revised)
                outcome.stored.unchanged.extend(stored.unchanged)
                report_embargo_notes(report, stored)
        source.etag = fetched.etag
        source.last_modified = fetched.last_modified
    except (FeedFetchError, NotAFeedError) as exc:
        report.fatal(str(exc))
        outcome = IngestOutcome(report=report, stored=outcome.stored if outcome else StoreResult())
    except Exception as exc:  # a worker must survive any single source
        log.exception("ingest of %s failed", url)
        session.rollback()
        failed = True
        report.fatal(f"{type(exc).__name__}: {exc}")
        outcome = IngestOutcome(report=report, stored=outcome.stored if outcome else StoreResult())
    source.last_polled_at = now
    empty_feed = outcome.report.items_seen == 0 and all(
        problem.reason == EMPTY_FEED_WARNING for problem in outcome.report.problems
    )
    if (outcome.ok and not failed) or empty_feed:
        source.consecutive_failures = 0
        source.last_error = None
        source.next_poll_at = now + timedelta(seconds=source.interval_seconds)
    else:
        source.consecutive_failures = (source.consecutive_failures or 0) + 1
        source.last_error = "; ".join(p.reason for p in outcome.report.problems)[:2000] or (
            "nothing could be taken in"
        )
        source.next_poll_at = now + backoff_delay(
            source.interval_seconds, source.consecutive_failures
        )
    if not outcome.not_modified:
        source.last_report = outcome.as_dict()
    session.commit()
    INGEST_ITEMS.labels(url).inc(outcome.report.items_seen)
    INGEST_PROBLEMS.labels(url).inc(len(outcome.report.problems))
    return outcome


def poll_due_sources(
    session: Session, fetcher: FeedFetcher, now: datetime | None = None, limit: int = 50
) -> dict[str, IngestOutcome]:
    """Poll every active source whose next poll time has come; results by source URL.

    Each source is committed on its own (see :func:`ingest_source`)."""
    now = now or SYSTEM_CLOCK.now()
    due = session.scalars(
        select(models.Source)
        .where(models.Source.kind == SourceKind.FEED.value)
        .where(models.Source.active.is_(True))
        .where((models.Source.next_poll_at.is_(None)) | (models.Source.next_poll_at <= now))
        .order_by(models.Source.next_poll_at.asc().nulls_first(), models.Source.id)
        .limit(limit)
    ).all()
    return {source.url: ingest_source(session, source, fetcher, now) for source in due}
