"""Composing an issue before it goes out: content, lists and the order of its stories.

Only draft and scheduled issues can change (see ``EDITABLE_STATUSES``); once sending starts the
content is fixed. Any change drops the stored rendering so previews and the send use the new
content.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.db.models import Article, Issue, IssueArticle, IssueList, MailingList
from distributor.domain.header_text import line_break_problem
from distributor.domain.issues import EDITABLE_STATUSES
from distributor.services import audit
from distributor.services.issues import IssueError, create_issue, get_issue, refuse_archived

MAX_SUBJECT = 500


def _editable(session: Session, issue_id: int) -> Issue:
    issue = get_issue(session, issue_id)
    if issue.status not in EDITABLE_STATUSES:
        raise IssueError(
            f"issue {issue_id} is {issue.status}: only draft or scheduled issues can be changed"
        )
    return issue


def _forget_rendering(issue: Issue) -> None:
    # The stored HTML/text describe the old content; the next preview or send renders anew.
    issue.rendered_html = None
    issue.rendered_text = None
    issue.rendered_hash = None
    issue.rendered_at = None
    issue.html_size = None


def update_issue_content(
    session: Session,
    issue_id: int,
    *,
    subject: str,
    preheader: str,
    editor_note: str,
    list_ids: list[int],
    greeting: bool | None = None,
) -> Issue:
    """Replace the subject, preheader, editor's note and lists of an editable issue.

    ``greeting`` turns the "Dear {first name}," line before the note on or off (``None``: as
    it was).
    """
    issue = _editable(session, issue_id)
    before = {
        "subject": issue.subject,
        "preheader": issue.preheader,
        "editor_note": issue.editor_note,
        "lists": [entry.list_id for entry in issue.lists],
    }
    subject = subject.strip()
    if not subject:
        raise IssueError("the subject is empty: write the line readers see in their inbox")
    if len(subject) > MAX_SUBJECT:
        raise IssueError(f"the subject is {len(subject)} characters; keep it under {MAX_SUBJECT}")
    problem = line_break_problem("subject", subject)
    if problem:
        raise IssueError(problem)
    wanted = list(dict.fromkeys(list_ids))
    if not wanted:
        raise IssueError("choose at least one list to send the issue to")
    chosen = list(session.scalars(select(MailingList).where(MailingList.id.in_(wanted))))
    known = {mailing_list.id for mailing_list in chosen}
    unknown = [str(list_id) for list_id in wanted if list_id not in known]
    if unknown:
        raise IssueError(f"unknown list id(s): {', '.join(unknown)}")
    refuse_archived(chosen)
    issue.subject = subject
    issue.preheader = preheader.strip()
    issue.editor_note = editor_note.strip()
    if greeting is not None:
        issue.greeting = greeting
    current = {entry.list_id: entry for entry in issue.lists}
    issue.lists = [current.get(list_id) or IssueList(list_id=list_id) for list_id in wanted]
    _forget_rendering(issue)
    session.flush()
    after = {
        "subject": issue.subject,
        "preheader": issue.preheader,
        "editor_note": issue.editor_note,
        "lists": wanted,
    }
    audit.record(session, "issue.edit", "issue", issue_id, changes=audit.diff(before, after))
    return issue


def move_issue_article(session: Session, issue_id: int, article_id: int, offset: int) -> Issue:
    """Move a story ``offset`` places (-1 = up, +1 = down), clamped to the ends."""
    issue = _editable(session, issue_id)
    order = [entry.article_id for entry in issue.articles]
    if article_id not in order:
        raise IssueError(f"article {article_id} is not in issue {issue_id}")
    index = order.index(article_id)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    return _set_order(session, issue, order)


def set_issue_articles(session: Session, issue_id: int, article_ids: list[int]) -> Issue:
    """Put an editable issue's stories in the order of ``article_ids``; new ids are added.

    Every story already in the issue must be given a place, each once: a story left out is
    refused by name, never dropped (taking a story out is :func:`remove_issue_article`).
    """
    issue = _editable(session, issue_id)
    order = list(dict.fromkeys(article_ids))
    if not order:
        raise IssueError("an issue needs at least one story")
    repeated = sorted(
        {article_id for article_id in article_ids if article_ids.count(article_id) > 1}
    )
    if repeated:
        raise IssueError(
            f"article {', '.join(map(str, repeated))} is listed more than once; "
            "give each story one place"
        )
    left_out = [entry.article_id for entry in issue.articles if entry.article_id not in order]
    if left_out:
        titles = {
            row.id: row.title
            for row in session.execute(
                select(Article.id, Article.title).where(Article.id.in_(left_out))
            )
        }
        named = "; ".join(f"{article_id} “{titles.get(article_id, '')}”" for article_id in left_out)
        raise IssueError(
            f"the order leaves out {named}; give every story a place "
            "(use “Remove” to take a story out)"
        )
    found = set(session.scalars(select(Article.id).where(Article.id.in_(order))))
    missing = [str(article_id) for article_id in order if article_id not in found]
    if missing:
        raise IssueError(f"unknown article id(s): {', '.join(missing)}")
    return _set_order(session, issue, order)


def remove_issue_article(session: Session, issue_id: int, article_id: int) -> Issue:
    """Take a story out of an editable issue (the last one cannot go)."""
    issue = _editable(session, issue_id)
    order = [entry.article_id for entry in issue.articles]
    if article_id not in order:
        raise IssueError(f"article {article_id} is not in issue {issue_id}")
    if len(order) == 1:
        raise IssueError("this is the issue's only story; add another before removing it")
    order.remove(article_id)
    return _set_order(session, issue, order)


def _set_order(session: Session, issue: Issue, order: list[int]) -> Issue:
    existing = {entry.article_id: entry for entry in issue.articles}
    before = [entry.article_id for entry in sorted(issue.articles, key=lambda e: e.position)]
    entries = []
    for position, article_id in enumerate(order):
        entry = existing.get(article_id) or IssueArticle(article_id=article_id)
        entry.position = position
        entries.append(entry)
    issue.articles = entries
    _forget_rendering(issue)
    session.flush()
    session.expire(issue, ["articles"])
    if before != order:
        audit.record(
            session, "issue.stories", "issue", issue.id, changes={"articles": [before, order]}
        )
    return issue


def duplicate_issue(session: Session, issue_id: int) -> Issue:
    """A new draft with the subject, preheader, note, greeting, stories and lists of another.

    Any issue can be duplicated, sent or not; archived lists are left out (they take no new
    issue), and an issue all of whose lists are archived is refused.
    """
    source = get_issue(session, issue_id)
    lists = list(
        session.scalars(
            select(MailingList)
            .join(IssueList, IssueList.list_id == MailingList.id)
            .where(IssueList.issue_id == issue_id)
        )
    )
    open_lists = [mailing_list.name for mailing_list in lists if mailing_list.archived_at is None]
    if not open_lists:
        raise IssueError(
            f"every list of issue {issue_id} is archived; create a new issue for an open list"
        )
    wanted = [entry.article_id for entry in source.articles]
    existing = set(session.scalars(select(Article.id).where(Article.id.in_(wanted))))
    stories = [article_id for article_id in wanted if article_id in existing]
    if not stories:
        raise IssueError(f"issue {issue_id} has no story left to copy")
    copy = create_issue(
        session,
        open_lists,
        source.subject,
        stories,
        preheader=source.preheader or "",
        editor_note=source.editor_note or "",
    )
    copy.greeting = bool(source.greeting)
    copy.language = source.language
    session.flush()
    return copy
