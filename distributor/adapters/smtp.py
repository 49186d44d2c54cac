"""SMTP sender: one personalised multipart/alternative message per recipient.

``SMTP_URL`` forms: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``
(STARTTLS, then AUTH), ``smtps://user:pass@host:465`` (TLS from the first byte). The connection
is opened once and reused across batches; it is re-opened when the server closed it.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, formatdate
from urllib.parse import unquote, urlsplit

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    OutgoingBatch,
    OutgoingRecipient,
    PermanentDeliveryError,
    SendReceipt,
    TransientDeliveryError,
    apply_substitutions,
)

_TIMEOUT_SECONDS = 30.0


class _EncodedSubject(str):
    """A Subject that folds into encoded words which carry their own spaces.

    Python's email folding writes a non-ASCII subject as a run of encoded words and puts the
    spaces between the words *between* the encoded words, where RFC 2047 says a reader must
    ignore them: "夜班 夜班" arrives as "夜班夜班". Encoding the whole value with
    :class:`email.header.Header` keeps every space inside an encoded word.
    """

    name = "Subject"

    def fold(self, *, policy: EmailPolicy) -> str:
        if self.isascii():
            folded: str = policy.header_factory(self.name, str(self)).fold(policy=policy)
            return folded
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def build_message(batch: OutgoingBatch, recipient: OutgoingRecipient) -> EmailMessage:
    """The personalised MIME message for one recipient (text/plain first, then text/html)."""
    message = EmailMessage()
    message["From"] = formataddr((batch.from_name, batch.from_email))
    message["To"] = formataddr((recipient.name or "", recipient.email))
    message["Subject"] = _EncodedSubject(
        apply_substitutions(batch.subject, recipient.substitutions)
    )
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = batch.from_email.rsplit("@", 1)[-1]
    # Stable per delivery, so a re-send of the same delivery can be recognised downstream.
    message["Message-ID"] = f"<{batch.reference}.delivery-{recipient.delivery_id}@{domain}>"
    if batch.reply_to:
        message["Reply-To"] = batch.reply_to
    for name, value in {**batch.headers, **recipient.headers}.items():
        message[name] = value
    message.set_content(apply_substitutions(batch.text, recipient.substitutions))
    message.add_alternative(
        apply_substitutions(batch.html, recipient.substitutions), subtype="html"
    )
    return message


class SmtpEmailSender:
    """:class:`~distributor.adapters.email_base.EmailSender` over SMTP (smtplib)."""

    def __init__(self, url: str, timeout_seconds: float = _TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
            raise ValueError(
                f"SMTP_URL must look like smtp+starttls://user:pass@host:587 (got {url!r})"
            )
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme]
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout_seconds
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            try:
                status, _ = self._connection.noop()
                if status == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        try:
            connection: smtplib.SMTP
            if self._scheme == "smtps":
                connection = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
                if self._scheme == "smtp+starttls":
                    connection.starttls(context=ssl.create_default_context())
            if self._username:
                connection.login(self._username, self._password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise PermanentDeliveryError(
                f"SMTP login refused: {error.smtp_code} {error.smtp_error!r}"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise TransientDeliveryError(f"could not connect to the SMTP server: {error}") from None
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.close()
        self._connection = None

    def send_batch(self, batch: OutgoingBatch) -> SendReceipt:
        """Send one message per recipient over one connection."""
        accepted: list[int] = []
        rejected: dict[int, str] = {}
        for recipient in batch.recipients:
            message = build_message(batch, recipient)
            connection = self._connect_keeping(accepted)
            try:
                connection.send_message(
                    message, from_addr=batch.from_email, to_addrs=[recipient.email]
                )
            except smtplib.SMTPRecipientsRefused as error:
                code, text = next(iter(error.recipients.values()))
                if 400 <= code < 500:
                    raise TransientDeliveryError(
                        f"{recipient.email}: {code} {text!r}", accepted_ids=accepted
                    ) from None
                rejected[recipient.delivery_id] = f"{code} {text!r}"
                continue
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    raise TransientDeliveryError(
                        f"{recipient.email}: {error.smtp_code} {error.smtp_error!r}",
                        accepted_ids=accepted,
                    ) from None
                if isinstance(error, smtplib.SMTPSenderRefused):
                    raise PermanentDeliveryError(
                        f"sender refused: {error.smtp_code} {error.smtp_error!r}",
                        accepted_ids=accepted,
                    ) from None
                rejected[recipient.delivery_id] = f"{error.smtp_code} {error.smtp_error!r}"
                continue
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._drop()
                # The message data may have reached the server before the connection broke.
                raise AmbiguousDeliveryError(
                    f"connection lost while sending to {recipient.email}: {error}",
                    accepted_ids=accepted,
                ) from None
            accepted.append(recipient.delivery_id)
        return SendReceipt(provider_message_id=None, accepted_ids=accepted, rejected=rejected)

    def _connect_keeping(self, accepted: list[int]) -> smtplib.SMTP:
        try:
            return self._connect()
        except TransientDeliveryError as error:
            raise TransientDeliveryError(error.message, accepted_ids=accepted) from None
        except PermanentDeliveryError as error:
            raise PermanentDeliveryError(error.message, accepted_ids=accepted) from None

    def close(self) -> None:
        """Say QUIT and close the connection."""
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
        self._connection = None
