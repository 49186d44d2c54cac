"""Moves along the issue and batch lifecycles, each one compare-and-set UPDATE.

The allowed moves are data (:data:`~distributor.domain.issues.ISSUE_TRANSITIONS`,
:data:`~distributor.domain.issues.BATCH_TRANSITIONS`); this module is the only place that
writes a new ``status`` to ``issues`` or ``send_batches``. The UPDATE matches a row only while
it is still in one of the move's source states (and meets the caller's extra conditions, such
as a claim token), so two actors racing on the same row cannot both win: the loser's UPDATE
matches nothing and it learns so from the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, update
from sqlalchemy.orm import Session

from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import (
    BATCH_TRANSITIONS,
    ISSUE_TRANSITIONS,
    BatchEvent,
    IssueEvent,
    IssueState,
    IssueStatus,
)


def issue_in_states(states: Iterable[IssueState]) -> ColumnElement[bool]:
    """SQL: the issue row is in one of ``states`` (held and paused told apart by a start time)."""
    wanted = set(states)
    plain = sorted(state.status.value for state in wanted - {IssueState.HELD, IssueState.PAUSED})
    parts: list[ColumnElement[bool]] = []
    if plain:
        parts.append(Issue.status.in_(plain))
    if IssueState.PAUSED in wanted:
        parts.append(and_(Issue.status == IssueStatus.PAUSED, Issue.started_at.is_not(None)))
    if IssueState.HELD in wanted:
        parts.append(and_(Issue.status == IssueStatus.PAUSED, Issue.started_at.is_(None)))
    return or_(*parts) if parts else false()


def move_all(
    session: Session,
    event: IssueEvent | BatchEvent,
    *where: ColumnElement[bool],
    values: Mapping[str, Any] | None = None,
) -> int:
    """Apply ``event`` to every row that allows it and meets ``where``; how many moved.

    ``values`` are the other columns to set; the new status comes from the transition table.
    Does not commit.
    """
    extra = dict(values or {})
    if "status" in extra:
        raise ValueError("the new status comes from the transition table, not from values")
    statement: Any
    if isinstance(event, IssueEvent):
        issue_move = ISSUE_TRANSITIONS[event]
        statement = update(Issue).where(issue_in_states(issue_move.sources), *where)
        extra["status"] = issue_move.target.status
    else:
        batch_move = BATCH_TRANSITIONS[event]
        sources = sorted(status.value for status in batch_move.sources)
        statement = update(SendBatch).where(SendBatch.status.in_(sources), *where)
        extra["status"] = batch_move.target
    result = session.execute(statement.values(extra).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def move(
    session: Session,
    event: IssueEvent | BatchEvent,
    row_id: int,
    *where: ColumnElement[bool],
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Apply ``event`` to the issue or batch ``row_id``; False when it was not in a state (or
    did not meet ``where``) that allows the move. Does not commit."""
    key = Issue.id if isinstance(event, IssueEvent) else SendBatch.id
    return move_all(session, event, key == row_id, *where, values=values) == 1
