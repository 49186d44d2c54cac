"""Reading the messages the outbox sender wrote (``.eml`` files)."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from pathlib import Path


def read_outbox(folder: Path, prefix: str) -> list[Message]:
    """Messages in the outbox whose file names start with ``prefix``, oldest first."""
    paths = sorted(folder.glob(f"{prefix}*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [message_from_bytes(path.read_bytes()) for path in paths]


def body_text(message: Message) -> str:
    """The text/plain part of ``message``."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")
