"""The double opt-in confirmation email: a short text + HTML message with a signed link.

The message is transactional (one reader asked for it), so it carries no List-Unsubscribe
header; it goes through the same sender as issues (SendGrid, SMTP or the outbox folder).

Anyone can type any address into a signup form, so this email must be harmless to someone who
never asked for it:
- it carries nothing the person who filled in the form wrote (no name: "Hello,");
- an address gets at most one confirmation per ``CONFIRMATION_COOLDOWN_SECONDS``, whatever
  the list and however many signups arrive; confirming ends the wait.

It is written in the list's language (the ``email`` catalogue), laid out right-to-left for
Arabic and Persian, with the list's title quoted as the language quotes titles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from distributor.adapters.email_base import (
    EmailSender,
    OutgoingBatch,
    OutgoingRecipient,
    email_sender_for,
)
from distributor.clock import SYSTEM_CLOCK, Clock
from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber, Subscription
from distributor.domain.links import CONFIRM_PURPOSE, confirm_url
from distributor.domain.subscribers import SubscriptionStatus, SuppressionReason
from distributor.domain.tokens import make_token
from distributor.i18n import catalogue_for, choose_language, format_number
from distributor.rendering.email import font_stack_for
from distributor.rendering.labels import labels_for
from distributor.services import suppression
from distributor.services.subscribers import CONFIRM_MAX_AGE_SECONDS

log = logging.getLogger("distributor.confirmation")

_FONTS = "Georgia, 'Times New Roman', 'Songti SC', 'Noto Serif CJK SC', SimSun, serif"


@dataclass(frozen=True, slots=True)
class _Wording:
    """The confirmation's words in one language (``email`` catalogue), and its layout."""

    language: str
    subject: str
    greeting: str
    ask: str
    button: str
    expiry: str
    ignore: str
    dir: str
    start: str


def _wording(language: str, title: str, days: int) -> _Wording:
    """The words for a list in ``language`` (the shipped language closest to it)."""
    catalogue = catalogue_for(language, "email")
    _ = catalogue.gettext
    labels = labels_for(language)
    quoted = labels.title(title)
    return _Wording(
        language=labels.language,
        subject=_("Please confirm your subscription to %(title)s") % {"title": quoted},
        greeting=_("Hello,"),
        ask=_(
            "Someone (we hope you) asked to receive %(title)s at this address."
            " Please confirm by following this link:"
        )
        % {"title": quoted},
        button=_("Yes, subscribe me"),
        expiry=catalogue.ngettext(
            "The link works for %(days)s day.", "The link works for %(days)s days.", days
        )
        % {"days": format_number(days, labels.language)},
        ignore=_("If you did not ask for this, ignore this message: you will not hear from us."),
        dir=labels.dir,
        start=labels.start,
    )


def build_confirmation(
    settings: Settings,
    subscriber: Subscriber,
    mailing_list: MailingList,
    token: str,
    *,
    now: datetime | None = None,
) -> OutgoingBatch:
    """The confirmation message for ``subscriber`` on ``mailing_list`` (one recipient).

    Nothing typed on the signup form goes in: not the name (greeting or To header).
    """
    assert subscriber.email is not None
    # The list's language (its readers signed up to read it), else the reader's, else English.
    language = choose_language(mailing_list.language, subscriber.language)
    title = mailing_list.title or mailing_list.name
    sent_ms = int((now or SYSTEM_CLOCK.now()).timestamp() * 1000)
    link = confirm_url(settings.PUBLIC_BASE_URL, token)
    words = _wording(language, title, CONFIRM_MAX_AGE_SECONDS // 86400)
    text = (
        "\n\n".join(
            [words.greeting, words.ask, link, words.expiry, words.ignore, settings.PUBLISHER_NAME]
        )
        + "\n"
    )
    fonts = font_stack_for(_FONTS, words.language)
    html = (
        f'<!doctype html><html lang="{escape(words.language)}" dir="{words.dir}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(words.subject)}</title></head>"
        f'<body dir="{words.dir}" style="font-family: {escape(fonts)}; line-height: 1.5; '
        f'max-width: 36em; text-align: {words.start};">'
        f"<p>{escape(words.greeting)}</p><p>{escape(words.ask)}</p>"
        f'<p><a href="{escape(link)}" style="font-weight: bold;">{escape(words.button)}</a></p>'
        f"<p>{escape(words.expiry)}</p><p>{escape(words.ignore)}</p>"
        f"<p><bdi>{escape(settings.PUBLISHER_NAME)}</bdi></p></body></html>"
    )
    recipient = OutgoingRecipient(
        delivery_id=0,
        email=subscriber.email,
        name=None,
        custom_args={"dst_kind": "confirmation"},
    )
    return OutgoingBatch(
        from_email=settings.MAIL_FROM,
        from_name=settings.MAIL_FROM_NAME,
        subject=words.subject,
        text=text,
        html=html,
        recipients=[recipient],
        reply_to=settings.MAIL_REPLY_TO,
        categories=["confirmation"],
        reference=f"confirmation-s{subscriber.id}-l{mailing_list.id}-{sent_ms}",
    )


def send_confirmation(
    session: Session,
    settings: Settings,
    subscriber_id: int,
    list_id: int,
    sender: EmailSender | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> bool:
    """Send the confirmation email if the membership still awaits it; True when sent.

    A membership already confirmed or left, an erased reader or a suppressed address gets
    nothing, so a repeated task is harmless. Nor does an address that got a confirmation less
    than ``CONFIRMATION_COOLDOWN_SECONDS`` ago: the address is claimed by one conditional
    UPDATE, committed before sending (parallel tasks cannot both claim it, and no database
    lock is held while the provider answers). A failed send gives the claim back, then the
    error propagates to the caller (the task retries transient ones).
    """
    membership = session.get(Subscription, (subscriber_id, list_id))
    subscriber = session.get(Subscriber, subscriber_id)
    mailing_list = session.get(MailingList, list_id)
    if (
        membership is None
        or subscriber is None
        or mailing_list is None
        or subscriber.email is None
        or membership.status != SubscriptionStatus.UNCONFIRMED.value
    ):
        return False
    blocked = suppression.suppression_of(session, subscriber.email)
    if blocked is not None and blocked.reason != SuppressionReason.ERASED.value:
        return False
    token = make_token(settings.secret_key(), CONFIRM_PURPOSE, subscriber_id, list_id)
    now = clock.now()
    message = build_confirmation(settings, subscriber, mailing_list, token, now=now)
    previous = subscriber.confirmation_sent_at
    if not _claim_address(session, settings, subscriber_id, now):
        log.info("confirmation for list %s not sent: the address got one recently", list_id)
        return False
    own_sender = sender is None
    chosen = sender or email_sender_for(settings)
    try:
        chosen.send_batch(message)
    except BaseException:
        session.rollback()
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id)
            .values(confirmation_sent_at=previous)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        raise
    finally:
        if own_sender:
            chosen.close()
    return True


def _claim_address(session: Session, settings: Settings, subscriber_id: int, now: datetime) -> bool:
    """Mark the address as just sent a confirmation, unless it got one within the cool-down."""
    cutoff = now - timedelta(seconds=settings.CONFIRMATION_COOLDOWN_SECONDS)
    claimed = session.execute(
        update(Subscriber)
        .where(
            Subscriber.id == subscriber_id,
            or_(
                Subscriber.confirmation_sent_at.is_(None),
                Subscriber.confirmation_sent_at <= cutoff,
            ),
        )
        .values(confirmation_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(claimed, "rowcount", 0))
