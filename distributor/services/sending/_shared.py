"""Internal to the sending package: what several of its modules share.

The logger, the attempt limit, the doorbell's type, and the one UPDATE that moves
pending ledger rows of a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from distributor.db.models import Delivery
from distributor.domain.issues import DeliveryStatus

log = logging.getLogger("distributor.sending")


# Rings the doorbell of one batch (publishes its task).
Publisher = Callable[[int], None]


def mark_deliveries(
    session: Session,
    batch_id: int,
    ids: list[int] | None,
    status: str,
    now: datetime,
    *,
    detail: str | None = None,
    message_id: str | None = None,
) -> int:
    """Move pending deliveries of a batch (all, or ``ids``) to ``status``."""
    if ids is not None and not ids:
        return 0
    statement = update(Delivery).where(
        Delivery.batch_id == batch_id, Delivery.status == DeliveryStatus.PENDING
    )
    if ids is not None:
        statement = statement.where(Delivery.id.in_(ids))
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if detail is not None:
        values["detail"] = detail
    if message_id is not None:
        values["provider_message_id"] = message_id
    result = session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
