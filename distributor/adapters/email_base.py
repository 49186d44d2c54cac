"""The email-sender port: what a send batch looks like to a provider, and how it can fail.

Every sender (SendGrid, SMTP, the outbox folder: the :data:`MAIL_BACKENDS`, one chosen by
``MAIL_BACKEND``) takes one :class:`OutgoingBatch` (a shared subject and body with
per-recipient substitutions) and either returns a :class:`SendReceipt` or raises one of three
kinds of error. The kind decides what the send ledger does next:

* :class:`TransientDeliveryError`: nothing (or only ``accepted_ids``) was accepted; retry later;
* :class:`PermanentDeliveryError`: the provider refused the request; never retry it;
* :class:`AmbiguousDeliveryError`: the request may or may not have been accepted (the
  connection broke after it was sent); reconcile before sending again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from distributor.config import Settings


@dataclass(frozen=True, slots=True)
class OutgoingRecipient:
    """One recipient of a batch with what is personal to them."""

    delivery_id: int
    email: str
    name: str | None
    # Placeholder -> value, applied to subject, text and HTML (SendGrid "substitutions").
    substitutions: dict[str, str] = field(default_factory=dict)
    # Per-recipient headers (List-Unsubscribe carries the recipient's own token).
    headers: dict[str, str] = field(default_factory=dict)
    # String values only: echoed back by the provider's event webhook.
    custom_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutgoingBatch:
    """One provider request: a shared message and up to 1,000 recipients."""

    from_email: str
    from_name: str
    subject: str
    text: str
    html: str
    recipients: list[OutgoingRecipient]
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    custom_args: dict[str, str] = field(default_factory=dict)
    track_opens: bool = False
    track_clicks: bool = False
    # Stable name for files/Message-IDs, e.g. "issue-12".
    reference: str = "message"


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """What the provider accepted. ``rejected`` maps delivery id -> reason (per recipient)."""

    provider_message_id: str | None
    accepted_ids: list[int]
    rejected: dict[int, str] = field(default_factory=dict)


class DeliveryError(Exception):
    """Base of the three failure kinds."""

    def __init__(self, message: str, accepted_ids: list[int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Recipients accepted before the failure (senders that send one message per recipient).
        self.accepted_ids = list(accepted_ids or [])


class TransientDeliveryError(DeliveryError):
    """Not accepted, try again later. ``retry_after`` is in seconds when the provider said."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        rate_limited: bool = False,
        accepted_ids: list[int] | None = None,
    ) -> None:
        super().__init__(message, accepted_ids)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class PermanentDeliveryError(DeliveryError):
    """Refused for good (bad request, bad credentials, too large): never retried."""

    def __init__(
        self, message: str, status_code: int | None = None, accepted_ids: list[int] | None = None
    ) -> None:
        super().__init__(message, accepted_ids)
        self.status_code = status_code


class AmbiguousDeliveryError(DeliveryError):
    """The request went out but no answer came back: it may have been accepted."""


class EmailSender(Protocol):
    """Sends one batch per call; one instance per process, reused across batches."""

    def send_batch(self, batch: OutgoingBatch) -> SendReceipt:
        """Send ``batch``; raise a :class:`DeliveryError` subclass when not fully accepted."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def apply_substitutions(template: str, substitutions: dict[str, str]) -> str:
    """Replace each placeholder in ``template`` (what SendGrid does on its side)."""
    for placeholder, value in substitutions.items():
        template = template.replace(placeholder, value)
    return template


@dataclass(frozen=True, slots=True)
class MailBackend:
    """One way of sending mail: the settings it needs and how to build its sender."""

    name: str
    build: Callable[[Settings], EmailSender]
    # Settings that must be set when MAIL_BACKEND names this backend.
    requires: tuple[str, ...] = ()


def _sendgrid(settings: Settings) -> EmailSender:
    from distributor.adapters.sendgrid import SendGridEmailSender

    return SendGridEmailSender(
        api_key=settings.SENDGRID_API_KEY or "",
        host=settings.SENDGRID_API_HOST,
        timeout_seconds=settings.SENDGRID_TIMEOUT_SECONDS,
    )


def _smtp(settings: Settings) -> EmailSender:
    from distributor.adapters.smtp import SmtpEmailSender

    return SmtpEmailSender(settings.SMTP_URL or "")


def _outbox(settings: Settings) -> EmailSender:
    from distributor.adapters.outbox import OutboxEmailSender

    return OutboxEmailSender(settings.outbox_dir)


# The mail backends by their MAIL_BACKEND name. A new one is one adapter module and one entry.
MAIL_BACKENDS: Mapping[str, MailBackend] = {
    backend.name: backend
    for backend in (
        MailBackend("sendgrid", _sendgrid, requires=("SENDGRID_API_KEY",)),
        MailBackend("smtp", _smtp, requires=("SMTP_URL",)),
        MailBackend("outbox", _outbox),
    )
}


def email_sender_for(settings: Settings) -> EmailSender:
    """The sender of the configured mail backend (:attr:`Settings.sender_kind`)."""
    return MAIL_BACKENDS[settings.sender_kind].build(settings)
