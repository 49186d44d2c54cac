"""The content of a send: the issue rendered once, personalised per recipient."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.adapters.email_base import OutgoingBatch, OutgoingRecipient
from distributor.config import Settings
from distributor.db.models import Issue, IssueList, MailingList
from distributor.domain.list_headers import list_id_header, list_id_namespace
from distributor.rendering.email import PLACEHOLDERS
from distributor.services.rendering import Personaliser, render_issue_by_id, web_archive_url

# The placeholder whose value is the recipient's one-click unsubscribe URL.
UNSUBSCRIBE_PLACEHOLDER = "-unsubscribe_url-"
assert UNSUBSCRIBE_PLACEHOLDER in PLACEHOLDERS


@dataclass(frozen=True)
class IssueContent:
    """The shared, rendered parts of an issue; placeholders are filled per recipient."""

    subject: str
    html: str
    text: str
    content_hash: str
    web_url: str
    language: str
    # List id -> its RFC 2919 ``List-Id`` header, for the lists the issue goes to.
    list_headers: dict[int, str] = field(default_factory=dict)


_content_cache: dict[tuple[int, str], IssueContent] = {}


def issue_content(session: Session, settings: Settings, issue: Issue) -> IssueContent:
    """The issue's subject, HTML and text as frozen at dispatch, cached per process.

    The body carries placeholders (:data:`distributor.rendering.email.PLACEHOLDERS`) that each
    recipient's substitutions fill, so one body serves a whole batch.
    """
    if issue.rendered_hash:
        cached = _content_cache.get((issue.id, issue.rendered_hash))
        if cached is not None:
            return cached
    rendered = render_issue_by_id(session, settings, issue.id)
    content = IssueContent(
        subject=issue.subject,
        html=rendered.html,
        text=rendered.text,
        content_hash=rendered.content_hash,
        web_url=web_archive_url(settings, issue),
        language=issue.language,
        list_headers=issue_list_headers(session, settings, issue.id),
    )
    _content_cache[(issue.id, rendered.content_hash)] = content
    return content


def issue_list_headers(session: Session, settings: Settings, issue_id: int) -> dict[int, str]:
    """The ``List-Id`` header of each list the issue is sent to."""
    namespace = list_id_namespace(urlsplit(settings.PUBLIC_BASE_URL).hostname)
    rows = session.execute(
        select(MailingList.id, MailingList.name, MailingList.title)
        .join(IssueList, IssueList.list_id == MailingList.id)
        .where(IssueList.issue_id == issue_id)
    ).all()
    return {list_id: list_id_header(name, title, namespace) for list_id, name, title in rows}


def content_personaliser(
    settings: Settings, content: IssueContent, issued_at: int | None = None
) -> Personaliser:
    """Fills the placeholders of ``content`` per recipient (signed manage-token links, name)."""
    return Personaliser(
        settings, language=content.language, web_url=content.web_url, issued_at=issued_at
    )


def build_outgoing_batch(
    settings: Settings,
    content: IssueContent,
    issue_id: int,
    recipients: list[OutgoingRecipient],
    *,
    subject_prefix: str = "",
    reference: str | None = None,
    custom_args: dict[str, str] | None = None,
) -> OutgoingBatch:
    """A provider request for ``recipients`` of one issue (shared body, personal links)."""
    return OutgoingBatch(
        from_email=settings.MAIL_FROM,
        from_name=settings.MAIL_FROM_NAME,
        reply_to=settings.MAIL_REPLY_TO,
        subject=subject_prefix + content.subject,
        text=content.text,
        html=content.html,
        recipients=recipients,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        categories=["newsletter", f"issue-{issue_id}"],
        track_opens=settings.TRACK_OPENS,
        track_clicks=settings.TRACK_CLICKS,
        reference=reference or f"issue-{issue_id}",
        custom_args=custom_args or {},
    )


def personal_recipient(
    *,
    delivery_id: int,
    email: str,
    name: str | None,
    substitutions: dict[str, str],
    custom_args: dict[str, str],
    list_header: str | None = None,
) -> OutgoingRecipient:
    """One recipient with their RFC 8058 one-click unsubscribe header and their list's List-Id."""
    headers = {"List-Unsubscribe": "<" + substitutions[UNSUBSCRIBE_PLACEHOLDER] + ">"}
    if list_header:
        headers["List-Id"] = list_header
    # Positional: this runs for every recipient of a send.
    return OutgoingRecipient(delivery_id, email, name, substitutions, headers, custom_args)


LedgerRow = tuple[int, int, int | None, str, str | None, str | None]


def ledger_recipients(
    personaliser: Personaliser,
    rows: Iterable[LedgerRow],
    list_headers: dict[int, str] | None = None,
) -> tuple[list[OutgoingRecipient], dict[int, str]]:
    """The recipients of a batch from its ledger rows, and the rows to skip with their reason.

    A row is ``(delivery id, subscriber id, list id, email, name, skip reason or None)``, as
    :data:`.batches._RECIPIENTS_SQL` selects it. This loop runs for every recipient of a send: it
    unpacks plain tuples.
    """
    recipients: list[OutgoingRecipient] = []
    skipped: dict[int, str] = {}
    add = recipients.append
    substitutions = personaliser.substitutions
    list_header = (list_headers or {}).get
    for delivery_id, subscriber_id, list_id, email, name, skip in rows:
        if skip:
            skipped[delivery_id] = skip
            continue
        # Their own custom_args carry only the delivery id: the batch's tags (issue, batch,
        # attempt) go once into the request (batch_tags), and SendGrid merges both into
        # every event it reports.
        add(
            personal_recipient(
                delivery_id=delivery_id,
                email=email,
                name=name,
                substitutions=substitutions(subscriber_id, list_id or 0, name),
                custom_args={"dst_delivery": str(delivery_id)},
                list_header=list_header(list_id or 0),
            )
        )
    return recipients, skipped


def batch_tags(issue_id: int, batch_id: int, attempt: int) -> dict[str, str]:
    """The request-wide ``custom_args`` of a ledger batch."""
    return {"dst_issue": str(issue_id), "dst_batch": str(batch_id), "dst_attempt": str(attempt)}
