"""Render stored issues: load, render once, store; previews and the public web archive."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db import models
from distributor.db.mapping import article_from_row
from distributor.domain.issues import EDITABLE_STATUSES, IssueLayout, IssueStatus, story_layout
from distributor.domain.links import (
    MANAGE_PURPOSE,
    archive_url,
    newsletter_index_url,
    preferences_url,
    unsubscribe_url,
)
from distributor.domain.tokens import make_token, token_signer
from distributor.rendering.email import (
    FIRST_NAME,
    FIRST_NAME_HTML,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    WEB_URL,
    Branding,
    IssueContent,
    Recipient,
    RenderedIssue,
    checked_personal_url,
    fallback_first_name,
    greeting_names,
    personalise,
    render_issue,
    render_web_archive,
    restore_rendered,
    size_warning,
)
from distributor.rendering.full_story import story_size

# An issue's web copy is public once it has gone out (never while it is a draft: drafts may
# carry embargoed or unfinished stories).
PUBLIC_ARCHIVE_STATUSES = frozenset(
    {IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT, IssueStatus.PARTIALLY_FAILED}
)


class IssueNotFoundError(LookupError):
    """No issue with that id (or web token)."""


@dataclass(frozen=True)
class IssuePreview:
    """What the editor sees before sending: a sample copy, the text and the size verdict."""

    issue_id: int
    rendered: RenderedIssue
    html: str
    text: str
    budget_bytes: int
    warning: str | None


def _load_issue(session: Session, issue_id: int) -> models.Issue:
    issue = session.get(models.Issue, issue_id)
    if issue is None:
        raise IssueNotFoundError(f"issue {issue_id} does not exist")
    return issue


def _list_title(session: Session, settings: Settings, issue: models.Issue) -> str:
    list_ids = [link.list_id for link in issue.lists]
    if list_ids:
        rows = session.scalars(
            select(models.MailingList)
            .where(models.MailingList.id.in_(list_ids))
            .order_by(models.MailingList.id)
        ).all()
        for row in rows:
            if (row.title or row.name).strip():
                return (row.title or row.name).strip()
    return settings.PUBLISHER_NAME


def issue_content_from_rows(
    session: Session,
    settings: Settings,
    issue: models.Issue,
    *,
    leave_out: frozenset[int] = frozenset(),
) -> IssueContent:
    """The issue and its articles (in issue order, without ``leave_out``) as pure
    :class:`IssueContent`."""
    links = [
        link
        for link in sorted(issue.articles, key=lambda link: link.position)
        if link.article_id not in leave_out
    ]
    ids = [link.article_id for link in links]
    overrides = {link.article_id: link.excerpt for link in links}
    rows = {
        row.id: row
        for row in session.scalars(select(models.Article).where(models.Article.id.in_(ids)))
    }
    present = [article_id for article_id in ids if article_id in rows]
    layout = issue.layout or IssueLayout.EXCERPT
    return IssueContent(
        subject=issue.subject,
        preheader=issue.preheader or "",
        editor_note=issue.editor_note or "",
        greeting=bool(issue.greeting),
        language=issue.language or "en",
        articles=tuple(article_from_row(rows[article_id]) for article_id in present),
        list_title=_list_title(session, settings, issue),
        issue_id=issue.id,
        layout=layout,
        story_layouts=tuple(story_layout(layout, overrides[article_id]) for article_id in present),
    )


def render_issue_by_id(session: Session, settings: Settings, issue_id: int) -> RenderedIssue:
    """The issue's email, rendered once and stored on the issue.

    While the issue is editable it is rendered from the current stories and stored only when
    the result changed (``rendered_at`` then moves). Once it is being sent (or was sent) the
    stored body is returned as is, so every batch of one send carries the same email.
    Raises :class:`IssueNotFoundError`, or ``EmailRenderError`` saying what is wrong.
    """
    issue = _load_issue(session, issue_id)
    branding = Branding.from_settings(settings)
    frozen = IssueStatus(issue.status) not in EDITABLE_STATUSES
    if frozen and issue.rendered_html and issue.rendered_text:
        return restore_rendered(
            issue.rendered_html, issue.rendered_text, branding.html_budget_bytes
        )
    rendered = render_issue(issue_content_from_rows(session, settings, issue), branding)
    if rendered.content_hash != issue.rendered_hash:
        issue.rendered_html = rendered.html
        issue.rendered_text = rendered.text
        issue.rendered_hash = rendered.content_hash
        issue.html_size = rendered.html_bytes
        issue.rendered_at = SYSTEM_CLOCK.now()
    ensure_web_token(issue)
    session.flush()
    return rendered


def ensure_web_token(issue: models.Issue) -> str:
    """The issue's unguessable web-archive token, created on first use."""
    if not issue.web_token:
        issue.web_token = secrets.token_urlsafe(16)
    return issue.web_token


def web_archive_url(settings: Settings, issue: models.Issue) -> str:
    """The public "view in browser" URL of ``issue``."""
    return archive_url(settings.PUBLIC_BASE_URL, ensure_web_token(issue))


def first_name_of(name: str | None, attributes: dict[str, object] | None = None) -> str | None:
    """The name to greet a subscriber by: ``attributes["first_name"]``, else the first word
    of a spaced name ("Mara Ellison" -> "Mara"), else the whole name ("陈思远")."""
    explicit = (attributes or {}).get("first_name")
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip()
    if not name or not name.strip():
        return None
    return name.strip().split()[0]


def recipient_for(
    settings: Settings,
    *,
    email: str,
    name: str | None,
    subscriber_id: int,
    list_id: int,
    web_url: str,
    attributes: dict[str, object] | None = None,
    issued_at: int | None = None,
) -> Recipient:
    """A recipient whose unsubscribe and preferences links carry a signed "manage" token."""
    token = make_token(settings.secret_key(), MANAGE_PURPOSE, subscriber_id, list_id, issued_at)
    return Recipient(
        email=email,
        first_name=first_name_of(name, attributes),
        unsubscribe_url=unsubscribe_url(settings.PUBLIC_BASE_URL, token),
        preferences_url=preferences_url(settings.PUBLIC_BASE_URL, token),
        web_url=web_url,
    )


class Personaliser:
    """Per-recipient placeholder values for one send: everything shared is prepared once.

    The base URLs are checked once; a token is base64url, so a link built from a checked base
    and a token needs no check of its own. Gives the same values as
    :func:`distributor.rendering.email.substitutions_for` on a :func:`recipient_for` recipient.
    """

    __slots__ = ("_fallback", "_issued_at", "_preferences", "_signer", "_unsubscribe", "_web")

    def __init__(
        self, settings: Settings, *, language: str, web_url: str, issued_at: int | None = None
    ) -> None:
        base = settings.PUBLIC_BASE_URL
        self._unsubscribe = checked_personal_url("unsubscribe_url", unsubscribe_url(base, ""))
        self._preferences = checked_personal_url("preferences_url", preferences_url(base, ""))
        self._web = checked_personal_url("web_url", web_url)
        self._signer = token_signer(settings.secret_key(), MANAGE_PURPOSE)
        self._fallback = fallback_first_name(language)
        self._issued_at = int(SYSTEM_CLOCK.now().timestamp()) if issued_at is None else issued_at

    def substitutions(
        self,
        subscriber_id: int,
        list_id: int,
        name: str | None,
        attributes: dict[str, object] | None = None,
    ) -> dict[str, str]:
        """Every placeholder's value for one subscriber (SendGrid ``substitutions``)."""
        token = self._signer.make(subscriber_id, list_id, self._issued_at)
        first_name, first_name_html = greeting_names(
            first_name_of(name, attributes), self._fallback
        )
        return {
            UNSUBSCRIBE_URL: self._unsubscribe + token,
            PREFERENCES_URL: self._preferences + token,
            FIRST_NAME: first_name,
            FIRST_NAME_HTML: first_name_html,
            WEB_URL: self._web,
        }


def subscriber_substitutions(
    settings: Settings,
    *,
    language: str,
    name: str | None,
    subscriber_id: int,
    list_id: int,
    web_url: str,
    attributes: dict[str, object] | None = None,
    issued_at: int | None = None,
) -> dict[str, str]:
    """Every placeholder's value for one subscriber (SendGrid ``substitutions``)."""
    personaliser = Personaliser(settings, language=language, web_url=web_url, issued_at=issued_at)
    return personaliser.substitutions(subscriber_id, list_id, name, attributes)


def sample_recipient(settings: Settings, web_url: str) -> Recipient:
    """The recipient shown in previews: no name (so the greeting shows the fallback) and
    links that name no subscriber."""
    base = settings.PUBLIC_BASE_URL
    return Recipient(
        email="preview@example.invalid",
        first_name=None,
        unsubscribe_url=unsubscribe_url(base, "preview"),
        preferences_url=preferences_url(base, "preview"),
        web_url=web_url,
    )


def preview_issue(session: Session, settings: Settings, issue_id: int) -> IssuePreview:
    """The issue as a sample subscriber would get it, with the size verdict."""
    rendered = render_issue_by_id(session, settings, issue_id)
    issue = _load_issue(session, issue_id)
    html, text = personalise(
        rendered,
        sample_recipient(settings, web_archive_url(settings, issue)),
        fallback_first_name(issue.language or "en"),
    )
    budget = settings.EMAIL_HTML_BUDGET_BYTES
    warning = size_warning(rendered, budget)
    if warning is not None:
        advice = fit_advice(session, settings, issue)
        if advice:
            warning = f"{warning} {advice}"
    return IssuePreview(
        issue_id=issue_id,
        rendered=rendered,
        html=html,
        text=text,
        budget_bytes=budget,
        warning=warning,
    )


@dataclass(frozen=True)
class LayoutFit:
    """Which whole stories to show as excerpts so that the issue fits the size budget."""

    article_ids: tuple[int, ...]
    fits: bool
    rendered: RenderedIssue


def fit_to_budget(session: Session, settings: Settings, issue: models.Issue) -> LayoutFit:
    """The longest whole stories of ``issue`` switched to excerpts, one by one, until the HTML
    fits ``EMAIL_HTML_BUDGET_BYTES`` (or no whole story is left). Changes nothing stored."""
    branding = Branding.from_settings(settings)
    content = issue_content_from_rows(session, settings, issue)
    layouts = [content.layout_of(index) for index in range(len(content.articles))]
    longest_first = sorted(
        (index for index, value in enumerate(layouts) if value == IssueLayout.FULL),
        key=lambda index: story_size(content.articles[index]),
        reverse=True,
    )
    switched: list[int] = []
    rendered = render_issue(content, branding)
    for index in longest_first:
        if not rendered.over_budget:
            break
        layouts[index] = IssueLayout.EXCERPT
        article_id = content.articles[index].id
        if article_id is not None:
            switched.append(article_id)
        rendered = render_issue(replace(content, story_layouts=tuple(layouts)), branding)
    return LayoutFit(tuple(switched), not rendered.over_budget, rendered)


def fit_advice(session: Session, settings: Settings, issue: models.Issue) -> str | None:
    """What to do about an issue over the size budget when it has whole stories: which of
    them to show as excerpts (None when it has none)."""
    fit = fit_to_budget(session, settings, issue)
    if not fit.article_ids:
        return None
    names = ", ".join(str(article_id) for article_id in fit.article_ids)
    if fit.fits:
        return (
            f"Show the longest stories as excerpts (article(s) {names}) and it fits: "
            f"`distributor issues layout {issue.id} {issue.layout} --fit`, or "
            "“Fit to the size budget” on the issue page."
        )
    return (
        f"Even with every whole story as an excerpt (article(s) {names}) it is over the "
        "budget: use the excerpt layout and remove a story."
    )


def archive_page(
    session: Session, settings: Settings, web_token: str, now: datetime | None = None
) -> str:
    """The public web copy of the issue with ``web_token`` (no personal links).

    A story still under embargo at ``now`` is left out of the page (an embargo set after the
    issue went out): the page never shows a story before its embargo has passed.
    Raises :class:`IssueNotFoundError` for an unknown token, an issue that has not gone out
    (a held issue never started) or one whose every story is still embargoed.
    """
    issue = session.scalars(select(models.Issue).where(models.Issue.web_token == web_token)).first()
    if (
        issue is None
        or IssueStatus(issue.status) not in PUBLIC_ARCHIVE_STATUSES
        or (issue.status == IssueStatus.PAUSED and issue.started_at is None)
    ):
        raise IssueNotFoundError("no published issue has this address")
    moment = now or SYSTEM_CLOCK.now()
    embargoed = embargoed_in_issues(session, [issue.id], moment).get(issue.id, frozenset())
    if not embargoed:
        rendered = render_issue_by_id(session, settings, issue.id)
    else:
        content = issue_content_from_rows(session, settings, issue, leave_out=embargoed)
        if not content.articles:
            raise IssueNotFoundError("no published issue has this address")
        rendered = render_issue(content, Branding.from_settings(settings))
    return render_web_archive(
        rendered,
        web_archive_url(settings, issue),
        index_link=archive_index_link(session, settings, issue),
    )


def embargoed_in_issues(
    session: Session, issue_ids: list[int], now: datetime
) -> dict[int, frozenset[int]]:
    """For each issue, the ids of its stories still under embargo at ``now`` (issues with
    none are left out). Public pages leave these stories out: the web archive's embargo rule."""
    found: dict[int, set[int]] = {}
    if not issue_ids:
        return {}
    rows = session.execute(
        select(models.IssueArticle.issue_id, models.IssueArticle.article_id)
        .join(models.Article, models.Article.id == models.IssueArticle.article_id)
        .where(
            models.IssueArticle.issue_id.in_(issue_ids),
            models.Article.embargo_until.is_not(None),
            models.Article.embargo_until > now,
        )
    )
    for issue_id, article_id in rows:
        found.setdefault(issue_id, set()).add(article_id)
    return {issue_id: frozenset(ids) for issue_id, ids in found.items()}


def is_public_issue(issue: models.Issue) -> bool:
    """True when ``issue`` has gone out, so its web copy may be public (a held issue never
    started, a draft may carry unfinished or embargoed stories)."""
    return IssueStatus(issue.status) in PUBLIC_ARCHIVE_STATUSES and issue.started_at is not None


def archive_index_link(
    session: Session, settings: Settings, issue: models.Issue
) -> tuple[str, str] | None:
    """(URL, label) of the public archive of the issue's first public list, if it has one."""
    from distributor.domain.subscribers import ListVisibility

    mailing_list = session.scalar(
        select(models.MailingList)
        .join(models.IssueList, models.IssueList.list_id == models.MailingList.id)
        .where(
            models.IssueList.issue_id == issue.id,
            models.MailingList.visibility == ListVisibility.PUBLIC.value,
        )
        .order_by(models.MailingList.id)
        .limit(1)
    )
    if mailing_list is None:
        return None
    return (
        newsletter_index_url(settings.PUBLIC_BASE_URL, mailing_list.name),
        mailing_list.title or mailing_list.name,
    )
