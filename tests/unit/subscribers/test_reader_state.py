"""What the desk calls a reader, from their status and their memberships."""

from __future__ import annotations

import pytest

from distributor.domain.subscribers import reader_state


@pytest.mark.parametrize(
    ("status", "memberships", "shown"),
    [
        ("active", ["confirmed"], "active"),
        ("active", ["confirmed", "unsubscribed"], "active"),
        ("active", ["unsubscribed"], "left every list"),
        ("active", ["unsubscribed", "unsubscribed"], "left every list"),
        ("active", [], "on no list"),
        ("active", ["unconfirmed"], "unconfirmed"),
        ("active", ["unconfirmed", "unsubscribed"], "unconfirmed"),
        ("erased", [], "erased"),
    ],
)
def test_reader_state(status: str, memberships: list[str], shown: str) -> None:
    assert reader_state(status, memberships) == shown
