"""Test copies of an issue to a few addresses; nothing enters the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.adapters.email_base import EmailSender, SendReceipt
from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.services.sending.content import (
    build_outgoing_batch,
    content_personaliser,
    issue_content,
    personal_recipient,
)


def send_test_copies(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    issue_id: int,
    addresses: list[str],
    *,
    now: datetime | None = None,
) -> SendReceipt:
    """Send the issue to ``addresses`` with a "[TEST]" subject; nothing enters the ledger.

    While a story of the issue is under embargo the copy goes only to desk users' addresses
    (anything else is refused) and the subject also says ``[EMBARGOED until …]``.
    """
    from distributor.db.models import User
    from distributor.domain.preflight import moment_text
    from distributor.services.issues import IssueError, embargo_verdict, get_issue

    clean = list(dict.fromkeys(address.strip() for address in addresses if address.strip()))
    bad = [address for address in clean if "@" not in address or " " in address]
    if not clean or bad:
        raise ValueError(f"give valid addresses for a test send (bad: {', '.join(bad) or 'none'})")
    issue = get_issue(session, issue_id)
    prefix = "[TEST] "
    verdict = embargo_verdict(session, issue_id, now or SYSTEM_CLOCK.now(), issue.schedule_timezone)
    if verdict.earliest_allowed is not None:
        desk = {
            email.casefold()
            for email in session.scalars(
                select(User.email).where(func.lower(User.email).in_([a.lower() for a in clean]))
            )
        }
        outsiders = [address for address in clean if address.casefold() not in desk]
        if outsiders:
            raise IssueError(
                f"issue {issue_id} has embargoed stories "
                f"({'; '.join(item.message for item in verdict.blocking)}): a test copy goes "
                "only to desk users' addresses, and these are not: " + ", ".join(outsiders)
            )
        until = moment_text(verdict.earliest_allowed, issue.schedule_timezone)
        prefix = f"[TEST] [EMBARGOED until {until}] "
    content = issue_content(session, settings, issue)
    list_id = issue.lists[0].list_id if issue.lists else 0
    personaliser = content_personaliser(settings, content)
    recipients = [
        # Subscriber id 0 exists for no one: the links render but unsubscribe nobody.
        personal_recipient(
            delivery_id=position,
            email=address,
            name=None,
            substitutions=personaliser.substitutions(0, list_id, None),
            custom_args={"dst_issue": str(issue_id), "dst_test": "1"},
            list_header=content.list_headers.get(list_id),
        )
        for position, address in enumerate(clean)
    ]
    batch = build_outgoing_batch(
        settings,
        content,
        issue_id,
        recipients,
        subject_prefix=prefix,
        reference=f"test-issue-{issue_id}",
    )
    return sender.send_batch(batch)
