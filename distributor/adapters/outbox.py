"""Outbox sender: writes one .eml file per recipient into a folder (the embedded default).

Files are named after the batch reference and the delivery id, and written atomically (temp
file + rename), so sending the same delivery twice overwrites one file instead of adding another.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from distributor.adapters.email_base import OutgoingBatch, SendReceipt
from distributor.adapters.smtp import build_message

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxEmailSender:
    """:class:`~distributor.adapters.email_base.EmailSender` that stores messages as files."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def path_for(self, batch: OutgoingBatch, delivery_id: int) -> Path:
        """Where the message for ``delivery_id`` of ``batch`` is written."""
        reference = _SAFE.sub("-", batch.reference) or "message"
        return self._folder / f"{reference}-delivery-{delivery_id}.eml"

    def send_batch(self, batch: OutgoingBatch) -> SendReceipt:
        """Write every recipient's message; all are accepted."""
        self._folder.mkdir(parents=True, exist_ok=True)
        accepted: list[int] = []
        for recipient in batch.recipients:
            target = self.path_for(batch, recipient.delivery_id)
            temporary = target.with_suffix(f".tmp{os.getpid()}")
            temporary.write_bytes(build_message(batch, recipient).as_bytes())
            temporary.replace(target)
            accepted.append(recipient.delivery_id)
        return SendReceipt(provider_message_id=None, accepted_ids=accepted)

    def close(self) -> None:
        """Nothing to release."""


def erase_outbox_messages(folder: Path, address: str) -> int:
    """Delete every stored message in ``folder`` addressed to (or mentioning) ``address``;
    returns how many files went. Used when a reader is erased."""
    if not folder.is_dir():
        return 0
    needle = address.strip().lower().encode("utf-8")
    removed = 0
    for path in folder.iterdir():
        if not path.is_file() or not (path.suffix == ".eml" or ".tmp" in path.suffix):
            continue
        try:
            if needle in path.read_bytes().lower():
                path.unlink()
                removed += 1
        except FileNotFoundError:  # sent again and replaced meanwhile
            continue
    return removed
