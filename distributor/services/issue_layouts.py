"""Choose an issue's layout: whole stories or excerpts, per issue and per story, and fit a
full-story issue into the email size budget."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.domain.issues import EDITABLE_STATUSES, IssueLayout, IssueStatus, parse_layout
from distributor.services.issues import IssueError, get_issue
from distributor.services.rendering import fit_to_budget, render_issue_by_id


@dataclass(frozen=True)
class LayoutResult:
    """The layout an issue now has, the stories shown as excerpts in it, and its size."""

    issue_id: int
    layout: IssueLayout
    excerpt_article_ids: tuple[int, ...]
    fitted_article_ids: tuple[int, ...]
    html_bytes: int
    budget_bytes: int
    over_budget: bool

    def as_dict(self) -> dict[str, object]:
        """JSON values for ``--json`` and the API."""
        return {
            "id": self.issue_id,
            "layout": str(self.layout),
            "excerpt_articles": list(self.excerpt_article_ids),
            "fitted_articles": list(self.fitted_article_ids),
            "html_bytes": self.html_bytes,
            "budget_bytes": self.budget_bytes,
            "over_budget": self.over_budget,
        }


def set_issue_layout(
    session: Session,
    settings: Settings,
    issue_id: int,
    layout: str,
    *,
    excerpt_article_ids: Iterable[int] = (),
    fit: bool = False,
) -> LayoutResult:
    """Give ``issue_id`` the ``layout`` (``full`` or ``excerpt``) for all its stories, except
    ``excerpt_article_ids``, shown as excerpts. With ``fit``, the longest whole stories are
    then shown as excerpts too, one by one, until the HTML fits the size budget.

    Only a draft or scheduled issue can change. Raises :class:`IssueError` saying what is wrong
    (unknown layout, an article not in the issue, an issue already sent).
    """
    try:
        chosen = parse_layout(layout)
    except ValueError as error:
        raise IssueError(str(error)) from None
    issue = get_issue(session, issue_id)
    if IssueStatus(issue.status) not in EDITABLE_STATUSES:
        raise IssueError(
            f"issue {issue_id} is {issue.status}: only a draft or scheduled issue can change "
            "its layout"
        )
    wanted = list(dict.fromkeys(excerpt_article_ids))
    if wanted and chosen is IssueLayout.EXCERPT:
        raise IssueError(
            "stories to show as excerpts can only be named in a full issue: in an excerpt "
            "issue every story already is one"
        )
    in_issue = {link.article_id for link in issue.articles}
    strangers = [str(article_id) for article_id in wanted if article_id not in in_issue]
    if strangers:
        raise IssueError(
            f"article(s) {', '.join(strangers)} are not in issue {issue_id} "
            f"(its articles: {', '.join(str(item) for item in sorted(in_issue)) or 'none'})"
        )
    issue.layout = chosen
    for link in issue.articles:
        link.excerpt = True if link.article_id in wanted else None
    session.flush()
    fitted: tuple[int, ...] = ()
    if fit:
        fitted = fit_to_budget(session, settings, issue).article_ids
        for link in issue.articles:
            if link.article_id in fitted:
                link.excerpt = True
        session.flush()
    rendered = render_issue_by_id(session, settings, issue_id)
    return LayoutResult(
        issue_id=issue_id,
        layout=chosen,
        excerpt_article_ids=tuple(
            link.article_id
            for link in sorted(issue.articles, key=lambda item: item.position)
            if chosen is IssueLayout.EXCERPT or link.excerpt
        ),
        fitted_article_ids=fitted,
        html_bytes=rendered.html_bytes,
        budget_bytes=settings.EMAIL_HTML_BUDGET_BYTES,
        over_budget=rendered.over_budget,
    )
