"""The audit log: every desk, API and command-line action that changes something, with who
did it, when, what, and the before/after of the changed fields.

Who is acting travels on the session (``session.info``): the desk sets the signed-in user when
it loads them, the articles API its key, the command line ``cli:<operating-system user>``.
Services call :func:`record` where they change something; without an actor (a reader on a
public page, a periodic task) nothing is recorded. An entry is written in the same transaction
as the change it describes, so one is never kept without the other.

Entries never carry a reader's address: readers are named by id, and erasing a reader blanks
the entries about them (:func:`scrub_reader`).
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import AuditEntry

ACTOR_KEY = "distributor.actor"


@dataclass(frozen=True)
class Actor:
    """Who acts: a desk ``user`` (``name`` is their email), an ``api`` key, or the ``cli``."""

    kind: str
    name: str
    user_id: int | None = None
    client: str | None = None


def command_line_actor() -> Actor:
    """The operating-system user running a ``distributor`` command."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor("cli", f"cli:{who}")


def act_as(session: Session, actor: Actor) -> None:
    """Record what ``session`` changes from now on as done by ``actor``."""
    session.info[ACTOR_KEY] = actor


def actor_of(session: Session) -> Actor | None:
    value = session.info.get(ACTOR_KEY)
    return value if isinstance(value, Actor) else None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field whose value changed."""
    changed: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old != new:
            changed[name] = [old, new]
    return changed


def snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The values of ``fields`` on ``row``, for :func:`diff`."""
    return {name: _plain(getattr(row, name, None)) for name in fields}


def record(
    session: Session,
    action: str,
    target_type: str | None = None,
    target_id: object = None,
    *,
    summary: str = "",
    changes: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry | None:
    """Add an audit entry for ``action`` on the target, by the session's actor (or
    ``actor``). Does nothing without an actor. Does not commit."""
    who = actor or actor_of(session)
    if who is None:
        return None
    entry = AuditEntry(
        at=SYSTEM_CLOCK.now(),
        actor_kind=who.kind,
        actor=who.name[:320],
        user_id=who.user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:200],
        summary=summary[:2000],
        changes=_plain(dict(changes or {})),
        client=who.client,
    )
    session.add(entry)
    return entry


def scrub_reader(session: Session, subscriber_id: int) -> int:
    """Blank what the entries about a reader say (their erasure); the entries stay, so the
    log still shows that something was done and by whom."""
    result = session.execute(
        update(AuditEntry)
        .where(AuditEntry.target_type == "subscriber", AuditEntry.target_id == str(subscriber_id))
        .values(summary="[erased reader]", changes={})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Entries newest first, filtered (``action`` matches a prefix, e.g. ``issue.``)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if actor:
        query = query.where(AuditEntry.actor == actor.strip())
    if action:
        query = query.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    return list(session.scalars(query.limit(max(1, min(limit, 5000)))))


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_kind": entry.actor_kind,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "summary": entry.summary,
        "changes": entry.changes,
        "client": entry.client,
    }
