"""Emails to the desk users about an issue: a draft from a schedule is ready, an issue
finished (with its report link), an issue was paused for errors or held for an embargo.

The event is recorded as a ``desk_notifications`` row in the transaction that made it happen
(:func:`record_notification`), and mailed afterwards by :func:`deliver_notifications` (the
``distributor.notify_desk`` task): a send that fails does not undo the event, and
UNIQUE(kind, issue, event key) records each event once, however often the code that noticed
it runs. A row is claimed (``pending -> sending``) and committed before the provider is
called, so two workers never mail one row; a worker that dies in between leaves it
``sending`` (not mailed twice). Transient failures are retried a few times.

The message goes to every desk user (the newsroom's editors and admins) through the
configured sender, like the confirmation emails, each in their own desk language
(``users.language``, else English): one batch per language. It carries no reader's data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from distributor import resources
from distributor.adapters.email_base import (
    DeliveryError,
    EmailSender,
    OutgoingBatch,
    OutgoingRecipient,
    TransientDeliveryError,
    email_sender_for,
)
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import DeskNotification, Issue, User
from distributor.i18n import gettext, install_in, shipped_language, text_direction, use_language

log = logging.getLogger("distributor.desk_notifications")

# A desk account whose password is this marker cannot sign in (see services.users).
_DISABLED_PASSWORD = "!disabled"  # noqa: S105 - a marker, not a credential
MAX_ATTEMPTS = 5


class NotificationKind(StrEnum):
    """What happened to the issue."""

    DRAFT_READY = "draft_ready"
    FINISHED = "finished"
    PAUSED = "paused"
    HELD = "held"


def _subject_template(kind: NotificationKind) -> str:
    """The subject line of ``kind``, in the language in force."""
    if kind is NotificationKind.DRAFT_READY:
        return gettext("Draft ready for review: %(subject)s")
    if kind is NotificationKind.FINISHED:
        return gettext("Issue sent: %(subject)s")
    if kind is NotificationKind.PAUSED:
        return gettext("Issue paused: %(subject)s")
    return gettext("Issue held: %(subject)s")


def record_notification(
    session: Session,
    kind: NotificationKind,
    issue_id: int,
    *,
    event_key: str = "",
    detail: str | None = None,
) -> bool:
    """Record that the desk should hear of ``kind`` for ``issue_id`` (once per ``event_key``);
    True when this call recorded it. Part of the caller's transaction (does not commit)."""
    values = {
        "kind": kind.value,
        "issue_id": issue_id,
        "event_key": event_key[:100],
        "detail": detail,
        "status": "pending",
        "attempts": 0,
        "created_at": SYSTEM_CLOCK.now(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(DeskNotification)
        .values(values)
        .on_conflict_do_nothing(index_elements=["kind", "issue_id", "event_key"])
        .returning(DeskNotification.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def desk_addresses(session: Session) -> list[str]:
    """The addresses of the desk users who can sign in."""
    return list(
        session.scalars(
            select(User.email).where(User.password_hash != _DISABLED_PASSWORD).order_by(User.id)
        )
    )


def desk_addresses_by_language(session: Session) -> dict[str, list[str]]:
    """The addresses of the desk users who can sign in, by the shipped language each reads
    the desk in (their saved ``language``, else English); English first."""
    grouped: dict[str, list[str]] = {}
    rows = session.execute(
        select(User.email, User.language)
        .where(User.password_hash != _DISABLED_PASSWORD)
        .order_by(User.id)
    ).all()
    for email, language in rows:
        grouped.setdefault(shipped_language(language), []).append(email)
    return dict(sorted(grouped.items(), key=lambda item: item[0] != "en"))


_environment = Environment(
    loader=FileSystemLoader(str(resources.TEMPLATES_DIR / "email")),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
install_in(_environment, domain="desk")


@dataclass(frozen=True, slots=True)
class NotificationMessage:
    """The subject and the two bodies of one notification."""

    subject: str
    text: str
    html: str


def build_message(
    settings: Settings,
    kind: NotificationKind,
    issue: Issue,
    detail: str | None,
    language: str | None = None,
) -> NotificationMessage:
    """The email for ``kind`` about ``issue`` in the desk ``language`` (English by default);
    the link opens the issue in the desk (its preview, schedule and, once sent, its report)."""
    subject_line = " ".join(issue.subject.split())
    with use_language(language) as shipped:
        context = {
            "kind": kind.value,
            "issue": issue,
            "subject": subject_line,
            "detail": detail or "",
            "link": f"{settings.PUBLIC_BASE_URL}/issues/{issue.id}",
            "publisher": settings.PUBLISHER_NAME,
            "lang": shipped,
            "dir": text_direction(shipped),
            "status": _status_words(issue.status),
        }
        return NotificationMessage(
            subject=(_subject_template(kind) % {"subject": subject_line})[:300],
            text=_environment.get_template("desk_notification.txt.j2").render(context),
            html=_environment.get_template("desk_notification.html.j2").render(context),
        )


def N_(message: str) -> str:  # noqa: N802 - the conventional name gettext extraction knows
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


# An issue's status in words, as the desk pages name it.
_STATUS_WORDS = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "sending": N_("sending"),
    "paused": N_("paused"),
    "sent": N_("sent"),
    "partially_failed": N_("partially failed"),
    "cancelled": N_("cancelled"),
}


def _status_words(status: str) -> str:
    """An issue status in words, in the language in force."""
    value = str(status or "")
    return gettext(_STATUS_WORDS.get(value, value.replace("_", " ")))


@dataclass
class NotificationReport:
    """What one :func:`deliver_notifications` call did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    without_recipients: int = 0


def deliver_notifications(
    session: Session,
    settings: Settings,
    sender: EmailSender | None = None,
    *,
    limit: int = 50,
    now: datetime | None = None,
) -> NotificationReport:
    """Mail up to ``limit`` pending notifications to the desk users. Commits."""
    report = NotificationReport()
    session.commit()
    pending = list(
        session.scalars(
            select(DeskNotification.id)
            .where(DeskNotification.status == "pending")
            .order_by(DeskNotification.id)
            .limit(limit)
        )
    )
    if not pending:
        return report
    own_sender = sender is None
    chosen = sender or email_sender_for(settings)
    try:
        for notification_id in pending:
            _deliver_one(
                session,
                settings,
                chosen,
                notification_id,
                report=report,
                now=now or SYSTEM_CLOCK.now(),
            )
    finally:
        if own_sender:
            chosen.close()
    return report


def _deliver_one(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    notification_id: int,
    *,
    report: NotificationReport,
    now: datetime,
) -> None:
    claimed = session.execute(
        update(DeskNotification)
        .where(DeskNotification.id == notification_id, DeskNotification.status == "pending")
        .values(status="sending", attempts=DeskNotification.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if not getattr(claimed, "rowcount", 0):
        return  # another worker has it
    notification = session.get(DeskNotification, notification_id, populate_existing=True)
    assert notification is not None
    issue = session.get(Issue, notification.issue_id)
    groups = desk_addresses_by_language(session)
    if issue is None or not groups:
        report.without_recipients += 1
        _finish(session, notification_id, "sent", now, "no desk user to tell")
        return
    # A retry after a temporary failure sends only the languages not yet sent.
    already_sent = set(notification.sent_languages or [])
    batches: list[tuple[str, OutgoingBatch]] = []
    position = 0
    for language, addresses in groups.items():
        if language in already_sent:
            continue
        message = build_message(
            settings, NotificationKind(notification.kind), issue, notification.detail, language
        )
        recipients = []
        for address in addresses:
            position += 1
            recipients.append(
                OutgoingRecipient(
                    delivery_id=position,
                    email=address,
                    name=None,
                    custom_args={"dst_kind": "desk_notification"},
                )
            )
        batches.append(
            (
                language,
                OutgoingBatch(
                    from_email=settings.MAIL_FROM,
                    from_name=settings.MAIL_FROM_NAME,
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    recipients=recipients,
                    reply_to=settings.MAIL_REPLY_TO,
                    categories=["desk-notification"],
                    reference=f"desk-notification-{notification_id}"
                    + ("" if language == "en" else f"-{language}"),
                ),
            )
        )
    try:
        for language, batch in batches:
            sender.send_batch(batch)
            already_sent.add(language)
            session.execute(
                update(DeskNotification)
                .where(DeskNotification.id == notification_id)
                .values(sent_languages=sorted(already_sent))
                .execution_options(synchronize_session=False)
            )
            session.commit()
    except TransientDeliveryError as error:
        attempts = notification.attempts
        status = "pending" if attempts < MAX_ATTEMPTS else "failed"
        _finish(session, notification_id, status, None, error.message)
        log.warning("desk notification %s not sent (attempt %s)", notification_id, attempts)
        if status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
        return
    except DeliveryError as error:
        _finish(session, notification_id, "failed", None, error.message)
        log.error("desk notification %s refused by the provider", notification_id)
        report.failed += 1
        return
    _finish(session, notification_id, "sent", now, None)
    report.sent += 1


def _finish(
    session: Session, notification_id: int, status: str, sent_at: datetime | None, error: str | None
) -> None:
    session.execute(
        update(DeskNotification)
        .where(DeskNotification.id == notification_id)
        .values(status=status, sent_at=sent_at, last_error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()
