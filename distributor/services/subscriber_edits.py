"""An editor's corrections to a reader: name, address and language (the desk's subscriber page).

A new address is checked like any address, must not belong to another reader and must not be
suppressed (the suppression list names addresses that are never mailed again); the row's
address hash follows the address, so suppression and erasure keep finding the reader.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.db.models import Subscriber, Subscription
from distributor.domain.addresses import canonical_email, email_problem
from distributor.domain.subscribers import SubscriberStatus, reader_state
from distributor.services import suppression
from distributor.services.subscribers import (
    SubscriberError,
    _clean_language,
    _clean_name,
)


def correct_subscriber(
    session: Session, subscriber_id: int, *, email: str, name: str, language: str
) -> list[str]:
    """Set the reader's address, name and language; the names of the fields that changed.

    Raises :class:`SubscriberError` naming the field that is wrong.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberError(f"there is no reader {subscriber_id}")
    if subscriber.status == SubscriberStatus.ERASED or subscriber.email is None:
        raise SubscriberError("this reader was erased: nothing is left to correct")
    problem = email_problem(email.strip())
    if problem:
        raise SubscriberError(f"address: {problem}")
    address = canonical_email(email.strip())
    try:
        cleaned_name = _clean_name(name)
    except SubscriberError as exc:
        raise SubscriberError(f"name: {exc}") from None
    try:
        cleaned_language = _clean_language(language)
    except SubscriberError as exc:
        raise SubscriberError(f"language: {exc}") from None
    # Everything is checked before anything changes: a refusal leaves the reader as they were.
    changed = []
    if address != subscriber.email:
        other = session.scalar(select(Subscriber.id).where(Subscriber.email == address))
        if other is not None:
            raise SubscriberError(
                f"address: {address} is already reader #{other}; correct or erase that one"
            )
        if suppression.is_suppressed(session, address):
            raise SubscriberError(
                f"address: {address} is on the suppression list and is never mailed; lift the "
                "suppression first if the reader asked for it"
            )
        subscriber.email = address
        subscriber.email_hash = suppression.address_hash(address)
        changed.append("address")
    if cleaned_name != subscriber.name:
        subscriber.name = cleaned_name
        changed.append("name")
    if cleaned_language != subscriber.language:
        subscriber.language = cleaned_language
        changed.append("language")
    session.flush()
    return changed


def reader_states(session: Session, subscribers: list[Subscriber]) -> dict[int, str]:
    """:func:`~distributor.domain.subscribers.reader_state` of each reader, by id."""
    memberships: dict[int, list[str]] = {subscriber.id: [] for subscriber in subscribers}
    for subscriber_id, status in session.execute(
        select(Subscription.subscriber_id, Subscription.status).where(
            Subscription.subscriber_id.in_(list(memberships))
        )
    ):
        memberships[subscriber_id].append(status)
    return {
        subscriber.id: reader_state(subscriber.status, memberships[subscriber.id])
        for subscriber in subscribers
    }
