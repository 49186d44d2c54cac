"""Articles: the list with search and filters (the desk's home page) and the article page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from distributor.services import desk_queries
from distributor.web.auth import CsrfChecked, DbSession, EditorUser
from distributor.web.templating import (
    N_,
    DeskHTTPException,
    DeskRoute,
    flash,
    redirect,
    render,
    translate,
)

router = APIRouter(route_class=DeskRoute)

# A story's status (domain/articles.py), as the article page shows it.
N_("published")
N_("withdrawn")


def _parse_date(request: Request, value: str, label: str, problems: list[str]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append(
            translate(
                request,
                N_("%(label)s “%(value)s” is not a date; use the calendar or type YYYY-MM-DD."),
                {"label": translate(request, label), "value": value},
            )
        )
        return None


@router.get("/articles")
def article_list(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    q: str = "",
    source: str = "",
    section: str = "",
    language: str = "",
    date_from: str = "",
    date_to: str = "",
    embargoed: str = "",
    page: int = 1,
) -> Response:
    """Every ingested story, newest first, with search and filters."""
    problems: list[str] = []
    source_id = int(source) if source.isdigit() else None
    filters = desk_queries.ArticleFilters(
        query=q,
        source_id=source_id,
        section=section,
        language=language,
        published_from=_parse_date(request, date_from, N_("From"), problems),
        published_to=_parse_date(request, date_to, N_("To"), problems),
        embargoed=embargoed if embargoed in ("yes", "no") else "",
        page=max(1, page),
    )
    articles, total = desk_queries.search_articles(db, filters)
    return render(
        request,
        "desk/articles.html.j2",
        {
            "nav": "articles",
            "articles": articles,
            "total": total,
            "filters": filters,
            "raw": {
                "q": q,
                "source": source,
                "section": section,
                "language": language,
                "date_from": date_from,
                "date_to": date_to,
                "embargoed": embargoed,
            },
            "choices": desk_queries.article_filter_choices(db),
            "warning_counts": desk_queries.warning_counts(articles),
            "problems": problems,
            "page_size": desk_queries.PAGE_SIZE,
        },
    )


@router.get("/articles/{article_id}")
def article_detail(
    request: Request, *, db: DbSession, user: EditorUser, article_id: int
) -> Response:
    """What was extracted from the feed, with warnings and forms to fix them."""
    page = desk_queries.article_page(db, article_id)
    if page is None:
        raise DeskHTTPException(
            404,
            N_("There is no article %(id)s. Go back to the article list and pick one."),
            {"id": article_id},
        )
    return render(
        request, "desk/article.html.j2", {"nav": "articles", "page": page, "article": page.article}
    )


@router.post("/articles/{article_id}/images/{image_id}", dependencies=[CsrfChecked])
def update_image(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    article_id: int,
    image_id: int,
    caption: Annotated[str, Form()] = "",
    credit: Annotated[str, Form()] = "",
    alt: Annotated[str, Form()] = "",
) -> Response:
    """Fix an image's caption, credit and alt text."""
    from distributor.services.article_edits import ArticleEditError, update_image_fields

    try:
        update_image_fields(db, article_id, image_id, caption=caption, credit=credit, alt=alt)
    except ArticleEditError as exc:
        flash(request, str(exc), "error", near=f"image-{image_id}")
        return redirect(request, f"/articles/{article_id}#image-{image_id}")
    flash(
        request,
        N_("Image details saved. Partners receive the corrected story."),
        near=f"image-{image_id}",
    )
    return redirect(request, f"/articles/{article_id}#image-{image_id}")


@router.post("/articles/{article_id}/authors/{author_id}", dependencies=[CsrfChecked])
def update_author(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    article_id: int,
    author_id: int,
    bio: Annotated[str, Form()] = "",
) -> Response:
    """Fix an author's bio (it is shared by every story of that author)."""
    from distributor.services.article_edits import ArticleEditError, update_author_bio

    try:
        update_author_bio(db, author_id, bio)
    except ArticleEditError as exc:
        flash(request, str(exc), "error", near=f"author-{author_id}")
        return redirect(request, f"/articles/{article_id}#author-{author_id}")
    flash(request, N_("Author bio saved."), near=f"author-{author_id}")
    return redirect(request, f"/articles/{article_id}#author-{author_id}")


@router.post("/articles/{article_id}/notes", dependencies=[CsrfChecked])
def update_notes(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    article_id: int,
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Replace the story's notes (one per line)."""
    from distributor.services.article_edits import ArticleEditError, update_article_notes

    lines = [line.strip() for line in notes.splitlines() if line.strip()]
    try:
        update_article_notes(db, article_id, lines)
    except ArticleEditError as exc:
        flash(request, str(exc), "error", near="notes")
        return redirect(request, f"/articles/{article_id}#notes")
    flash(request, N_("Notes saved."), near="notes")
    return redirect(request, f"/articles/{article_id}#notes")
