"""Tasks keep one email sender per process, but never one bound to other settings: a process
whose settings change (tests, a re-configured embedded service) sends to the new outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from distributor.config import Settings
from tests.conftest import make_settings


def test_a_sender_is_reused_only_for_the_same_settings(
    tmp_path: Path, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers import tasks

    tasks._email_senders.clear()
    try:
        first = use_settings(make_settings(tmp_path / "a", MAIL_BACKEND="outbox"))
        sender_a = tasks._email_sender()
        assert tasks._email_sender() is sender_a
        second = use_settings(make_settings(tmp_path / "b", MAIL_BACKEND="outbox"))
        sender_b = tasks._email_sender()
        assert sender_b is not sender_a
        assert first.outbox_dir != second.outbox_dir
        assert str(second.outbox_dir) in repr(vars(sender_b))
    finally:
        tasks._email_senders.clear()
