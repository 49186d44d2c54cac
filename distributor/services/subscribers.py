"""Lists and their readers: create lists, sign up, confirm, leave, preferences, erase.

Every function takes a session and leaves committing to the caller (a web request, a CLI
command or a task opens the unit of work). Answers to the public never reveal whether an
address is known: the routes show the same page whatever happened here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from distributor.adapters.outbox import erase_outbox_messages
from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import (
    Delivery,
    Issue,
    IssueList,
    MailingList,
    SendBatch,
    Subscriber,
    Subscription,
    Suppression,
)
from distributor.domain.addresses import canonical_email, email_problem
from distributor.domain.header_text import line_break_problem
from distributor.domain.issues import IssueStatus
from distributor.domain.languages import (
    LanguageTagError,
    language_tag_problem,
    normalise_language_tag,
)
from distributor.domain.subscribers import (
    ADDRESS_PLACEHOLDER,
    ListVisibility,
    OptIn,
    SubscriberStatus,
    SubscriptionStatus,
    SuppressionReason,
    without_addresses,
)
from distributor.domain.text import normalise_space
from distributor.services import audit, suppression
from distributor.services.activation import mark_activated
from distributor.services.provider_events import scrub_events_of

# Double opt-in links stop working after this long; the reader can sign up again.
CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_NAME_LENGTH = 300

_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Suppressions that a reader lifts by resubscribing through their own signed link: they
# prove the mailbox works and that they want the mail. Operator and erasure blocks stay.
_READER_LIFTABLE = frozenset(
    {
        SuppressionReason.UNSUBSCRIBE.value,
        SuppressionReason.SPAM_REPORT.value,
        SuppressionReason.SOFT_BOUNCES.value,
        SuppressionReason.HARD_BOUNCE.value,
        SuppressionReason.DROPPED.value,
    }
)


class SubscriberError(ValueError):
    """A request about lists or subscribers cannot be done; the message says why."""


class UnknownListError(SubscriberError):
    """No list has that name."""


class ArchivedListError(SubscriberError):
    """The list is archived: it takes no new readers and no new sends."""


class PrivateListError(SubscriberError):
    """The list is private: readers join it only when an operator adds them."""


# ------------------------------------------------------------------------------ validation
def language_problem(language: str) -> str | None:
    """Why ``language`` is not a language tag like ``en`` or ``zh-Hans``, or None."""
    return language_tag_problem(language)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be stored as a reader's name, or None."""
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is longer than {MAX_NAME_LENGTH} characters"
    if _CONTROL.search(name):
        return "the name contains control characters"
    return None


def _clean_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    cleaned = normalise_space(name)
    problem = name_problem(cleaned)
    if problem:
        raise SubscriberError(problem)
    return cleaned


def _clean_language(language: str | None) -> str | None:
    if language is None or not language.strip():
        return None
    try:
        return normalise_language_tag(language)
    except LanguageTagError as error:
        raise SubscriberError(str(error)) from None


# ----------------------------------------------------------------------------------- lists
def create_list(
    session: Session,
    name: str,
    *,
    title: str = "",
    opt_in: OptIn = OptIn.DOUBLE,
    language: str = "en",
    description: str = "",
    visibility: ListVisibility = ListVisibility.PUBLIC,
) -> MailingList:
    """Create the list ``name`` (lower-case letters, digits, - and _).

    Public by default, as every list was open to signup before lists had a visibility.
    """
    if not _LIST_NAME.match(name):
        raise SubscriberError(
            f"list name {name!r} must be 1-100 lower-case letters, digits, '-' or '_'"
            " and start with a letter or digit"
        )
    if find_list(session, name) is not None:
        raise SubscriberError(f"a list named {name!r} already exists")
    _refuse_line_break_in_title(title)
    checked_language = _clean_language(language) or "en"
    mailing_list = MailingList(
        name=name,
        title=title.strip() or name,
        opt_in=OptIn(opt_in).value,
        language=checked_language,
        description=description.strip(),
        visibility=_checked_visibility(visibility),
    )
    session.add(mailing_list)
    session.flush()
    audit.record(
        session,
        "list.create",
        "list",
        name,
        changes=audit.diff({}, audit.snapshot(mailing_list, AUDITED_LIST_FIELDS)),
    )
    return mailing_list


AUDITED_LIST_FIELDS = ("title", "opt_in", "language", "description", "visibility", "archived_at")


def _audit_list(session: Session, action: str, mailing_list: MailingList, before: Any) -> None:
    after = audit.snapshot(mailing_list, AUDITED_LIST_FIELDS)
    changes = audit.diff(before, after)
    if changes:
        audit.record(session, action, "list", mailing_list.name, changes=changes)


def _refuse_line_break_in_title(title: str | None) -> None:
    problem = line_break_problem("list title", title.strip() if title else title)
    if problem:
        raise SubscriberError(problem)


def update_list(
    session: Session,
    name: str,
    *,
    title: str | None = None,
    opt_in: OptIn | None = None,
    language: str | None = None,
    description: str | None = None,
    visibility: ListVisibility | None = None,
) -> MailingList:
    """Change the given settings of the list ``name``; the rest keep their values.

    The name itself stays: it is part of every signup and archive address already shared.
    Changing the opt-in applies to new signups; members keep the status they have.
    """
    mailing_list = require_list(session, name)
    before = audit.snapshot(mailing_list, AUDITED_LIST_FIELDS)
    _refuse_line_break_in_title(title)
    if title is not None:
        mailing_list.title = title.strip() or mailing_list.name
    if opt_in is not None:
        mailing_list.opt_in = OptIn(opt_in).value
    if language is not None:
        mailing_list.language = _clean_language(language) or mailing_list.language
    if description is not None:
        mailing_list.description = description.strip()
    if visibility is not None:
        mailing_list.visibility = _checked_visibility(visibility)
    session.flush()
    _audit_list(session, "list.update", mailing_list, before)
    return mailing_list


def _checked_visibility(visibility: str) -> str:
    try:
        return ListVisibility(visibility).value
    except ValueError:
        choices = ", ".join(value.value for value in ListVisibility)
        raise SubscriberError(
            f"visibility {visibility!r} is unknown; choose one of: {choices}"
        ) from None


def is_public(mailing_list: MailingList) -> bool:
    """True when the public may see the list and sign up to it (archived or not)."""
    return mailing_list.visibility == ListVisibility.PUBLIC.value


def find_list(session: Session, name: str) -> MailingList | None:
    """The list called ``name``, if any."""
    return session.scalar(select(MailingList).where(MailingList.name == name))


def require_list(session: Session, name: str) -> MailingList:
    """The list called ``name``, or :class:`UnknownListError` naming the lists that exist."""
    found = find_list(session, name)
    if found is None:
        names = ", ".join(session.scalars(select(MailingList.name).order_by(MailingList.name)))
        raise UnknownListError(f"no list named {name!r} (lists: {names or 'none yet'})")
    return found


def require_open_list(session: Session, name: str) -> MailingList:
    """The list called ``name`` if it takes new readers (it is not archived)."""
    mailing_list = require_list(session, name)
    if mailing_list.archived_at is not None:
        raise ArchivedListError(_archived_message(mailing_list))
    return mailing_list


def _archived_message(mailing_list: MailingList) -> str:
    """What to say when an archived list is asked for new readers or a new send."""
    return (
        f"list {mailing_list.name!r} is archived: it takes no new readers and no new issues"
        f" (unarchive it first: distributor lists unarchive {mailing_list.name})"
    )


_UNFINISHED_SENDS = (IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED)


def archive_list(session: Session, name: str, *, now: datetime | None = None) -> MailingList:
    """Archive the list ``name``: no new readers, no new sends; members and history stay.

    Refused while an issue for the list is scheduled, sending or paused (cancel it, or let
    it finish, first). Archiving an archived list changes nothing.
    """
    mailing_list = require_list(session, name)
    if mailing_list.archived_at is not None:
        return mailing_list
    unfinished = session.execute(
        select(Issue.id, Issue.status)
        .join(IssueList, IssueList.issue_id == Issue.id)
        .where(
            IssueList.list_id == mailing_list.id,
            Issue.status.in_([status.value for status in _UNFINISHED_SENDS]),
        )
        .order_by(Issue.id)
    ).all()
    if unfinished:
        which = ", ".join(f"issue {issue_id} ({status})" for issue_id, status in unfinished)
        raise SubscriberError(
            f"list {name!r} is the audience of {which}: cancel it or let it finish before"
            " archiving the list"
        )
    before = audit.snapshot(mailing_list, AUDITED_LIST_FIELDS)
    mailing_list.archived_at = now or SYSTEM_CLOCK.now()
    session.flush()
    _audit_list(session, "list.archive", mailing_list, before)
    return mailing_list


def unarchive_list(session: Session, name: str) -> MailingList:
    """Open an archived list again, as it was."""
    mailing_list = require_list(session, name)
    before = audit.snapshot(mailing_list, AUDITED_LIST_FIELDS)
    mailing_list.archived_at = None
    session.flush()
    _audit_list(session, "list.unarchive", mailing_list, before)
    return mailing_list


def list_summaries(session: Session) -> list[dict[str, Any]]:
    """Every list with its membership counts by status."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Subscription.list_id, Subscription.status, func.count()).group_by(
            Subscription.list_id, Subscription.status
        )
    )
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[status] = count
    summaries = []
    for mailing_list in session.scalars(select(MailingList).order_by(MailingList.name)):
        by_status = counts.get(mailing_list.id, {})
        summaries.append(
            {
                "id": mailing_list.id,
                "name": mailing_list.name,
                "title": mailing_list.title,
                "opt_in": mailing_list.opt_in,
                "language": mailing_list.language,
                "confirmed": by_status.get(SubscriptionStatus.CONFIRMED.value, 0),
                "unconfirmed": by_status.get(SubscriptionStatus.UNCONFIRMED.value, 0),
                "unsubscribed": by_status.get(SubscriptionStatus.UNSUBSCRIBED.value, 0),
                "archived": mailing_list.archived_at is not None,
                "visibility": mailing_list.visibility,
            }
        )
    return summaries


# ------------------------------------------------------------------------------ subscribers
def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """The (not erased) subscriber with address ``email``."""
    return session.scalar(select(Subscriber).where(Subscriber.email == canonical_email(email)))


def _get_or_create_subscriber(
    session: Session, email: str, name: str | None, language: str | None
) -> Subscriber:
    address = canonical_email(email)
    subscriber = find_subscriber(session, address)
    if subscriber is not None:
        # A reader typing a name on a form fills a blank one; it never overwrites.
        if name and not subscriber.name:
            subscriber.name = name
        if language and not subscriber.language:
            subscriber.language = language
        return subscriber
    # An erased reader coming back reuses the hash-only row instead of a second identity.
    erased = session.scalar(
        select(Subscriber)
        .where(
            Subscriber.email_hash == suppression.address_hash(address),
            Subscriber.status == SubscriberStatus.ERASED.value,
        )
        .limit(1)
    )
    if erased is not None:
        erased.email = address
        erased.name = name
        erased.language = language
        erased.status = SubscriberStatus.ACTIVE.value
        return erased
    subscriber = Subscriber(
        email=address, email_hash=suppression.address_hash(address), name=name, language=language
    )
    session.add(subscriber)
    session.flush()
    return subscriber


@dataclass(frozen=True, slots=True)
class SignupResult:
    """The outcome of :func:`sign_up` (for the caller, never shown to the public)."""

    subscriber_id: int | None
    list_id: int
    status: str  # the membership status after the signup, or "suppressed"
    send_confirmation: bool
    opt_in: str


def sign_up(
    session: Session,
    list_name: str,
    email: str,
    *,
    language: str | None = None,
    now: datetime | None = None,
) -> SignupResult:
    """Sign ``email`` up to ``list_name`` the way the list asks (single or double opt-in).

    Double opt-in leaves the membership unconfirmed and asks the caller to send the
    confirmation email (after commit). Signing up again asks again (the email itself waits
    for the address's cool-down); a confirmed reader stays confirmed; a reader who left is
    asked to confirm again. A suppressed address gets nothing (and the public answer is the
    same). An archived or private list takes nobody new from the public.

    No name is taken from the public: whoever fills in the form may not own the address, and
    a name would greet the reader in every issue. Readers set their name on the preferences
    page, reached from their mailbox.
    """
    mailing_list = require_open_list(session, list_name)
    if not is_public(mailing_list):
        raise PrivateListError(
            f"list {list_name!r} is private: readers join it only when an operator adds them"
        )
    problem = email_problem(email)
    if problem:
        raise SubscriberError(problem)
    clean_language = _clean_language(language)
    email = canonical_email(email)
    double = mailing_list.opt_in == OptIn.DOUBLE.value
    blocked = suppression.suppression_of(session, email)
    # An erased reader may come back, but only by confirming from their mailbox again.
    if blocked is not None and not (double and blocked.reason == SuppressionReason.ERASED):
        return SignupResult(None, mailing_list.id, "suppressed", False, mailing_list.opt_in)
    subscriber = _get_or_create_subscriber(session, email, None, clean_language)
    membership = session.get(Subscription, (subscriber.id, mailing_list.id))
    now = now or SYSTEM_CLOCK.now()
    if membership is None:
        membership = Subscription(subscriber_id=subscriber.id, list_id=mailing_list.id)
        session.add(membership)
        membership.created_at = now
        membership.status = SubscriptionStatus.UNCONFIRMED.value
    if membership.status != SubscriptionStatus.CONFIRMED.value:
        if double:
            membership.status = SubscriptionStatus.UNCONFIRMED.value
        else:
            membership.status = SubscriptionStatus.CONFIRMED.value
            membership.confirmed_at = now
            mark_activated(session, subscriber.id, mailing_list.id)
        membership.unsubscribed_at = None
    session.flush()
    needs_email = double and membership.status == SubscriptionStatus.UNCONFIRMED.value
    return SignupResult(
        subscriber.id, mailing_list.id, membership.status, needs_email, mailing_list.opt_in
    )


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """The outcome of :func:`confirm_subscription`."""

    confirmed: bool
    list_title: str | None
    # "confirmed", "already_confirmed", "left_since" (unsubscribed after the link was
    # sent), "gone" (no such membership: erased or never existed).
    outcome: str


def confirm_subscription(
    session: Session,
    subscriber_id: int,
    list_id: int,
    issued_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ConfirmResult:
    """Confirm a double opt-in membership. Idempotent: a second click changes nothing.

    A reader who unsubscribed after the link was issued is not re-subscribed by an old link.
    """
    membership = session.get(Subscription, (subscriber_id, list_id))
    mailing_list = session.get(MailingList, list_id)
    title = mailing_list.title if mailing_list is not None else None
    if membership is None or mailing_list is None:
        return ConfirmResult(False, title, "gone")
    if membership.status == SubscriptionStatus.CONFIRMED.value:
        return ConfirmResult(True, title, "already_confirmed")
    if membership.status == SubscriptionStatus.UNSUBSCRIBED.value and (
        issued_at is None
        or membership.unsubscribed_at is None
        or membership.unsubscribed_at >= issued_at
    ):
        return ConfirmResult(False, title, "left_since")
    membership.status = SubscriptionStatus.CONFIRMED.value
    membership.confirmed_at = now or SYSTEM_CLOCK.now()
    membership.unsubscribed_at = None
    mark_activated(session, subscriber_id, list_id)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        # The address is proven: a confirmation for another list need not wait.
        subscriber.confirmation_sent_at = None
        blocked = session.scalar(
            select(Suppression).where(Suppression.email_hash == subscriber.email_hash)
        )
        if blocked is not None and blocked.reason == SuppressionReason.ERASED.value:
            session.delete(blocked)
    session.flush()
    return ConfirmResult(True, title, "confirmed")


def unsubscribe_member(session: Session, subscriber_id: int, list_id: int) -> str | None:
    """One-click unsubscribe of one reader from one list, effective now; the list's title.

    Repeating it (or a token of an erased reader) changes nothing and is not an error.
    """
    suppression.unsubscribe(session, subscriber_id, list_id)
    mailing_list = session.get(MailingList, list_id)
    return mailing_list.title if mailing_list is not None else None


def add_subscriber(
    session: Session,
    email: str,
    list_name: str,
    *,
    name: str | None = None,
    language: str | None = None,
    confirmed: bool = False,
    now: datetime | None = None,
) -> Subscription:
    """Add ``email`` to ``list_name`` by an operator (confirmed when they say consent exists)."""
    mailing_list = require_open_list(session, list_name)
    problem = email_problem(email)
    if problem:
        raise SubscriberError(f"{email!r}: {problem}")
    email = canonical_email(email)
    subscriber = _get_or_create_subscriber(
        session, email, _clean_name(name), _clean_language(language)
    )
    membership = session.get(Subscription, (subscriber.id, mailing_list.id))
    status_before = None if membership is None else membership.status
    if membership is None:
        membership = Subscription(
            subscriber_id=subscriber.id,
            list_id=mailing_list.id,
            status=SubscriptionStatus.UNCONFIRMED.value,
            created_at=now or SYSTEM_CLOCK.now(),
        )
        session.add(membership)
    if confirmed and membership.status != SubscriptionStatus.CONFIRMED.value:
        membership.status = SubscriptionStatus.CONFIRMED.value
        membership.confirmed_at = now or SYSTEM_CLOCK.now()
        membership.unsubscribed_at = None
    session.flush()
    if status_before != membership.status:
        audit.record(
            session,
            "subscriber.add",
            "subscriber",
            subscriber.id,
            summary=f"list {list_name}",
            changes={f"lists.{list_name}": [status_before, membership.status]},
        )
    return membership


# ------------------------------------------------------------------------------ preferences
@dataclass(frozen=True, slots=True)
class ListChoice:
    """One list on the preferences page."""

    list_id: int
    name: str
    title: str
    description: str
    status: str | None  # the reader's membership status, None when never a member


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the preferences page shows a reader about themselves."""

    subscriber_id: int
    email: str
    name: str | None
    language: str | None
    lists: list[ListChoice] = field(default_factory=list)
    suppressed_reason: str | None = None


def preferences_of(session: Session, subscriber_id: int) -> Preferences | None:
    """The preferences of a reader, or None when they were erased or never existed."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email is None:
        return None
    memberships = {
        row.list_id: row.status
        for row in session.scalars(
            select(Subscription).where(Subscription.subscriber_id == subscriber_id)
        )
    }
    lists = [
        ListChoice(item.id, item.name, item.title, item.description, memberships.get(item.id))
        for item in session.scalars(select(MailingList).order_by(MailingList.title))
        if _shown_to_reader(item, memberships.get(item.id))
    ]
    blocked = session.scalar(
        select(Suppression.reason).where(Suppression.email_hash == subscriber.email_hash)
    )
    return Preferences(
        subscriber.id, subscriber.email, subscriber.name, subscriber.language, lists, blocked
    )


def _shown_to_reader(mailing_list: MailingList, status: str | None) -> bool:
    """Whether a reader with membership ``status`` (None: never a member) sees the list.

    Open public lists: everyone. Archived public lists: their members, past or present (they
    may still leave). Private lists: only readers on them now (they may leave, never join).
    """
    if not is_public(mailing_list):
        return status is not None and status != SubscriptionStatus.UNSUBSCRIBED.value
    return mailing_list.archived_at is None or status is not None


def update_preferences(
    session: Session,
    subscriber_id: int,
    *,
    wanted_list_ids: set[int],
    language: str | None,
    name: str | None,
    now: datetime | None = None,
) -> Preferences | None:
    """Apply a reader's choices: join the lists in ``wanted_list_ids``, leave the others.

    The reader reached this through a signed link sent to their mailbox, so joining a list
    here needs no further confirmation, and lifts a suppression the reader caused. Only open
    public lists can be joined; a private or archived list the reader is on can only be left
    (ticking it keeps the membership as it is), and other lists' ids are ignored.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email is None:
        return None
    if audit.actor_of(session) is not None:
        audit.record(
            session,
            "subscriber.preferences",
            "subscriber",
            subscriber_id,
            changes=audit.diff(
                {"name": subscriber.name, "language": subscriber.language},
                {"name": _clean_name(name), "language": _clean_language(language)},
            ),
            summary=f"lists wanted: {sorted(wanted_list_ids)}",
        )
    subscriber.language = _clean_language(language)
    subscriber.name = _clean_name(name)
    now = now or SYSTEM_CLOCK.now()
    memberships = {
        row.list_id: row
        for row in session.scalars(
            select(Subscription).where(Subscription.subscriber_id == subscriber_id)
        )
    }
    lists = {item.id: item for item in session.scalars(select(MailingList))}
    # Joinable: open public lists. Archived and private lists can only be left (an archived
    # list takes no new readers; a private one only through an operator).
    joinable = {
        list_id for list_id, item in lists.items() if item.archived_at is None and is_public(item)
    }
    kept = {
        list_id
        for list_id, membership in memberships.items()
        if list_id in lists and _shown_to_reader(lists[list_id], membership.status)
    }
    joined = False
    for list_id in sorted(lists):
        membership = memberships.get(list_id)
        if list_id not in joinable and list_id in wanted_list_ids:
            continue  # kept as it is (or, never shown to this reader, ignored)
        if list_id not in joinable and list_id not in kept:
            continue  # not on the reader's page: their choice cannot touch it
        if list_id in wanted_list_ids:
            if membership is None:
                membership = Subscription(
                    subscriber_id=subscriber_id, list_id=list_id, created_at=now
                )
                session.add(membership)
            if membership.status != SubscriptionStatus.CONFIRMED.value:
                membership.status = SubscriptionStatus.CONFIRMED.value
                membership.confirmed_at = now
                membership.unsubscribed_at = None
                mark_activated(session, subscriber_id, list_id)
                joined = True
        elif membership is not None and membership.status != SubscriptionStatus.UNSUBSCRIBED.value:
            suppression.unsubscribe(session, subscriber_id, list_id)
    kept_open = {list_id for list_id in kept if lists[list_id].archived_at is None}
    if joined or wanted_list_ids & (joinable | kept_open):
        blocked = session.scalar(
            select(Suppression).where(Suppression.email_hash == subscriber.email_hash)
        )
        if blocked is not None and blocked.reason in _READER_LIFTABLE:
            session.delete(blocked)
    session.flush()
    return preferences_of(session, subscriber_id)


# ------------------------------------------------------------------------------- erasure
def erase_subscriber(
    session: Session,
    email: str,
    *,
    keep_suppressed: bool = True,
    outbox_dir: Path | None = None,
) -> bool:
    """Remove a reader's personal data on request; True if they were found.

    Name, address, language, attributes and memberships go; the addresses kept on past
    deliveries are blanked, and so is the address wherever a provider, a bounce or an error
    quoted it: provider event payloads are scrubbed (the rows stay, so reports still count),
    suppression details, delivery details, batch errors and pause reasons lose it, and the
    stored messages in ``outbox_dir`` addressed to it are deleted. What stays is the keyed
    address hash: on the subscriber row and, with ``keep_suppressed`` (the default), as an
    "erased" suppression so the address is never mailed again, unless the reader signs up
    anew to a double opt-in list and confirms.
    """
    email = canonical_email(email)
    hashed = suppression.address_hash(email)
    subscriber = find_subscriber(session, email)
    _forget_address(session, email, hashed, outbox_dir)
    if subscriber is None:
        if keep_suppressed and not email_problem(email):
            suppression.suppress(session, email, SuppressionReason.ERASED, "erased on request")
        session.flush()
        audit.record(session, "subscriber.erase", summary="an address on no list was suppressed")
        return False
    for membership in session.scalars(
        select(Subscription).where(Subscription.subscriber_id == subscriber.id)
    ):
        session.delete(membership)
    session.query(Delivery).filter(Delivery.subscriber_id == subscriber.id).update(
        {Delivery.email: None, Delivery.name: None, Delivery.detail: None},
        synchronize_session=False,
    )
    subscriber.email = None
    subscriber.name = None
    subscriber.language = None
    subscriber.attributes = {}
    subscriber.status = SubscriberStatus.ERASED.value
    audit.scrub_reader(session, subscriber.id)
    audit.record(session, "subscriber.erase", "subscriber", subscriber.id, summary="erased")
    if keep_suppressed:
        suppression.suppress_hash(
            session, subscriber.email_hash, SuppressionReason.ERASED, "erased on request"
        )
    session.flush()
    return True


def _forget_address(session: Session, email: str, hashed: str, outbox_dir: Path | None) -> None:
    """Blank ``email`` where it was quoted rather than stored as the reader's address."""
    scrub_events_of(session, hashed)
    pattern = f"%{email}%"
    for model, column in (
        (Suppression, Suppression.detail),
        (Delivery, Delivery.detail),
        (SendBatch, SendBatch.last_error),
        (Issue, Issue.paused_reason),
    ):
        rows = session.execute(
            select(model.id, column).where(func.lower(column).like(pattern))
        ).all()
        for row_id, text in rows:
            session.execute(
                update(model)
                .where(model.id == row_id)
                .values({column: _without(text or "", email)})
                .execution_options(synchronize_session=False)
            )
    if outbox_dir is not None:
        erase_outbox_messages(outbox_dir, email)


def _without(text: str, email: str) -> str:
    """``text`` with ``email`` (any case) and any other address replaced by a placeholder."""
    return without_addresses(re.sub(re.escape(email), ADDRESS_PLACEHOLDER, text, flags=re.I))


def subscriber_details(session: Session, email: str) -> dict[str, Any] | None:
    """Everything stored about ``email`` (for ``subscribers show`` and access requests)."""
    address = canonical_email(email)
    subscriber = find_subscriber(session, address)
    blocked = session.scalar(
        select(Suppression).where(Suppression.email_hash == suppression.address_hash(address))
    )
    if subscriber is None and blocked is None:
        return None
    details: dict[str, Any] = {
        "email": address,
        "suppressed": None
        if blocked is None
        else {
            "reason": blocked.reason,
            "detail": blocked.detail,
            "since": blocked.created_at.isoformat(),
        },
    }
    if subscriber is None:
        details["subscriber"] = None
        return details
    memberships = session.execute(
        select(MailingList.name, Subscription)
        .join(Subscription, Subscription.list_id == MailingList.id)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(MailingList.name)
    )
    details["subscriber"] = {
        "id": subscriber.id,
        "name": subscriber.name,
        "language": subscriber.language,
        "attributes": subscriber.attributes,
        "status": subscriber.status,
        "soft_bounces": subscriber.soft_bounces,
        "created_at": subscriber.created_at.isoformat(),
        "lists": [
            {
                "list": list_name,
                "status": membership.status,
                "confirmed_at": membership.confirmed_at.isoformat()
                if membership.confirmed_at
                else None,
                "unsubscribed_at": membership.unsubscribed_at.isoformat()
                if membership.unsubscribed_at
                else None,
            }
            for list_name, membership in memberships
        ],
    }
    return details
