"""What happened to one issue: sent, delivered, bounced, complained, unsubscribed.

Counts come from the per-recipient delivery rows (their status is the furthest state a
message reached) and from the provider events tied to them. Opens and clicks are reported
only when the publisher turned tracking on; otherwise they are not collected at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import Delivery, Issue, ProviderEvent
from distributor.domain.issues import DeliveryStatus

# The provider accepted these messages (whatever happened after).
_ACCEPTED = (
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.DEFERRED,
    DeliveryStatus.BOUNCED,
    DeliveryStatus.DROPPED,
    DeliveryStatus.COMPLAINED,
    DeliveryStatus.UNSUBSCRIBED,
)
# A complaint or an unsubscription from a message means it reached the inbox.
_REACHED = (DeliveryStatus.DELIVERED, DeliveryStatus.COMPLAINED, DeliveryStatus.UNSUBSCRIBED)


def _count_where(session: Session, issue_id: int, *conditions: Any) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.issue_id == issue_id, *conditions)
        )
        or 0
    )


def _has_event(*names: str) -> Any:
    return exists().where(
        and_(ProviderEvent.delivery_id == Delivery.id, ProviderEvent.event.in_(names))
    )


def _status_in(*statuses: DeliveryStatus) -> Any:
    return Delivery.status.in_([status.value for status in statuses])


def issue_report(
    session: Session, issue_id: int, settings: Settings | None = None
) -> dict[str, Any]:
    """Per-issue counts of recipients (each recipient counted once per line).

    ``complaint_rate`` is complaints over delivered messages: Gmail and Yahoo want it under
    0.3% (better 0.1%). ``opens``/``clicks`` appear only when tracking is enabled.
    """
    issue = session.get(Issue, issue_id)
    if issue is None:
        raise LookupError(f"no issue with id {issue_id}")
    by_status = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.issue_id == issue_id)
            .group_by(Delivery.status)
        ).all()
    )
    total = sum(by_status.values())
    report: dict[str, Any] = {
        "issue_id": issue_id,
        "subject": issue.subject,
        "status": issue.status,
        "recipients": total,
        "sent": sum(by_status.get(status.value, 0) for status in _ACCEPTED),
        "delivered": _count_where(
            session, issue_id, or_(_status_in(*_REACHED), _has_event("delivered"))
        ),
        "bounced": _count_where(session, issue_id, _status_in(DeliveryStatus.BOUNCED)),
        "dropped": _count_where(session, issue_id, _status_in(DeliveryStatus.DROPPED)),
        "deferred": _count_where(session, issue_id, _status_in(DeliveryStatus.DEFERRED)),
        "complained": _count_where(
            session, issue_id, or_(_status_in(DeliveryStatus.COMPLAINED), _has_event("spamreport"))
        ),
        "unsubscribed": _count_where(
            session,
            issue_id,
            or_(
                _status_in(DeliveryStatus.UNSUBSCRIBED),
                _has_event("unsubscribe", "group_unsubscribe"),
            ),
        ),
        "failed": by_status.get(DeliveryStatus.FAILED.value, 0),
        "pending": by_status.get(DeliveryStatus.PENDING.value, 0),
        "skipped": by_status.get(DeliveryStatus.SKIPPED.value, 0),
    }
    delivered = report["delivered"]
    report["complaint_rate"] = round(report["complained"] / delivered, 6) if delivered else 0.0
    if settings is not None and settings.TRACK_OPENS:
        report["opens"] = _count_where(session, issue_id, _has_event("open"))
    if settings is not None and settings.TRACK_CLICKS:
        report["clicks"] = _count_where(session, issue_id, _has_event("click"))
    return report
