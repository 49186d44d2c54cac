"""OutboxEmailSender: one .eml per recipient; a re-send overwrites instead of duplicating."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from distributor.adapters.email_base import OutgoingBatch, OutgoingRecipient
from distributor.adapters.outbox import OutboxEmailSender


def _batch() -> OutgoingBatch:
    return OutgoingBatch(
        from_email="news@news.example.org",
        from_name="The Magazine",
        subject="River towns",
        text="Hi -name-\nUnsubscribe: -u-",
        html='<p>Hi -name-</p><a href="-u-">Unsubscribe</a>',
        recipients=[
            OutgoingRecipient(
                n,
                f"r{n}@example.org",
                f"Reader {n}",
                {"-name-": f"Reader {n}", "-u-": f"https://news.example.org/unsubscribe/t{n}"},
                {"List-Unsubscribe": f"<https://news.example.org/unsubscribe/t{n}>"},
            )
            for n in (1, 2)
        ],
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        reference="issue-9",
    )


def test_outbox_writes_personalised_multipart_messages(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path / "outbox")
    receipt = sender.send_batch(_batch())
    sender.send_batch(_batch())  # the same deliveries again
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == ["issue-9-delivery-1.eml", "issue-9-delivery-2.eml"]
    assert receipt.accepted_ids == [1, 2]
    message = email.message_from_bytes(files[1].read_bytes(), policy=policy.default)
    assert message["To"] == "Reader 2 <r2@example.org>"
    assert message["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/t2>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hi Reader 2" in text
    assert "https://news.example.org/unsubscribe/t2" in text
    assert "-u-" not in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
