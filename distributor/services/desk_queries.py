"""Read-only queries behind the desk pages: search, filters and editorial warnings.

Nothing here changes data; the pages call the owning services for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import (
    Article,
    ArticleAuthor,
    Author,
    Delivery,
    Image,
    Issue,
    IssueArticle,
    MailingList,
    Source,
    Subscriber,
    Subscription,
    Suppression,
)
from distributor.domain.languages import language_name

PAGE_SIZE = 50


@dataclass(frozen=True)
class ArticleFilters:
    """What the editor asked for on the article list (all optional)."""

    query: str = ""
    source_id: int | None = None
    section: str = ""
    language: str = ""
    published_from: date | None = None
    published_to: date | None = None
    embargoed: str = ""  # "", "yes" (still embargoed), "no"
    page: int = 1


@dataclass(frozen=True)
class Warning:
    """Something an editor should fix before the story goes out; ``anchor`` links the field."""

    message: str
    anchor: str


@dataclass
class ArticlePage:
    """Everything the article page shows."""

    article: Article
    source: Source | None
    warnings: list[Warning] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _article_query(filters: ArticleFilters, now: datetime) -> Select[Article]:
    statement = select(Article)
    if filters.query.strip():
        pattern = _like(filters.query.strip())
        author_match = (
            select(ArticleAuthor.article_id)
            .join(Author, Author.id == ArticleAuthor.author_id)
            .where(Author.name.ilike(pattern, escape="\\"))
        )
        statement = statement.where(
            or_(
                Article.title.ilike(pattern, escape="\\"),
                Article.dek.ilike(pattern, escape="\\"),
                Article.id.in_(author_match),
            )
        )
    if filters.source_id is not None:
        statement = statement.where(Article.source_id == filters.source_id)
    if filters.language:
        statement = statement.where(Article.language == filters.language)
    if filters.published_from is not None:
        start = datetime.combine(filters.published_from, time.min, tzinfo=UTC)
        statement = statement.where(Article.published_at >= start)
    if filters.published_to is not None:
        end = datetime.combine(filters.published_to, time.min, tzinfo=UTC) + timedelta(days=1)
        statement = statement.where(Article.published_at < end)
    if filters.embargoed == "yes":
        statement = statement.where(Article.embargo_until > now)
    elif filters.embargoed == "no":
        statement = statement.where(
            or_(Article.embargo_until.is_(None), Article.embargo_until <= now)
        )
    return statement


def search_articles(
    session: Session, filters: ArticleFilters, *, now: datetime | None = None
) -> tuple[list[Article], int]:
    """Articles matching ``filters``, newest first, one page of them, and the total count.

    Sections are JSON lists, so the section filter is applied in Python on the candidate
    rows (portable across SQLite and PostgreSQL).
    """
    now = now or SYSTEM_CLOCK.now()
    statement = _article_query(filters, now).order_by(
        Article.published_at.desc().nulls_last(), Article.id.desc()
    )
    page = max(1, filters.page)
    if filters.section:
        wanted = filters.section.casefold()
        matching = [
            article
            for article in session.scalars(statement)
            if any(str(section).casefold() == wanted for section in article.sections or [])
        ]
        return matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], len(matching)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return list(rows), total


def article_filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Values offered in the article filters: sources, sections and languages in use."""
    sources = [
        (str(source.id), source.name or source.url)
        for source in session.scalars(select(Source).order_by(Source.name))
    ]
    languages = sorted(
        {str(value) for value in session.scalars(select(Article.language).distinct())}
    )
    sections: set[str] = set()
    for value in session.scalars(select(Article.sections)):
        sections.update(str(section) for section in value or [])
    return {
        "sources": sources,
        "languages": [(code, f"{code} · {language_name(code)}") for code in languages],
        "sections": [(name, name) for name in sorted(sections, key=str.casefold)],
    }


def article_warnings(article: Article, *, now: datetime | None = None) -> list[Warning]:
    """What is missing or risky in ``article``: credits, alt text, bios, embargo."""
    now = now or SYSTEM_CLOCK.now()
    warnings: list[Warning] = []
    for number, image in enumerate(article.images, start=1):
        if not (image.credit or "").strip():
            warnings.append(
                Warning(
                    f"Image {number} has no credit. Add the photographer or agency, "
                    "e.g. Jane Doe / Agency.",
                    f"image-{image.id}",
                )
            )
        if not (image.alt or "").strip():
            warnings.append(
                Warning(
                    f"Image {number} has no alt text. Describe what the photo shows for "
                    "readers who cannot see it.",
                    f"image-{image.id}",
                )
            )
    for link in article.authors:
        if not (link.author.bio or "").strip():
            warnings.append(
                Warning(
                    f"{link.author.name} has no bio. Add a short \u201cAbout the author\u201d.",
                    f"author-{link.author.id}",
                )
            )
    if not article.authors:
        warnings.append(Warning("The story has no byline in the feed.", "authors"))
    if article.embargo_until is not None and article.embargo_until > now:
        warnings.append(
            Warning(
                f"Embargoed until {article.embargo_until:%Y-%m-%d %H:%M} UTC: it will not appear "
                "in public feeds before then; schedule issues after that time.",
                "embargo",
            )
        )
    return warnings


def article_page(session: Session, article_id: int) -> ArticlePage | None:
    """The article, its source, warnings and the issues it is in; None if it is unknown."""
    article = session.get(Article, article_id)
    if article is None:
        return None
    issues = list(
        session.scalars(
            select(Issue)
            .join(IssueArticle, IssueArticle.issue_id == Issue.id)
            .where(IssueArticle.article_id == article_id)
            .order_by(Issue.id.desc())
        )
    )
    source = session.get(Source, article.source_id) if article.source_id else None
    return ArticlePage(article, source, article_warnings(article), issues)


def warning_counts(articles: list[Article]) -> dict[int, int]:
    """Number of warnings per article id (for the list's badges)."""
    return {article.id: len(article_warnings(article)) for article in articles}


def find_image(session: Session, article_id: int, image_id: int) -> Image | None:
    """The image ``image_id`` if it belongs to ``article_id``."""
    image = session.get(Image, image_id)
    return image if image is not None and image.article_id == article_id else None


# ----------------------------------------------------------------------- issues and lists
def list_issues(session: Session, status: str = "") -> list[Issue]:
    """Issues, newest first, optionally of one status."""
    statement = select(Issue).order_by(Issue.id.desc()).limit(200)
    if status:
        statement = statement.where(Issue.status == status)
    return list(session.scalars(statement))


def list_mailing_lists(session: Session) -> list[tuple[MailingList, int]]:
    """Every list with its number of active (confirmed) subscriptions."""
    counts = dict(
        session.execute(
            select(Subscription.list_id, func.count())
            .where(Subscription.status == "confirmed")
            .group_by(Subscription.list_id)
        ).all()
    )
    return [
        (mailing_list, int(counts.get(mailing_list.id, 0)))
        for mailing_list in session.scalars(select(MailingList).order_by(MailingList.name))
    ]


# --------------------------------------------------------------------------- subscribers
def search_subscribers(
    session: Session,
    query: str = "",
    status: str = "",
    list_id: int | None = None,
    page: int = 1,
) -> tuple[list[Subscriber], int]:
    """Subscribers matching an email/name fragment, status and list, newest first."""
    statement = select(Subscriber)
    if query.strip():
        pattern = _like(query.strip())
        statement = statement.where(
            or_(
                Subscriber.email.ilike(pattern, escape="\\"),
                Subscriber.name.ilike(pattern, escape="\\"),
            )
        )
    if status:
        statement = statement.where(Subscriber.status == status)
    if list_id is not None:
        statement = statement.where(
            Subscriber.id.in_(
                select(Subscription.subscriber_id).where(Subscription.list_id == list_id)
            )
        )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(Subscriber.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(1, page) - 1) * PAGE_SIZE)
    )
    return list(rows), total


def subscriber_memberships(
    session: Session, subscriber_id: int
) -> list[tuple[Subscription, MailingList]]:
    """The subscriber's subscriptions with their lists."""
    return [
        (subscription, mailing_list)
        for subscription, mailing_list in session.execute(
            select(Subscription, MailingList)
            .join(MailingList, MailingList.id == Subscription.list_id)
            .where(Subscription.subscriber_id == subscriber_id)
            .order_by(MailingList.name)
        ).all()
    ]


def list_suppressions(session: Session, page: int = 1) -> tuple[list[Suppression], int]:
    """The suppression list, newest first."""
    total = session.scalar(select(func.count()).select_from(Suppression)) or 0
    rows = session.scalars(
        select(Suppression)
        .order_by(Suppression.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(1, page) - 1) * PAGE_SIZE)
    )
    return list(rows), total


def subscriber_history(session: Session, subscriber_id: int, limit: int = 50) -> list[Any]:
    """The issues sent to a subscriber, newest first: (delivery, issue subject) rows."""
    return list(
        session.execute(
            select(Delivery, Issue.subject)
            .join(Issue, Issue.id == Delivery.issue_id)
            .where(Delivery.subscriber_id == subscriber_id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        ).all()
    )
