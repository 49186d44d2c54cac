"""Editors' corrections to ingested stories: image caption/credit/alt, author bios, notes.

A correction is a new revision of the story (partners receive it as "revised"): the revision
number goes up, a snapshot is kept in ``article_revisions``, ``modified_at`` moves so feeds are
rebuilt, and push rows are recorded through :func:`distributor.services.events.article_changed`.

``content_hash`` keeps describing the version last ingested from the feed, so polling the same
unchanged feed item does not undo the editor's correction. Each correction is also remembered
(``article_fixes``, with the CMS's value it replaced): when the CMS later sends a new revision
of the story, :func:`reapply_fixes` applies the correction again wherever the CMS still has the
value the editor replaced, and lets the CMS win wherever it has since changed that field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.mapping import article_from_row
from distributor.db.models import (
    Article,
    ArticleAuthor,
    ArticleFix,
    ArticleRevision,
    Author,
    Image,
)
from distributor.domain import articles as domain
from distributor.domain.text import normalise_space
from distributor.services import audit

IMAGE_FIELDS = ("caption", "credit", "alt")
NOTES_FIELD = "notes"

MAX_CREDIT = 1000
MAX_NOTE = 2000


class ArticleEditError(ValueError):
    """A correction that cannot be stored; the message says what to change."""


def _clean(text: str | None) -> str | None:
    value = normalise_space(text)
    return value or None


def _new_revision(session: Session, article: Article, now: datetime) -> None:
    article.revision += 1
    article.modified_at = now
    session.flush()
    from distributor.services.ingest import snapshot_of

    session.add(
        ArticleRevision(
            article_id=article.id,
            revision=article.revision,
            content_hash=article.content_hash,
            snapshot=snapshot_of(article_from_row(article)),
            created_at=now,
        )
    )
    session.flush()


def _announce(session: Session, article_ids: list[int], now: datetime) -> None:
    from distributor.services.events import article_changed

    article_changed(session, article_ids, "revised", now)


def _remember_fix(
    session: Session, article_id: int, field: str, target: str, *, before: Any, after: Any
) -> None:
    """Record the correction of one field; the first recorded ``before`` (the CMS's value)
    stays, and a correction back to that value is forgotten."""
    audit.record(
        session,
        "article.fix",
        "article",
        article_id,
        summary=f"{field} {target}".strip(),
        changes={field: [before, after]},
    )
    fix = session.scalar(
        select(ArticleFix).where(
            ArticleFix.article_id == article_id,
            ArticleFix.field == field,
            ArticleFix.target == target,
        )
    )
    if fix is None:
        if before != after:
            session.add(
                ArticleFix(
                    article_id=article_id, field=field, target=target, before=before, after=after
                )
            )
    elif fix.before == after:
        session.delete(fix)
    else:
        fix.after = after


def reapply_fixes(
    session: Session, revised: dict[int, domain.Article]
) -> dict[int, domain.Article]:
    """The new CMS revisions in ``revised`` (by article id) that need editors' corrections
    applied again, with them applied. A correction whose field the CMS has changed since is
    dropped: the CMS's newer value wins. Corrections of an image missing from a revision wait
    for it to come back."""
    fixes = list(
        session.scalars(
            select(ArticleFix)
            .where(ArticleFix.article_id.in_(list(revised)))
            .order_by(ArticleFix.id)
        )
    )
    by_article: dict[int, list[ArticleFix]] = {}
    for fix in fixes:
        by_article.setdefault(fix.article_id, []).append(fix)
    fixed: dict[int, domain.Article] = {}
    for article_id, own in by_article.items():
        article = revised[article_id]
        images = list(article.images)
        notes = article.notes
        for fix in own:
            if fix.field == NOTES_FIELD:
                if list(notes) == list(fix.before or []):
                    notes = tuple(fix.after or [])
                else:
                    session.delete(fix)
                continue
            name = fix.field.removeprefix("image.")
            matching = [index for index, image in enumerate(images) if image.url == fix.target]
            if not matching or name not in IMAGE_FIELDS:
                continue
            if any(getattr(images[index], name) != fix.before for index in matching):
                session.delete(fix)
                continue
            for index in matching:
                images[index] = replace(images[index], **{name: fix.after})
        fixed[article_id] = replace(article, images=tuple(images), notes=notes)
    return fixed


def update_image_fields(
    session: Session,
    article_id: int,
    image_id: int,
    *,
    caption: str | None,
    credit: str | None,
    alt: str | None,
    now: datetime | None = None,
) -> Image:
    """Set an image's caption, credit and alt text (blank clears a field)."""
    now = now or SYSTEM_CLOCK.now()
    image = session.get(Image, image_id)
    if image is None or image.article_id != article_id:
        raise ArticleEditError(f"image {image_id} is not part of article {article_id}")
    article = session.get(Article, article_id)
    assert article is not None  # the image's foreign key guarantees it
    new_credit = _clean(credit)
    if new_credit and len(new_credit) > MAX_CREDIT:
        raise ArticleEditError(
            f"the credit is {len(new_credit)} characters; keep it under {MAX_CREDIT}"
        )
    if new_credit and new_credit.casefold().startswith("credit:"):
        # The "Credit:" label is added by every output; storing it would print it twice.
        new_credit = _clean(new_credit[len("credit:") :])
    values = (_clean(caption), new_credit, _clean(alt))
    old_values = (image.caption, image.credit, image.alt)
    if values == old_values:
        return image
    for name, before, after in zip(IMAGE_FIELDS, old_values, values, strict=True):
        if before != after:
            _remember_fix(
                session, article.id, f"image.{name}", image.url, before=before, after=after
            )
    image.caption, image.credit, image.alt = values
    _new_revision(session, article, now)
    _announce(session, [article.id], now)
    return image


def update_author_bio(
    session: Session, author_id: int, bio: str | None, *, now: datetime | None = None
) -> Author:
    """Set an author's "About the author" text; every story by them gets a new revision."""
    now = now or SYSTEM_CLOCK.now()
    author = session.get(Author, author_id)
    if author is None:
        raise ArticleEditError(f"there is no author {author_id}")
    text = (bio or "").strip() or None
    if text == author.bio:
        return author
    audit.record(session, "author.bio", "author", author_id, changes={"bio": [author.bio, text]})
    author.bio = text
    session.flush()
    article_ids = list(
        session.scalars(
            select(ArticleAuthor.article_id).where(ArticleAuthor.author_id == author_id)
        )
    )
    for article in list(session.scalars(select(Article).where(Article.id.in_(article_ids)))):
        _new_revision(session, article, now)
    _announce(session, article_ids, now)
    return author


def update_article_notes(
    session: Session, article_id: int, notes: list[str], *, now: datetime | None = None
) -> Article:
    """Replace the notes that travel with the story (one statement each)."""
    now = now or SYSTEM_CLOCK.now()
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleEditError(f"there is no article {article_id}")
    cleaned = [note for note in (_clean(text) for text in notes) if note]
    too_long = [note[:40] for note in cleaned if len(note) > MAX_NOTE]
    if too_long:
        raise ArticleEditError(
            f"a note is longer than {MAX_NOTE} characters (“{too_long[0]}…”); split it"
        )
    if cleaned == list(article.notes or []):
        return article
    _remember_fix(
        session, article.id, NOTES_FIELD, "", before=list(article.notes or []), after=cleaned
    )
    article.notes = cleaned
    _new_revision(session, article, now)
    _announce(session, [article.id], now)
    return article
