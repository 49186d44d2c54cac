"""Send-ledger rows: an issue that has already gone out, for webhook and report tests."""

from __future__ import annotations

from typing import Any


def seed_issue_ledger(
    session: Any, list_names: list[str], recipients: list[tuple[int, int, str]]
) -> tuple[int, dict[str, int]]:
    """An issue already sent to ``recipients`` (subscriber id, list id, email): its id and
    the delivery id of each address. Stands in for a finished send in webhook tests."""
    from distributor.db.models import Delivery, Issue, IssueList, MailingList, SendBatch

    issue = Issue(subject="Seeded issue", status="sent")
    session.add(issue)
    session.flush()
    for name in list_names:
        list_id = session.query(MailingList.id).filter(MailingList.name == name).scalar()
        session.add(IssueList(issue_id=issue.id, list_id=list_id))
    batch = SendBatch(issue_id=issue.id, seq=0, status="sent", recipient_count=len(recipients))
    session.add(batch)
    session.flush()
    ids: dict[str, int] = {}
    for subscriber_id, list_id, email in recipients:
        delivery = Delivery(
            issue_id=issue.id,
            batch_id=batch.id,
            subscriber_id=subscriber_id,
            list_id=list_id,
            email=email,
            status="sent",
        )
        session.add(delivery)
        session.flush()
        ids[email] = delivery.id
    return issue.id, ids
