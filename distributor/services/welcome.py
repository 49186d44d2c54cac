"""The welcome email of a list: written by an editor in Markdown, sent once to each reader right
after their subscription becomes active.

A subscription becomes active when a reader signs up to a single opt-in list, confirms a double
opt-in one, or joins a list on their preferences page; those services mark the membership
(:mod:`distributor.services.activation`) and, after the commit, the web layer enqueues
``distributor.send_welcome`` for each. Readers added by an operator or by an import get no
welcome email (they did not ask for it themselves).

**Once per reader and list**: :func:`send_welcome` first claims the pair by inserting a
``welcome_deliveries`` row, whose UNIQUE(list_id, subscriber_id) lets one claim win; the claim is
committed before the email goes out, so a repeated or concurrent task finds the row and sends
nothing. A transient failure gives the claim back (the task retries); a permanent one is
recorded. The row records the outcome (``sent``, ``failed``) and the provider's message id. A
crash or an ambiguous provider answer leaves the claim ``pending``: the reader may miss the
welcome, but never gets it twice.

**Safe Markdown**: markdown-it-py with raw HTML disabled (and no images: an email loads no
picture from elsewhere), then the same allow-list sanitiser as story bodies.

The fixed words around the editor's text (subject, "read our latest issue", the footer) are in
the list's language (the ``email`` catalogue), laid out right-to-left for Arabic and Persian.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distributor.adapters.email_base import (
    EmailSender,
    OutgoingBatch,
    OutgoingRecipient,
    PermanentDeliveryError,
    TransientDeliveryError,
    email_sender_for,
)
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import (
    Issue,
    IssueList,
    MailingList,
    Subscriber,
    Subscription,
    WelcomeDelivery,
)
from distributor.domain.links import MANAGE_PURPOSE, preferences_url, unsubscribe_url
from distributor.domain.list_headers import list_id_header, list_id_namespace
from distributor.domain.subscribers import SubscriptionStatus, SuppressionReason
from distributor.domain.tokens import make_token
from distributor.i18n import catalogue_for
from distributor.ingest.sanitise import sanitise_html
from distributor.rendering.email import font_stack_for
from distributor.rendering.labels import labels_for
from distributor.services import suppression

log = logging.getLogger("distributor.welcome")

# A welcome email is a letter, not an issue: this is plenty.
WELCOME_MAX_CHARACTERS = 20_000
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class WelcomeError(ValueError):
    """A welcome email that cannot be saved (too long), saying why."""


class WelcomeStatus:
    """What ``welcome_deliveries.status`` records."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# ------------------------------------------------------------------------------ markdown
@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # CommonMark without raw HTML (shown as text) and without images.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def welcome_html(markdown: str) -> str:
    """The editor's Markdown as safe HTML (no raw HTML, no images, only http(s)/mailto links)."""
    return sanitise_html(_markdown().render(_CONTROL_CHARACTERS.sub("", markdown)))


def checked_markdown(markdown: str | None) -> str | None:
    """``markdown`` cleaned for storage (None when empty); WelcomeError when it is too long."""
    if markdown is None:
        return None
    text = _CONTROL_CHARACTERS.sub("", markdown.replace("\r\n", "\n")).strip()
    if not text:
        return None
    if len(text) > WELCOME_MAX_CHARACTERS:
        raise WelcomeError(
            f"the welcome email is {len(text):,} characters long; at most "
            f"{WELCOME_MAX_CHARACTERS:,} are allowed"
        )
    return text


def set_welcome(session: Session, list_name: str, markdown: str | None) -> MailingList:
    """Give ``list_name`` its welcome email (None or empty text: the list sends none).

    Raises ``UnknownListError`` naming the lists, or :class:`WelcomeError` (too long).
    """
    from distributor.services.subscribers import require_list

    mailing_list = require_list(session, list_name)
    mailing_list.welcome_markdown = checked_markdown(markdown)
    session.flush()
    return mailing_list


# ------------------------------------------------------------------------------ the email
@dataclass(frozen=True, slots=True)
class _Wording:
    """The welcome email's fixed words in one language (``email`` catalogue), and its layout."""

    language: str
    subject: str
    latest: str
    unsubscribe: str
    preferences: str
    why: str
    why_html: str
    colon: str
    dir: str
    start: str
    arrow: str


def _wording(language: str, title: str, publisher: str) -> _Wording:
    """The words for a list in ``language`` (the shipped language closest to it)."""
    catalogue = catalogue_for(language, "email")
    _ = catalogue.gettext
    labels = labels_for(language)
    why = _("You receive this because you subscribed to %(title)s from %(publisher)s.")
    quoted_html = f"{labels.title_open}<bdi>{escape(title)}</bdi>{labels.title_close}"
    return _Wording(
        language=labels.language,
        subject=_("Welcome to %(title)s") % {"title": labels.title(title)},
        latest=_("Read our latest issue"),
        unsubscribe=_("Unsubscribe"),
        preferences=_("Manage your subscriptions"),
        why=why % {"title": labels.title(title), "publisher": publisher},
        why_html=escape(why)
        % {"title": quoted_html, "publisher": f"<bdi>{escape(publisher)}</bdi>"},
        colon=labels.colon,
        dir=labels.dir,
        start=labels.start,
        arrow=labels.arrow,
    )


def latest_issue_url(session: Session, settings: Settings, list_id: int) -> str | None:
    """The web copy of the latest issue that went out to ``list_id`` (None when none did)."""
    from distributor.services.rendering import PUBLIC_ARCHIVE_STATUSES, web_archive_url

    issue = session.scalar(
        select(Issue)
        .join(IssueList, IssueList.issue_id == Issue.id)
        .where(
            IssueList.list_id == list_id,
            Issue.status.in_([str(status) for status in PUBLIC_ARCHIVE_STATUSES]),
            Issue.started_at.is_not(None),
        )
        .order_by(Issue.started_at.desc(), Issue.id.desc())
        .limit(1)
    )
    return web_archive_url(settings, issue) if issue is not None else None


def build_welcome(
    settings: Settings,
    subscriber: Subscriber,
    mailing_list: MailingList,
    *,
    latest_url: str | None,
    reference: str,
) -> OutgoingBatch:
    """The welcome message of ``mailing_list`` for ``subscriber`` (one recipient), with their
    own unsubscribe and preferences links and the latest issue's web link."""
    assert subscriber.email is not None
    title = mailing_list.title or mailing_list.name
    words = _wording(mailing_list.language or "en", title, settings.PUBLISHER_NAME)
    markdown = mailing_list.welcome_markdown or ""
    token = make_token(settings.secret_key(), MANAGE_PURPOSE, subscriber.id, mailing_list.id)
    leave = unsubscribe_url(settings.PUBLIC_BASE_URL, token)
    manage = preferences_url(settings.PUBLIC_BASE_URL, token)
    subject = words.subject
    address = [line.strip() for line in settings.PUBLISHER_ADDRESS.splitlines() if line.strip()]
    text_parts = [markdown]
    html_latest = ""
    if latest_url:
        text_parts.append(f"{words.latest}{words.colon}{latest_url}")
        html_latest = (
            f'<p style="margin:24px 0 0"><a href="{escape(latest_url)}" '
            f'style="font-weight:bold">{escape(words.latest)}&nbsp;{words.arrow}</a></p>'
        )
    text_parts.append(
        "\n".join(
            [
                "-" * 60,
                words.why,
                f"{words.unsubscribe}{words.colon}{leave}",
                f"{words.preferences}{words.colon}{manage}",
                settings.PUBLISHER_NAME,
                *address,
            ]
        )
    )
    fonts = font_stack_for("Georgia, serif", words.language)
    html = (
        f'<!doctype html><html lang="{escape(words.language)}" dir="{words.dir}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(subject)}</title></head>"
        f'<body dir="{words.dir}" style="margin:0;padding:24px 16px;font-family:{escape(fonts)};'
        f'line-height:1.6;color:#1a1a1a;background:#ffffff;text-align:{words.start}">'
        f'<div style="max-width:36em;margin:0 auto"><h1 style="font-size:26px;font-weight:normal;'
        f'line-height:1.25;margin:0 0 16px">{escape(subject)}</h1>'
        f"{welcome_html(markdown)}{html_latest}"
        '<hr style="border:0;border-top:1px solid #ddd;margin:32px 0 16px">'
        f'<p style="font-size:13px;color:#555">{words.why_html}<br>'
        f'<a href="{escape(leave)}" style="color:#555">{escape(words.unsubscribe)}</a> &middot; '
        f'<a href="{escape(manage)}" style="color:#555">{escape(words.preferences)}</a></p>'
        f'<p style="font-size:13px;color:#555"><bdi>{escape(settings.PUBLISHER_NAME)}</bdi><br>'
        f"{'<br>'.join(escape(line) for line in address)}</p></div></body></html>"
    )
    namespace = list_id_namespace(_host_of(settings.PUBLIC_BASE_URL))
    recipient = OutgoingRecipient(
        delivery_id=0,
        email=subscriber.email,
        name=None,
        headers={
            "List-Unsubscribe": f"<{leave}>",
            "List-Id": list_id_header(mailing_list.name, mailing_list.title, namespace),
        },
        custom_args={"dst_kind": "welcome"},
    )
    return OutgoingBatch(
        from_email=settings.MAIL_FROM,
        from_name=settings.MAIL_FROM_NAME,
        subject=subject,
        text="\n\n".join(text_parts) + "\n",
        html=html,
        recipients=[recipient],
        reply_to=settings.MAIL_REPLY_TO,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        categories=["welcome"],
        reference=reference,
    )


def _host_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname


# ------------------------------------------------------------------------------ sending
def send_welcome(
    session: Session,
    settings: Settings,
    subscriber_id: int,
    list_id: int,
    sender: EmailSender | None = None,
) -> bool:
    """Send ``list_id``'s welcome email to ``subscriber_id`` unless it went already; True when
    sent now.

    Nothing is sent when the list has no welcome email or is archived, the membership is not
    confirmed (any more), the reader was erased or the address is suppressed, or the pair was
    claimed before (by an earlier or a concurrent task). Raises ``TransientDeliveryError`` after
    giving the claim back, so the caller may retry.
    """
    membership = session.get(Subscription, (subscriber_id, list_id))
    subscriber = session.get(Subscriber, subscriber_id)
    mailing_list = session.get(MailingList, list_id)
    if (
        membership is None
        or subscriber is None
        or mailing_list is None
        or subscriber.email is None
        or not (mailing_list.welcome_markdown or "").strip()
        or mailing_list.archived_at is not None
        or membership.status != SubscriptionStatus.CONFIRMED.value
        or subscriber.status != "active"
    ):
        return False
    blocked = suppression.suppression_of(session, subscriber.email)
    if blocked is not None and blocked.reason != SuppressionReason.ERASED.value:
        return False
    claim = WelcomeDelivery(
        list_id=list_id, subscriber_id=subscriber_id, status=WelcomeStatus.PENDING
    )
    session.add(claim)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("welcome email of list %s: already sent to this reader", list_id)
        return False
    message = build_welcome(
        settings,
        subscriber,
        mailing_list,
        latest_url=latest_issue_url(session, settings, list_id),
        reference=f"welcome-{claim.id}",
    )
    own_sender = sender is None
    chosen = sender or email_sender_for(settings)
    try:
        receipt = chosen.send_batch(message)
    except TransientDeliveryError:
        session.rollback()
        session.delete(session.get(WelcomeDelivery, claim.id))
        session.commit()
        raise
    except PermanentDeliveryError as error:
        session.rollback()
        failed = session.get(WelcomeDelivery, claim.id)
        if failed is not None:
            failed.status = WelcomeStatus.FAILED
            failed.detail = error.message[:1000]
        session.commit()
        log.warning("welcome email of list %s refused by the provider", list_id)
        return False
    finally:
        if own_sender:
            chosen.close()
    claim.status = WelcomeStatus.SENT
    claim.sent_at = SYSTEM_CLOCK.now()
    claim.provider_message_id = receipt.provider_message_id
    session.commit()
    return True
