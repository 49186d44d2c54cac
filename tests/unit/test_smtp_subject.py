"""The Subject a mail client shows is the subject we set, spaces included (RFC 2047)."""

from __future__ import annotations

import email
import email.policy

import pytest

from distributor.adapters.email_base import OutgoingBatch, OutgoingRecipient
from distributor.adapters.smtp import build_message


@pytest.mark.parametrize(
    "subject",
    [
        # Python's own folding put the space between two encoded words, where readers drop it.
        "<img src=x onerror=alert(1)> <img src=x onerror=alert(1)> 夜班 夜班",
        "夜班 夜班 " * 12,
        "Café  double  space — می\u200cخواهم 👩\u200d💻 end",
        "Une lettre\u202f: « guillemets » et espaces fines\u00a0!",
        "A plain ASCII subject that is long enough to be folded over more than one line, surely",
    ],
)
def test_the_subject_arrives_exactly_as_written(subject: str) -> None:
    batch = OutgoingBatch(
        from_email="news@news.example.org",
        from_name="Harbour",
        subject=subject,
        text="text",
        html="<p>html</p>",
        recipients=[],
    )
    recipient = OutgoingRecipient(delivery_id=1, email="reader@example.org", name=None)
    raw = build_message(batch, recipient).as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\n\n", 1)[0].splitlines())
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(message["Subject"]) == subject
