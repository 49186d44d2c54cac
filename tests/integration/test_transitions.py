"""The compare-and-set helper moves exactly the rows the transition tables allow.

One issue (and one batch) per state, every event tried on all of them at once: the rows that
moved are those whose state the table lists for the event, and they now hold its target.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.db.models import Issue, SendBatch
from distributor.domain.issues import (
    BATCH_TRANSITIONS,
    ISSUE_TRANSITIONS,
    BatchEvent,
    BatchStatus,
    IssueEvent,
    IssueState,
    issue_state,
)
from distributor.services.transitions import move, move_all

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _issues(db: Session) -> dict[IssueState, int]:
    ids: dict[IssueState, int] = {}
    for state in IssueState:
        started = (
            T0 if state not in {IssueState.DRAFT, IssueState.SCHEDULED, IssueState.HELD} else None
        )
        issue = Issue(subject=f"issue {state}", status=state.status, started_at=started)
        db.add(issue)
        db.flush()
        ids[state] = issue.id
    return ids


@pytest.mark.parametrize("event", list(IssueEvent))
def test_issue_moves_follow_the_table(db: Session, event: IssueEvent) -> None:
    ids = _issues(db)
    moved = move_all(db, event, Issue.id.in_(ids.values()), values={"paused_reason": "x"})
    transition = ISSUE_TRANSITIONS[event]
    assert moved == len(transition.sources)
    db.expire_all()
    for state, issue_id in ids.items():
        issue = db.get(Issue, issue_id)
        assert issue is not None
        now = issue_state(issue.status, started=issue.started_at is not None)
        if state in transition.sources:
            assert now is transition.target
            assert issue.paused_reason == "x"
        else:
            assert now is state
            assert issue.paused_reason is None
    db.rollback()


@pytest.mark.parametrize("event", list(BatchEvent))
def test_batch_moves_follow_the_table(db: Session, event: BatchEvent) -> None:
    issue = Issue(subject="batches", status="sending", started_at=T0)
    db.add(issue)
    db.flush()
    ids: dict[BatchStatus, int] = {}
    for seq, status in enumerate(BatchStatus):
        batch = SendBatch(issue_id=issue.id, seq=seq, status=status, claim_token="ours")
        db.add(batch)
        db.flush()
        ids[status] = batch.id
    transition = BATCH_TRANSITIONS[event]
    for status, batch_id in ids.items():
        # Another claimant's token: nothing moves.
        assert not move(db, event, batch_id, SendBatch.claim_token == "theirs")
        assert move(db, event, batch_id, SendBatch.claim_token == "ours") is (
            status in transition.sources
        )
    db.expire_all()
    stored = dict(
        db.execute(
            select(SendBatch.id, SendBatch.status).where(SendBatch.issue_id == issue.id)
        ).all()
    )
    for status, batch_id in ids.items():
        assert stored[batch_id] == (transition.target if status in transition.sources else status)
    db.rollback()


def test_values_may_not_name_the_status(db: Session) -> None:
    with pytest.raises(ValueError, match="transition table"):
        move(db, IssueEvent.PAUSE, 1, values={"status": "sent"})
