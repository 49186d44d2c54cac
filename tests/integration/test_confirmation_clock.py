"""The confirmation cool-down reads the injected clock: moving it is letting time pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from distributor.adapters.outbox import OutboxEmailSender
from distributor.clock import FixedClock
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.services.confirmation import send_confirmation
from distributor.services.subscribers import create_list, sign_up
from tests.conftest import make_settings
from tests.support.outbox import read_outbox

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_a_second_confirmation_waits_for_the_cool_down_on_the_clock(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, CONFIRMATION_COOLDOWN_SECONDS="3600")
    clock = FixedClock(T0)
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        signup = sign_up(session, "weekly", "reader@example.org", now=clock.now())
    assert signup.subscriber_id is not None

    def send() -> bool:
        with unit_of_work(settings.database_url) as session:
            return send_confirmation(
                session,
                settings,
                signup.subscriber_id,  # type: ignore[arg-type]
                signup.list_id,
                OutboxEmailSender(settings.outbox_dir),
                clock=clock,
            )

    assert send()
    clock.advance(timedelta(minutes=59))
    assert not send()  # within the hour
    clock.advance(timedelta(minutes=1))
    assert send()
    sent = read_outbox(settings.outbox_dir, "confirmation-")
    assert len(sent) == 2
