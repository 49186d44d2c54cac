"""The issue and batch lifecycles, every state against every event.

The expected moves are written out here a second time, by hand, so a change to the tables in
``distributor.domain.issues`` has to be made on purpose in two places.
"""

from __future__ import annotations

import pytest

from distributor.domain.issues import (
    BATCH_TRANSITIONS,
    ISSUE_TRANSITIONS,
    BatchEvent,
    BatchStatus,
    IssueEvent,
    IssueState,
    IssueStatus,
    batch_may,
    issue_may,
    issue_state,
)

ST, IE = IssueState, IssueEvent
BS, BE = BatchStatus, BatchEvent

# event -> (the states it may leave, the state it leads to)
EXPECTED_ISSUE: dict[IssueEvent, tuple[set[IssueState], IssueState]] = {
    IE.SCHEDULE: ({ST.DRAFT, ST.SCHEDULED, ST.HELD}, ST.SCHEDULED),
    IE.SEND_NOW: ({ST.DRAFT, ST.SCHEDULED, ST.HELD}, ST.SCHEDULED),
    IE.CANCEL: ({ST.DRAFT, ST.SCHEDULED, ST.HELD}, ST.CANCELLED),
    IE.HOLD: ({ST.SCHEDULED}, ST.HELD),
    IE.START: ({ST.SCHEDULED}, ST.SENDING),
    IE.PAUSE: ({ST.SENDING}, ST.PAUSED),
    IE.RESUME: ({ST.PAUSED}, ST.SENDING),
    IE.RELEASE: ({ST.HELD}, ST.SCHEDULED),
    IE.FINISH: ({ST.SENDING}, ST.SENT),
    IE.FINISH_WITH_FAILURES: ({ST.SENDING}, ST.PARTIALLY_FAILED),
}

EXPECTED_BATCH: dict[BatchEvent, tuple[set[BatchStatus], BatchStatus]] = {
    BE.PUBLISH: ({BS.PENDING, BS.QUEUED}, BS.QUEUED),
    BE.CLAIM: ({BS.PENDING, BS.QUEUED}, BS.SENDING),
    BE.RELEASE: ({BS.SENDING, BS.AMBIGUOUS}, BS.QUEUED),
    BE.RECORD_SENT: ({BS.SENDING, BS.AMBIGUOUS}, BS.SENT),
    BE.RECORD_RETRY: ({BS.SENDING, BS.AMBIGUOUS}, BS.QUEUED),
    BE.RECORD_FAILED: ({BS.SENDING, BS.AMBIGUOUS}, BS.FAILED),
    BE.RECORD_PARKED: ({BS.SENDING, BS.AMBIGUOUS}, BS.PARKED),
    BE.RECORD_UNKNOWN: ({BS.SENDING, BS.AMBIGUOUS}, BS.AMBIGUOUS),
    BE.EXPIRE_LEASE: ({BS.SENDING}, BS.AMBIGUOUS),
    BE.CONFIRM: ({BS.AMBIGUOUS}, BS.SENT),
    BE.REQUEUE: ({BS.AMBIGUOUS}, BS.QUEUED),
    BE.GIVE_UP: ({BS.AMBIGUOUS}, BS.PARKED),
    BE.REOPEN: ({BS.QUEUED}, BS.PENDING),
}


def test_every_event_has_a_row() -> None:
    assert set(ISSUE_TRANSITIONS) == set(IssueEvent) == set(EXPECTED_ISSUE)
    assert set(BATCH_TRANSITIONS) == set(BatchEvent) == set(EXPECTED_BATCH)


@pytest.mark.parametrize("event", list(IssueEvent))
@pytest.mark.parametrize("state", list(IssueState))
def test_issue_state_by_event(state: IssueState, event: IssueEvent) -> None:
    sources, target = EXPECTED_ISSUE[event]
    assert issue_may(state, event) is (state in sources)
    assert ISSUE_TRANSITIONS[event].target is target


@pytest.mark.parametrize("event", list(BatchEvent))
@pytest.mark.parametrize("status", list(BatchStatus))
def test_batch_status_by_event(status: BatchStatus, event: BatchEvent) -> None:
    sources, target = EXPECTED_BATCH[event]
    assert batch_may(status, event) is (status in sources)
    assert BATCH_TRANSITIONS[event].target is target


def test_final_states_have_no_way_out() -> None:
    for state in (ST.SENT, ST.PARTIALLY_FAILED, ST.CANCELLED):
        assert not any(issue_may(state, event) for event in IssueEvent)
    for status in (BS.SENT, BS.FAILED, BS.PARKED):
        assert not any(batch_may(status, event) for event in BatchEvent)


def test_held_is_a_paused_issue_that_never_started() -> None:
    assert issue_state(IssueStatus.PAUSED, started=False) is ST.HELD
    assert issue_state(IssueStatus.PAUSED, started=True) is ST.PAUSED
    assert issue_state(IssueStatus.SENDING, started=True) is ST.SENDING
    assert ST.HELD.status is IssueStatus.PAUSED
    assert {state.status for state in IssueState} == set(IssueStatus)
