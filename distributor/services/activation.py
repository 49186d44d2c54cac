"""Memberships that became active in a transaction (a reader signed up to a single opt-in list,
confirmed, or joined a list on their preferences page), collected for what follows the commit:
the list's welcome email (:mod:`distributor.services.welcome`).

The same pattern as :func:`distributor.services.events.take_dirty_article_ids`: a service marks,
the caller takes after the commit and enqueues.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

_ACTIVATED_KEY = "distributor.activated_memberships"


def mark_activated(session: Session, subscriber_id: int, list_id: int) -> None:
    """Note that ``subscriber_id``'s membership of ``list_id`` just became active (in this
    session's transaction); see :func:`take_activated`."""
    activated: set[tuple[int, int]] = session.info.setdefault(_ACTIVATED_KEY, set())
    activated.add((subscriber_id, list_id))


def take_activated(session: Session) -> list[tuple[int, int]]:
    """The (subscriber, list) memberships marked active in this session (then forgotten).
    Enqueue ``distributor.send_welcome`` for each once the transaction has committed."""
    activated: set[tuple[int, int]] = session.info.pop(_ACTIVATED_KEY, set())
    return sorted(activated)
