"""The double opt-in confirmation email: a short text + HTML message with a signed link.

The message is transactional (one reader asked for it), so it carries no List-Unsubscribe
header; it goes through the same sender as issues (SendGrid, SMTP or the outbox folder).

Anyone can type any address into a signup form, so this email must be harmless to someone who
never asked for it:
- it carries nothing the person who filled in the form wrote (no name: "Hello,");
- an address gets at most one confirmation per ``CONFIRMATION_COOLDOWN_SECONDS``, whatever
  the list and however many signups arrive; confirming ends the wait.
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
from distributor.services import suppression
from distributor.services.subscribers import CONFIRM_MAX_AGE_SECONDS

log = logging.getLogger("distributor.confirmation")


@dataclass(frozen=True, slots=True)
class _Wording:
    subject: str
    greeting: str
    ask: str
    button: str
    expiry: str
    ignore: str


_WORDING = {
    "en": _Wording(
        subject="Please confirm your subscription to {title}",
        greeting="Hello,",
        ask="Someone (we hope you) asked to receive {title} at this address."
        " Please confirm by following this link:",
        button="Yes, subscribe me",
        expiry="The link works for {days} days.",
        ignore="If you did not ask for this, ignore this message: you will not hear from us.",
    ),
    "zh": _Wording(
        subject="请确认订阅《{title}》",
        greeting="您好：",
        ask="有人（希望是您本人）用这个邮箱订阅了《{title}》。请点击以下链接确认：",
        button="确认订阅",
        expiry="链接在 {days} 天内有效。",
        ignore="如果您没有订阅，请忽略本邮件，我们不会再联系您。",
    ),
}


def _wording_for(language: str | None) -> tuple[str, _Wording]:
    primary = (language or "en").split("-")[0].lower()
    if primary in _WORDING:
        return primary, _WORDING[primary]
    return "en", _WORDING["en"]


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
    language, words = _wording_for(subscriber.language or mailing_list.language)
    title = mailing_list.title or mailing_list.name
    sent_ms = int((now or SYSTEM_CLOCK.now()).timestamp() * 1000)
    link = confirm_url(settings.PUBLIC_BASE_URL, token)
    days = CONFIRM_MAX_AGE_SECONDS // 86400
    greeting = words.greeting
    ask = words.ask.format(title=title)
    expiry = words.expiry.format(days=days)
    text = (
        "\n\n".join([greeting, ask, link, expiry, words.ignore, f"{settings.PUBLISHER_NAME}"])
        + "\n"
    )
    html = (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(words.subject.format(title=title))}</title></head>"
        '<body style="font-family: Georgia, serif; line-height: 1.5; max-width: 36em;">'
        f"<p>{escape(greeting)}</p><p>{escape(ask)}</p>"
        f'<p><a href="{escape(link)}" style="font-weight: bold;">{escape(words.button)}</a></p>'
        f"<p>{escape(expiry)}</p><p>{escape(words.ignore)}</p>"
        f"<p>{escape(settings.PUBLISHER_NAME)}</p></body></html>"
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
        subject=words.subject.format(title=title),
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
