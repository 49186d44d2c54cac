"""The send ledger: dispatch due issues, send batches exactly once in effect, sweep, reconcile.

The database is the record; the broker only rings doorbells, which may be lost or repeated.

* :func:`dispatch_due` takes due issues (compare-and-set ``scheduled -> sending``) and writes
  the audience into one ``deliveries`` row per recipient grouped into ``send_batches`` of at
  most ``SEND_BATCH_SIZE``, in chunks of ``SEND_LEDGER_CHUNK`` subscribers (one transaction
  each), publishing each chunk's batches before writing the next; it also continues ledgers
  whose writer stopped.
* :func:`publish_pending_batches` rings the doorbell (one task per batch) after the commit.
* :func:`send_batch` claims a batch with one conditional UPDATE committed before any I/O (a
  duplicated or redelivered task updates nothing and stops), sends it, and records the outcome
  guarded by the claim token.
* :func:`sweep_batches` re-publishes batches whose doorbell was lost or whose retry is due,
  turns expired leases into ``ambiguous`` and finishes issues.
* :func:`reconcile_batches` resolves ``ambiguous`` batches from provider events.

See docs/sending.md for the remaining duplicate window.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, exists, func, select, text, update
from sqlalchemy.orm import Session, defer, lazyload

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    EmailSender,
    OutgoingBatch,
    OutgoingRecipient,
    PermanentDeliveryError,
    SendReceipt,
    TransientDeliveryError,
)
from distributor.config import Settings
from distributor.db.models import (
    Delivery,
    Issue,
    IssueList,
    MailingList,
    ProviderEvent,
    SendBatch,
    UTCDateTime,
)
from distributor.domain.issues import BatchStatus, DeliveryStatus, IssueStatus
from distributor.domain.list_headers import list_id_header, list_id_namespace
from distributor.rendering.email import PLACEHOLDERS
from distributor.services.rendering import (
    Personaliser,
    render_issue_by_id,
    web_archive_url,
)

log = logging.getLogger("distributor.sending")

# A batch that keeps failing for reasons other than rate limiting is parked for a person.
MAX_BATCH_ATTEMPTS = 8
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 300.0
PUBLISH_CHUNK = 200
NON_TERMINAL_BATCH = (
    BatchStatus.PENDING,
    BatchStatus.QUEUED,
    BatchStatus.SENDING,
    BatchStatus.AMBIGUOUS,
)
# Provider events that prove a request was accepted.
ACCEPTANCE_EVENTS = ("processed", "delivered", "deferred", "bounce", "dropped", "open", "click")

# The placeholder whose value is the recipient's one-click unsubscribe URL.
UNSUBSCRIBE_PLACEHOLDER = "-unsubscribe_url-"
assert UNSUBSCRIBE_PLACEHOLDER in PLACEHOLDERS

Publisher = Callable[[int], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------- dispatch
@dataclass
class DispatchReport:
    """What one dispatcher tick started."""

    issues: list[int] = field(default_factory=list)
    # Due issues held (paused before starting) because a story is still under embargo.
    held: list[int] = field(default_factory=list)
    # Issues whose interrupted ledger this call continued.
    resumed: list[int] = field(default_factory=list)
    recipients: int = 0
    batches: int = 0
    seconds: float = 0.0


# One chunk of the ledger. ``candidates`` is the cursor: the next members of the issue's lists
# in subscriber order after ``:after``; the ledger takes those who are still active and have an
# address. A subscriber on several of the lists gets one row.
_LEDGER_CHUNK_CTE = """
candidates AS (
    SELECT sub.subscriber_id, MIN(sub.list_id) AS list_id
    FROM subscriptions sub
    WHERE sub.list_id IN (SELECT list_id FROM issue_lists WHERE issue_id = :issue)
      AND sub.status = 'confirmed' AND sub.subscriber_id > :after
    GROUP BY sub.subscriber_id
    ORDER BY sub.subscriber_id
    LIMIT :chunk
),
audience AS (
    SELECT c.subscriber_id, c.list_id, s.email, s.name,
           CASE WHEN x.id IS NULL THEN 0 ELSE 1 END AS suppressed
    FROM candidates c
    JOIN subscribers s ON s.id = c.subscriber_id
    LEFT JOIN suppressions x ON x.email_hash = s.email_hash
    -- The bound on s.id lets a scan of subscribers in id order start at the chunk.
    WHERE s.id > :after AND s.status = 'active' AND s.email IS NOT NULL
),
numbered AS (
    -- Suppressed people go last in their chunk, so their rows fill batches that need no
    -- request.
    SELECT a.*, ROW_NUMBER() OVER (ORDER BY a.suppressed, a.subscriber_id) - 1 AS rn
    FROM audience a
)
"""

_DELIVERY_VALUES = """
       CASE WHEN n.suppressed = 1 THEN 'skipped' ELSE 'pending' END,
       CASE WHEN n.suppressed = 1 THEN 'suppressed at dispatch' ELSE NULL END,
       :now
"""

# SQLite: counted first, then batches and rows (the write lock keeps the three consistent).
_SQLITE_CHUNK_COUNTS = (
    "WITH "
    + _LEDGER_CHUNK_CTE
    + "SELECT (SELECT count(*) FROM candidates), (SELECT max(subscriber_id) FROM candidates),"
    " (SELECT count(*) FROM numbered)"
)
_SQLITE_CHUNK_DELIVERIES = (
    "WITH "
    + _LEDGER_CHUNK_CTE
    + """
INSERT INTO deliveries (issue_id, batch_id, subscriber_id, list_id, email, name, status, detail,
                        updated_at)
SELECT :issue, b.id, n.subscriber_id, n.list_id, n.email, n.name,"""
    + _DELIVERY_VALUES
    + """
FROM numbered n JOIN send_batches b ON b.issue_id = :issue AND b.seq = :first_seq + n.rn / :size
"""
)

# PostgreSQL: one statement per chunk, so its counts, batches and rows come from one snapshot.
_POSTGRES_CHUNK = (
    "WITH "
    + _LEDGER_CHUNK_CTE
    + """,
total AS (SELECT count(*) AS n FROM numbered),
batch_rows AS (
    INSERT INTO send_batches (issue_id, seq, status, recipient_count, attempt, created_at)
    SELECT :issue, :first_seq + g.seq, 'pending', LEAST(:size, total.n - g.seq * :size), 0, :now
    FROM total, generate_series(0, (total.n - 1) / :size) AS g(seq)
    WHERE total.n > 0
    RETURNING id, seq
),
batch_ids AS (SELECT array_agg(id ORDER BY seq) AS ids FROM batch_rows),
written AS (
    INSERT INTO deliveries (issue_id, batch_id, subscriber_id, list_id, email, name, status,
                            detail, updated_at)
    -- The batch id is looked up by position (seq = rn / size) rather than joined.
    SELECT :issue, bi.ids[n.rn / :size + 1], n.subscriber_id, n.list_id, n.email, n.name,"""
    + _DELIVERY_VALUES
    + """
    FROM numbered n CROSS JOIN batch_ids bi
    RETURNING 1
)
SELECT (SELECT count(*) FROM candidates), (SELECT max(subscriber_id) FROM candidates),
       (SELECT count(*) FROM written)
"""
)


def _time_param(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


@dataclass(frozen=True)
class _LedgerChunk:
    rows: int
    batches: int
    done: bool


def _write_ledger_chunk(
    session: Session, settings: Settings, issue_id: int, now: datetime
) -> _LedgerChunk | None:
    """Write the next chunk of ``issue_id``'s ledger (the caller commits); None when there is
    nothing to write (the ledger is complete, or the issue is no longer sending or paused).

    The first statement updates the issue row, so a second writer of the same ledger waits
    for this transaction and then continues after it: no subscriber is written twice (the
    (issue, subscriber) unique constraint would refuse it anyway).
    """
    touched = session.execute(
        update(Issue)
        .where(
            Issue.id == issue_id,
            Issue.ledger_done.is_(False),
            Issue.status.in_([IssueStatus.SENDING, IssueStatus.PAUSED]),
        )
        # The wall clock, not ``now``: a long ledger must look alive while it is written.
        .values(ledger_touched_at=max(now, _utcnow()))
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:  # type: ignore[attr-defined]
        return None
    after = session.execute(select(Issue.ledger_after).where(Issue.id == issue_id)).scalar_one()
    first_seq = session.execute(
        select(func.coalesce(func.max(SendBatch.seq) + 1, 0)).where(SendBatch.issue_id == issue_id)
    ).scalar_one()
    size, chunk = settings.SEND_BATCH_SIZE, settings.SEND_LEDGER_CHUNK
    first = int(first_seq)
    params: dict[str, Any] = {
        "issue": issue_id,
        "size": size,
        "chunk": chunk,
        "after": after or 0,
        "first_seq": first,
        "now": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        # The chunk is sorted and grouped in memory; the default 4 MB would spill to disk.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        candidates, last, rows = session.execute(
            text(_POSTGRES_CHUNK).bindparams(_time_param("now")), params
        ).one()
    else:
        candidates, last, rows = session.execute(text(_SQLITE_CHUNK_COUNTS), params).one()
        if rows:
            session.execute(
                text(
                    "INSERT INTO send_batches (issue_id, seq, status, recipient_count, attempt,"
                    " created_at) VALUES (:issue, :seq, 'pending', :count, 0, :now)"
                ).bindparams(_time_param("now")),
                [
                    {
                        "issue": issue_id,
                        "seq": first + index,
                        "count": min(size, rows - index * size),
                        "now": now,
                    }
                    for index in range((rows + size - 1) // size)
                ],
            )
            session.execute(text(_SQLITE_CHUNK_DELIVERIES).bindparams(_time_param("now")), params)
    done = candidates < chunk
    session.execute(
        update(Issue)
        .where(Issue.id == issue_id)
        .values(ledger_after=last if last is not None else after, ledger_done=done)
        .execution_options(synchronize_session=False)
    )
    return _LedgerChunk(rows=int(rows), batches=(rows + size - 1) // size, done=done)


def _take_due_issue(session: Session, now: datetime) -> int | None:
    """Compare-and-set one due issue ``scheduled -> sending``; its id, or None."""
    from distributor.services.issues import embargoed_article_condition

    # An issue with a story still under embargo is never taken (the hold pass pauses it).
    clear = ~embargoed_article_condition(Issue.id, now)
    query = (
        select(Issue.id)
        .where(Issue.status == IssueStatus.SCHEDULED, Issue.send_at <= now, clear)
        .order_by(Issue.send_at, Issue.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    issue_id = session.execute(query).scalar_one_or_none()
    if issue_id is None:
        return None
    result = session.execute(
        update(Issue)
        .where(Issue.id == issue_id, Issue.status == IssueStatus.SCHEDULED, clear)
        .values(
            status=IssueStatus.SENDING,
            started_at=now,
            updated_at=now,
            consecutive_failures=0,
            ledger_after=0,
            ledger_done=False,
            ledger_touched_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return issue_id


def start_issue_now(session: Session, issue_id: int, now: datetime | None = None) -> None:
    """Make a draft, scheduled or held issue due right now (the dispatcher starts it).

    Refused (``EmbargoError``) while a story of the issue is still embargoed.
    """
    from distributor.services.issues import (
        HELD,
        IssueError,
        get_issue,
        refuse_early_send,
        require_open_audience,
    )

    require_open_audience(session, issue_id)
    moment = now or _utcnow()
    issue = get_issue(session, issue_id)
    refuse_early_send(session, issue_id, moment, issue.schedule_timezone, send_now=True)
    result = session.execute(
        update(Issue)
        .where(
            Issue.id == issue_id,
            Issue.status.in_([IssueStatus.DRAFT, IssueStatus.SCHEDULED]) | HELD,
        )
        .values(
            status=IssueStatus.SCHEDULED,
            send_at=moment,
            schedule_timezone="UTC",
            schedule_local=moment.isoformat(timespec="seconds"),
            paused_reason=None,
            updated_at=moment,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        issue = get_issue(session, issue_id)
        raise IssueError(
            f"cannot send issue {issue_id} now: it is {issue.status}"
            " (must be draft, scheduled or held)"
        )


def hold_embargoed_due_issues(session: Session, now: datetime) -> list[int]:
    """Hold (pause before starting, with the reason) every due issue that has a story still
    under embargo: an embargo added or moved after the issue was scheduled. Commits."""
    from distributor.services.issues import (
        embargo_verdict,
        embargoed_article_condition,
        hold_message,
    )

    due = list(
        session.scalars(
            select(Issue.id)
            .where(
                Issue.status == IssueStatus.SCHEDULED,
                Issue.send_at <= now,
                embargoed_article_condition(Issue.id, now),
            )
            .order_by(Issue.id)
        )
    )
    held: list[int] = []
    for issue_id in due:
        zone = session.execute(
            select(Issue.schedule_timezone).where(Issue.id == issue_id)
        ).scalar_one()
        verdict = embargo_verdict(session, issue_id, now, zone)
        if verdict.may_send:
            continue
        result = session.execute(
            update(Issue)
            .where(Issue.id == issue_id, Issue.status == IssueStatus.SCHEDULED)
            .values(status=IssueStatus.PAUSED, paused_reason=hold_message(verdict), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            held.append(issue_id)
            log.warning("issue %s held: a story is still under embargo", issue_id)
    session.commit()
    return held


def _ledger_stalled_after(settings: Settings) -> timedelta:
    """How long a ledger writer may make no progress before another one takes over."""
    return timedelta(seconds=max(60.0, 10 * settings.SCHEDULER_TICK_SECONDS))


def dispatch_due(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    max_issues: int = 20,
    publish: Publisher | None = None,
) -> DispatchReport:
    """Start every due issue and write its ledger; finish ledgers whose writer stopped.

    Starting an issue (compare-and-set ``scheduled -> sending``, and rendering its body once)
    is one transaction. The ledger is then written in chunks of ``SEND_LEDGER_CHUNK``
    subscribers, one transaction each; after each, ``publish`` (when given) rings the
    doorbells of the new batches, so the first batches are sent while the rest of the ledger
    is written. A ledger whose writer made no progress for a while (the process died) is
    continued where it stopped by the next call.

    Safe to run from several processes at once (the claim is a compare-and-set, on PostgreSQL
    rows are taken with ``FOR UPDATE SKIP LOCKED``, and a ledger chunk locks its issue).
    Commits.
    """
    report = DispatchReport()
    started = time.perf_counter()
    moment = now or _utcnow()
    session.commit()
    report.held = hold_embargoed_due_issues(session, moment)
    for _ in range(max_issues):
        issue_id = _take_due_issue(session, moment)
        if issue_id is None:
            session.rollback()
            break
        try:
            # Render once, in the claiming transaction: every batch then sends this body.
            render_issue_by_id(session, settings, issue_id)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("could not start issue %s; it stays scheduled", issue_id)
            raise
        report.issues.append(issue_id)
        _write_ledger(session, settings, issue_id, moment, publish=publish, report=report)
    stalled = list(
        session.scalars(
            select(Issue.id)
            .where(
                Issue.ledger_done.is_(False),
                Issue.status.in_([IssueStatus.SENDING, IssueStatus.PAUSED]),
                Issue.ledger_touched_at.is_(None)
                | (Issue.ledger_touched_at < moment - _ledger_stalled_after(settings)),
            )
            .order_by(Issue.id)
            .limit(max_issues)
        )
    )
    session.commit()
    for issue_id in stalled:
        log.warning("issue %s: continuing a ledger whose writer stopped", issue_id)
        report.resumed.append(issue_id)
        _write_ledger(session, settings, issue_id, moment, publish=publish, report=report)
    report.seconds = time.perf_counter() - started
    return report


def _write_ledger(
    session: Session,
    settings: Settings,
    issue_id: int,
    moment: datetime,
    *,
    publish: Publisher | None,
    report: DispatchReport,
) -> None:
    """Write the rest of ``issue_id``'s ledger, chunk after chunk. Commits."""
    rows = batches = 0
    while True:
        try:
            chunk = _write_ledger_chunk(session, settings, issue_id, moment)
            session.commit()
        except Exception:
            # The issue is sending and its ledger stays incomplete: the dispatcher continues
            # it once the writer counts as stopped. Nothing written is lost.
            session.rollback()
            log.exception("issue %s: could not write the next ledger chunk", issue_id)
            break
        if chunk is None:
            break
        rows += chunk.rows
        batches += chunk.batches
        if publish is not None and chunk.batches:
            # Stamped with the wall clock: these batches were queued now, not at dispatch.
            publish_pending_batches(session, settings, publish, max(moment, _utcnow()))
        if chunk.done:
            # Nobody to send to, or every batch already sent: the issue is done now.
            finish_issue_if_done(session, issue_id, moment)
            break
    report.recipients += rows
    report.batches += batches
    log.info("issue %s: %s recipients in %s batches written", issue_id, rows, batches)


# -------------------------------------------------------------------------------- publish
def _lost_after(settings: Settings) -> timedelta:
    """How long a queued batch may wait before its doorbell is presumed lost."""
    return timedelta(
        seconds=max(2 * settings.SEND_LEASE_SECONDS, 10 * settings.SCHEDULER_TICK_SECONDS)
    )


def publish_pending_batches(
    session: Session, settings: Settings, publish: Publisher, now: datetime | None = None
) -> int:
    """Ring the doorbell for pending, retry-due and lost batches of sending issues. Commits.

    A publish failure (broker down) leaves the rest as they were: the next sweep tries again.
    """
    moment = now or _utcnow()
    lost_before = moment - _lost_after(settings)
    due = SendBatch.next_attempt_at.is_not(None) & (SendBatch.next_attempt_at <= moment)
    lost = SendBatch.next_attempt_at.is_(None) & (
        SendBatch.queued_at.is_(None) | (SendBatch.queued_at < lost_before)
    )
    batch_ids = list(
        session.scalars(
            select(SendBatch.id)
            .join(Issue, Issue.id == SendBatch.issue_id)
            .where(
                Issue.status == IssueStatus.SENDING,
                (SendBatch.status == BatchStatus.PENDING)
                | ((SendBatch.status == BatchStatus.QUEUED) & (due | lost)),
            )
            .order_by(SendBatch.issue_id, SendBatch.seq)
        )
    )
    session.commit()
    published = 0
    for start in range(0, len(batch_ids), PUBLISH_CHUNK):
        chunk = batch_ids[start : start + PUBLISH_CHUNK]
        done: list[int] = []
        try:
            for batch_id in chunk:
                publish(batch_id)
                done.append(batch_id)
        finally:
            if done:
                session.execute(
                    update(SendBatch)
                    .where(
                        SendBatch.id.in_(done),
                        SendBatch.status.in_([BatchStatus.PENDING, BatchStatus.QUEUED]),
                        SendBatch.next_attempt_at.is_(None) | (SendBatch.next_attempt_at <= moment),
                    )
                    .values(status=BatchStatus.QUEUED, queued_at=moment, next_attempt_at=None)
                    .execution_options(synchronize_session=False)
                )
                session.commit()
                published += len(done)
    return published


# ---------------------------------------------------------------------------- the content
@dataclass(frozen=True)
class IssueContent:
    """The shared, rendered parts of an issue; placeholders are filled per recipient."""

    subject: str
    html: str
    text: str
    content_hash: str
    web_url: str
    language: str
    # List id -> its RFC 2919 ``List-Id`` header, for the lists the issue goes to.
    list_headers: dict[int, str] = field(default_factory=dict)


_content_cache: dict[tuple[int, str], IssueContent] = {}


def issue_content(session: Session, settings: Settings, issue: Issue) -> IssueContent:
    """The issue's subject, HTML and text as frozen at dispatch, cached per process.

    The body carries placeholders (:data:`distributor.rendering.email.PLACEHOLDERS`) that each
    recipient's substitutions fill, so one body serves a whole batch.
    """
    if issue.rendered_hash:
        cached = _content_cache.get((issue.id, issue.rendered_hash))
        if cached is not None:
            return cached
    rendered = render_issue_by_id(session, settings, issue.id)
    content = IssueContent(
        subject=issue.subject,
        html=rendered.html,
        text=rendered.text,
        content_hash=rendered.content_hash,
        web_url=web_archive_url(settings, issue),
        language=issue.language,
        list_headers=issue_list_headers(session, settings, issue.id),
    )
    _content_cache[(issue.id, rendered.content_hash)] = content
    return content


def issue_list_headers(session: Session, settings: Settings, issue_id: int) -> dict[int, str]:
    """The ``List-Id`` header of each list the issue is sent to."""
    namespace = list_id_namespace(urlsplit(settings.PUBLIC_BASE_URL).hostname)
    rows = session.execute(
        select(MailingList.id, MailingList.name, MailingList.title)
        .join(IssueList, IssueList.list_id == MailingList.id)
        .where(IssueList.issue_id == issue_id)
    ).all()
    return {list_id: list_id_header(name, title, namespace) for list_id, name, title in rows}


def content_personaliser(
    settings: Settings, content: IssueContent, issued_at: int | None = None
) -> Personaliser:
    """Fills the placeholders of ``content`` per recipient (signed manage-token links, name)."""
    return Personaliser(
        settings, language=content.language, web_url=content.web_url, issued_at=issued_at
    )


def build_outgoing_batch(
    settings: Settings,
    content: IssueContent,
    issue_id: int,
    recipients: list[OutgoingRecipient],
    *,
    subject_prefix: str = "",
    reference: str | None = None,
    custom_args: dict[str, str] | None = None,
) -> OutgoingBatch:
    """A provider request for ``recipients`` of one issue (shared body, personal links)."""
    return OutgoingBatch(
        from_email=settings.MAIL_FROM,
        from_name=settings.MAIL_FROM_NAME,
        reply_to=settings.MAIL_REPLY_TO,
        subject=subject_prefix + content.subject,
        text=content.text,
        html=content.html,
        recipients=recipients,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        categories=["newsletter", f"issue-{issue_id}"],
        track_opens=settings.TRACK_OPENS,
        track_clicks=settings.TRACK_CLICKS,
        reference=reference or f"issue-{issue_id}",
        custom_args=custom_args or {},
    )


def personal_recipient(
    *,
    delivery_id: int,
    email: str,
    name: str | None,
    substitutions: dict[str, str],
    custom_args: dict[str, str],
    list_header: str | None = None,
) -> OutgoingRecipient:
    """One recipient with their RFC 8058 one-click unsubscribe header and their list's List-Id."""
    headers = {"List-Unsubscribe": "<" + substitutions[UNSUBSCRIBE_PLACEHOLDER] + ">"}
    if list_header:
        headers["List-Id"] = list_header
    # Positional: this runs for every recipient of a send.
    return OutgoingRecipient(delivery_id, email, name, substitutions, headers, custom_args)


LedgerRow = tuple[int, int, int | None, str, str | None, str | None]


def ledger_recipients(
    personaliser: Personaliser,
    rows: Iterable[LedgerRow],
    list_headers: dict[int, str] | None = None,
) -> tuple[list[OutgoingRecipient], dict[int, str]]:
    """The recipients of a batch from its ledger rows, and the rows to skip with their reason.

    A row is ``(delivery id, subscriber id, list id, email, name, skip reason or None)``, as
    :data:`_RECIPIENTS_SQL` selects it. This loop runs for every recipient of a send: it
    unpacks plain tuples.
    """
    recipients: list[OutgoingRecipient] = []
    skipped: dict[int, str] = {}
    add = recipients.append
    substitutions = personaliser.substitutions
    list_header = (list_headers or {}).get
    for delivery_id, subscriber_id, list_id, email, name, skip in rows:
        if skip:
            skipped[delivery_id] = skip
            continue
        # Their own custom_args carry only the delivery id: the batch's tags (issue, batch,
        # attempt) go once into the request (batch_tags), and SendGrid merges both into
        # every event it reports.
        add(
            personal_recipient(
                delivery_id=delivery_id,
                email=email,
                name=name,
                substitutions=substitutions(subscriber_id, list_id or 0, name),
                custom_args={"dst_delivery": str(delivery_id)},
                list_header=list_header(list_id or 0),
            )
        )
    return recipients, skipped


def batch_tags(issue_id: int, batch_id: int, attempt: int) -> dict[str, str]:
    """The request-wide ``custom_args`` of a ledger batch."""
    return {"dst_issue": str(issue_id), "dst_batch": str(batch_id), "dst_attempt": str(attempt)}


# ---------------------------------------------------------------------------- send a batch
@dataclass
class BatchOutcome:
    """What one ``send_batch`` call did."""

    batch_id: int
    result: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    detail: str | None = None


def _claim(session: Session, settings: Settings, batch_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    result = session.execute(
        update(SendBatch)
        .where(
            SendBatch.id == batch_id,
            SendBatch.status.in_([BatchStatus.QUEUED, BatchStatus.PENDING]),
            SendBatch.next_attempt_at.is_(None) | (SendBatch.next_attempt_at <= now),
            SendBatch.issue_id.in_(select(Issue.id).where(Issue.status == IssueStatus.SENDING)),
        )
        .values(
            status=BatchStatus.SENDING,
            attempt=SendBatch.attempt + 1,
            claim_token=token,
            lease_until=now + timedelta(seconds=settings.SEND_LEASE_SECONDS),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


# The ledger rows of a batch still to send, with the reason to skip one now (suppressed or
# unsubscribed since the ledger was written), in the shape :func:`ledger_recipients` reads.
_RECIPIENTS_SQL = text(
    """
    SELECT d.id, d.subscriber_id, d.list_id, d.email, d.name,
           CASE WHEN x.id IS NOT NULL THEN 'suppressed before sending'
                WHEN s.status <> 'active' OR COALESCE(sub.status, '') <> 'confirmed'
                THEN 'unsubscribed before sending' END AS skip
    FROM deliveries d
    JOIN subscribers s ON s.id = d.subscriber_id
    LEFT JOIN suppressions x ON x.email_hash = s.email_hash
    LEFT JOIN subscriptions sub ON sub.subscriber_id = d.subscriber_id AND sub.list_id = d.list_id
    WHERE d.batch_id = :batch AND d.status = 'pending'
    ORDER BY d.id
    """
)


# What a batch reads of its issue: not the rendered body (the content cache has it) nor the
# article and list collections (two more queries per batch); all still load if touched.
_ISSUE_HEAD = (
    lazyload(Issue.articles),
    lazyload(Issue.lists),
    defer(Issue.rendered_html),
    defer(Issue.rendered_text),
)


def _fail_point(name: str) -> None:
    """Fault injection for tests: ``DISTRIBUTOR_FAILPOINTS=name=kill:0.3`` SIGKILLs this process.

    Off unless the variable is set; never set in production.
    """
    import os

    spec = os.environ.get("DISTRIBUTOR_FAILPOINTS")
    if not spec:
        return
    for item in spec.split(","):
        point, _, action = item.partition("=")
        if point.strip() != name:
            continue
        kind, _, probability = action.partition(":")
        if kind == "kill" and random.random() < float(probability or 1):  # noqa: S311
            import signal

            os.kill(os.getpid(), signal.SIGKILL)


def send_batch(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    batch_id: int,
    now: Callable[[], datetime] = _utcnow,
) -> BatchOutcome:
    """Claim, send and record one batch. A second call for the same batch does nothing.

    The claim is committed before any I/O; the outcome is recorded only if the claim token is
    still ours. Commits.
    """
    token = _claim(session, settings, batch_id, now())
    if token is None:
        return BatchOutcome(batch_id, "not claimable (already taken, done, not due or paused)")
    _fail_point("after_claim")
    batch = session.get(SendBatch, batch_id, populate_existing=True)
    assert batch is not None
    issue = session.get(Issue, batch.issue_id, populate_existing=True, options=_ISSUE_HEAD)
    assert issue is not None
    held = _hold_for_embargo(session, batch, issue, token, now())
    if held is not None:
        return held
    rows = session.execute(_RECIPIENTS_SQL, {"batch": batch_id}).all()
    content = issue_content(session, settings, issue)
    personaliser = content_personaliser(settings, content, int(time.time()))
    recipients, skipped = ledger_recipients(personaliser, rows, content.list_headers)
    session.commit()
    if not recipients:
        receipt = SendReceipt(provider_message_id=None, accepted_ids=[])
        return _record_success(
            session, settings, batch, token, receipt=receipt, skipped=skipped, now=now()
        )
    outgoing = build_outgoing_batch(
        settings,
        content,
        issue.id,
        recipients,
        custom_args=batch_tags(issue.id, batch_id, batch.attempt),
    )
    try:
        receipt = sender.send_batch(outgoing)
    except TransientDeliveryError as error:
        return _record_transient(
            session, settings, batch, issue, token, error=error, skipped=skipped, now=now()
        )
    except PermanentDeliveryError as error:
        return _record_permanent(
            session, settings, batch, token, error=error, skipped=skipped, now=now()
        )
    except AmbiguousDeliveryError as error:
        return _record_ambiguous(
            session, settings, batch, token, error=error, skipped=skipped, now=now()
        )
    _fail_point("after_send")
    return _record_success(
        session,
        settings,
        batch,
        token,
        receipt=receipt,
        skipped=skipped,
        now=now(),
        requested=frozenset(r.delivery_id for r in recipients),
    )


def _hold_for_embargo(
    session: Session, batch: SendBatch, issue: Issue, token: str, moment: datetime
) -> BatchOutcome | None:
    """Defence in depth: when a story of the issue is under embargo at ``moment`` (an embargo
    added after the issue started), give the claimed batch back untouched and pause the
    issue with the reason. None when nothing is embargoed."""
    from distributor.services.issues import (
        embargo_verdict,
        embargoed_article_condition,
        hold_message,
    )

    if not session.execute(select(embargoed_article_condition(issue.id, moment))).scalar_one():
        return None
    verdict = embargo_verdict(session, issue.id, moment, issue.schedule_timezone)
    reason = hold_message(verdict, started=True)
    released = _guarded_batch_update(
        session,
        batch.id,
        token,
        {
            "status": BatchStatus.QUEUED,
            "claim_token": None,
            "lease_until": None,
            "attempt": max(0, batch.attempt - 1),
        },
    )
    if not released:
        return _lost_claim(session, batch.id, "held for an embargo")
    session.execute(
        update(Issue)
        .where(Issue.id == issue.id, Issue.status == IssueStatus.SENDING)
        .values(status=IssueStatus.PAUSED, paused_reason=reason, updated_at=moment)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    log.error(
        "issue %s: batch %s not mailed, a story is under embargo; issue paused", issue.id, batch.id
    )
    return BatchOutcome(batch.id, "held", detail=reason)


def _guarded_batch_update(
    session: Session, batch_id: int, token: str, values: dict[str, Any]
) -> bool:
    result = session.execute(
        update(SendBatch)
        .where(
            SendBatch.id == batch_id,
            SendBatch.claim_token == token,
            SendBatch.status.in_([BatchStatus.SENDING, BatchStatus.AMBIGUOUS]),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _mark_deliveries(
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


def _mark_skipped(session: Session, batch_id: int, skipped: dict[int, str], now: datetime) -> None:
    by_reason: dict[str, list[int]] = {}
    for delivery_id, reason in skipped.items():
        by_reason.setdefault(reason, []).append(delivery_id)
    for reason, ids in by_reason.items():
        _mark_deliveries(session, batch_id, ids, DeliveryStatus.SKIPPED, now, detail=reason)


def _lost_claim(session: Session, batch_id: int, what: str) -> BatchOutcome:
    session.rollback()
    log.warning(
        "batch %s: claim was taken over before the outcome (%s) was recorded", batch_id, what
    )
    return BatchOutcome(batch_id, "claim lost", detail=what)


def _record_success(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    receipt: SendReceipt,
    skipped: dict[int, str],
    now: datetime,
    requested: frozenset[int] = frozenset(),
) -> BatchOutcome:
    batch_id = batch.id
    if not _guarded_batch_update(
        session,
        batch_id,
        token,
        {
            "status": BatchStatus.SENT,
            "sent_at": now,
            "lease_until": None,
            "provider_message_id": receipt.provider_message_id,
            "last_error": None,
            "next_attempt_at": None,
        },
    ):
        return _lost_claim(session, batch_id, "sent")
    _mark_skipped(session, batch_id, skipped, now)
    failed = 0
    for delivery_id, reason in receipt.rejected.items():
        failed += _mark_deliveries(
            session, batch_id, [delivery_id], DeliveryStatus.FAILED, now, detail=reason
        )
    # When every requested recipient was accepted, the pending rows left in the batch are
    # exactly those recipients (skipped ones were marked above and the claim is ours): one
    # set-based UPDATE by batch instead of an IN list of a thousand ids.
    everyone = bool(requested) and not receipt.rejected and set(receipt.accepted_ids) == requested
    sent = _mark_deliveries(
        session,
        batch_id,
        None if everyone else receipt.accepted_ids,
        DeliveryStatus.SENT,
        now,
        message_id=receipt.provider_message_id,
    )
    session.execute(
        update(Issue)
        .where(Issue.id == batch.issue_id, Issue.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch_id, "sent", sent=sent, skipped=len(skipped), failed=failed)


def _count_failure(session: Session, settings: Settings, issue_id: int, reason: str) -> None:
    """Count a failed request; too many in a row pause the issue and say why."""
    session.execute(
        update(Issue)
        .where(Issue.id == issue_id)
        .values(consecutive_failures=Issue.consecutive_failures + 1)
        .execution_options(synchronize_session=False)
    )
    failures = session.execute(
        select(Issue.consecutive_failures).where(Issue.id == issue_id)
    ).scalar_one()
    if failures >= settings.SEND_MAX_CONSECUTIVE_FAILURES:
        session.execute(
            update(Issue)
            .where(Issue.id == issue_id, Issue.status == IssueStatus.SENDING)
            .values(
                status=IssueStatus.PAUSED,
                paused_reason=(
                    f"paused after {failures} failed requests in a row; last error: {reason}. "
                    "Fix the cause, then resume the issue."
                ),
            )
            .execution_options(synchronize_session=False)
        )
        log.error("issue %s paused after %s consecutive failures: %s", issue_id, failures, reason)


def _backoff_seconds(attempt: int) -> float:
    """Exponential back-off with full jitter in the upper half (spreads retries apart)."""
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1)))
    return float(ceiling / 2 + random.random() * ceiling / 2)  # noqa: S311


def _record_transient(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    issue: Issue,
    token: str,
    *,
    error: TransientDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    batch_id = batch.id
    started = issue.started_at or now
    deadline = started + timedelta(seconds=settings.SEND_DEADLINE_SECONDS)
    if error.rate_limited:
        # SendGrid did not take the request: wait for its reset; it costs no attempt.
        delay = error.retry_after if error.retry_after is not None else 1.0
        delay += random.random() * min(2.0, max(0.2, delay))  # noqa: S311
        attempt = max(0, batch.attempt - 1)
    else:
        delay = _backoff_seconds(batch.attempt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        attempt = batch.attempt
    retry_at = now + timedelta(seconds=delay)
    if retry_at > deadline:
        values: dict[str, Any] = {
            "status": BatchStatus.FAILED,
            "lease_until": None,
            "last_error": f"gave up at the send deadline: {error.message}",
        }
        final = "failed"
    elif attempt >= MAX_BATCH_ATTEMPTS:
        values = {
            "status": BatchStatus.PARKED,
            "lease_until": None,
            "last_error": f"parked after {attempt} attempts: {error.message}",
        }
        final = "parked"
    else:
        values = {
            "status": BatchStatus.QUEUED,
            "lease_until": None,
            "claim_token": None,
            "attempt": attempt,
            "next_attempt_at": retry_at,
            "last_error": error.message,
        }
        final = "retry"
    if not _guarded_batch_update(session, batch_id, token, values):
        return _lost_claim(session, batch_id, "transient failure")
    _mark_skipped(session, batch_id, skipped, now)
    sent = _mark_deliveries(session, batch_id, error.accepted_ids, DeliveryStatus.SENT, now)
    if final == "failed":
        _mark_deliveries(
            session, batch_id, None, DeliveryStatus.FAILED, now, detail=values["last_error"]
        )
    if not error.rate_limited:
        _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    if final != "retry":
        finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch_id, final, sent=sent, detail=error.message)


def _record_failed_request(
    session: Session,
    batch: SendBatch,
    token: str,
    *,
    status: BatchStatus,
    lease_until: datetime | None,
    error: PermanentDeliveryError | AmbiguousDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> int | None:
    """What a permanent failure and an unknown outcome record alike: the batch's new status
    (only while the claim is ours), its skipped rows and the recipients the provider said it
    accepted. Returns how many were marked sent, or None when the claim was lost."""
    if not _guarded_batch_update(
        session,
        batch.id,
        token,
        {"status": status, "lease_until": lease_until, "last_error": error.message},
    ):
        return None
    _mark_skipped(session, batch.id, skipped, now)
    return _mark_deliveries(session, batch.id, error.accepted_ids, DeliveryStatus.SENT, now)


def _record_permanent(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    error: PermanentDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    sent = _record_failed_request(
        session,
        batch,
        token,
        status=BatchStatus.FAILED,
        lease_until=None,
        error=error,
        skipped=skipped,
        now=now,
    )
    if sent is None:
        return _lost_claim(session, batch.id, "permanent failure")
    failed = _mark_deliveries(
        session, batch.id, None, DeliveryStatus.FAILED, now, detail=error.message
    )
    _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    finish_issue_if_done(session, batch.issue_id, now)
    return BatchOutcome(batch.id, "failed", sent=sent, failed=failed, detail=error.message)


def _record_ambiguous(
    session: Session,
    settings: Settings,
    batch: SendBatch,
    token: str,
    *,
    error: AmbiguousDeliveryError,
    skipped: dict[int, str],
    now: datetime,
) -> BatchOutcome:
    # lease_until records when the outcome became unknown; the reconciler's grace counts from it.
    sent = _record_failed_request(
        session,
        batch,
        token,
        status=BatchStatus.AMBIGUOUS,
        lease_until=now,
        error=error,
        skipped=skipped,
        now=now,
    )
    if sent is None:
        return _lost_claim(session, batch.id, "ambiguous")
    _count_failure(session, settings, batch.issue_id, error.message)
    session.commit()
    return BatchOutcome(batch.id, "ambiguous", sent=sent, detail=error.message)


# -------------------------------------------------------------------------------- finish
def finish_issue_if_done(session: Session, issue_id: int, now: datetime | None = None) -> bool:
    """Mark a sending issue sent (or partially_failed) once its ledger is complete and no batch
    is still open. Commits.

    ``ledger_done`` is read first: it is committed with the last chunk's batches, so the batch
    query after it (a later snapshot) sees every batch of the issue.
    """
    moment = now or _utcnow()
    ledger_done = session.execute(
        select(Issue.ledger_done).where(Issue.id == issue_id)
    ).scalar_one_or_none()
    if not ledger_done:
        return False
    open_batch = session.execute(
        select(
            exists().where(SendBatch.issue_id == issue_id, SendBatch.status.in_(NON_TERMINAL_BATCH))
        )
    ).scalar_one()
    if open_batch:
        return False
    broken = session.execute(
        select(
            exists().where(
                SendBatch.issue_id == issue_id,
                SendBatch.status.in_([BatchStatus.FAILED, BatchStatus.PARKED]),
            )
        )
    ).scalar_one()
    final = IssueStatus.PARTIALLY_FAILED if broken else IssueStatus.SENT
    result = session.execute(
        update(Issue)
        .where(Issue.id == issue_id, Issue.status == IssueStatus.SENDING)
        .values(status=final, finished_at=moment, updated_at=moment)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------- sweep
@dataclass
class SweepReport:
    """What one sweep did."""

    expired_leases: int = 0
    published: int = 0
    finished: list[int] = field(default_factory=list)


def sweep_batches(
    session: Session, settings: Settings, publish: Publisher, now: datetime | None = None
) -> SweepReport:
    """Expire leases (-> ambiguous), re-publish due or lost batches, finish issues. Commits."""
    moment = now or _utcnow()
    report = SweepReport()
    result = session.execute(
        update(SendBatch)
        .where(SendBatch.status == BatchStatus.SENDING, SendBatch.lease_until < moment)
        # For an ambiguous batch lease_until records when its outcome became unknown.
        .values(
            status=BatchStatus.AMBIGUOUS,
            lease_until=moment,
            last_error="worker lease expired mid-send",
        )
        .execution_options(synchronize_session=False)
    )
    report.expired_leases = int(result.rowcount)  # type: ignore[attr-defined]
    session.commit()
    if report.expired_leases:
        log.warning(
            "%s batch(es) lost their worker mid-send; awaiting reconciliation",
            report.expired_leases,
        )
    try:
        report.published = publish_pending_batches(session, settings, publish, moment)
    except Exception:
        session.rollback()
        log.warning("could not publish batches (broker down?); next sweep retries", exc_info=True)
    sending = session.scalars(select(Issue.id).where(Issue.status == IssueStatus.SENDING)).all()
    session.commit()
    for issue_id in sending:
        if finish_issue_if_done(session, issue_id, moment):
            report.finished.append(issue_id)
    return report


# ----------------------------------------------------------------------------- reconcile
@dataclass
class ReconcileReport:
    """What one reconciliation pass decided."""

    confirmed: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)


def reconcile_batches(
    session: Session, settings: Settings, now: datetime | None = None
) -> ReconcileReport:
    """Resolve ambiguous batches from the provider's events. Commits.

    One batch is one provider request, which SendGrid accepts or refuses as a whole: any
    acceptance event carrying our batch id proves the request went through, so every recipient
    still pending in it is marked sent. A batch with no trace after
    ``SEND_RECONCILE_GRACE_SECONDS`` is queued to be sent again (the documented duplicate
    window: events that arrive later than the grace period).
    """
    moment = now or _utcnow()
    grace = timedelta(seconds=settings.SEND_RECONCILE_GRACE_SECONDS)
    report = ReconcileReport()
    batches = session.execute(
        select(
            SendBatch.id,
            SendBatch.issue_id,
            SendBatch.attempt,
            SendBatch.lease_until,
            SendBatch.claim_token,
        ).where(SendBatch.status == BatchStatus.AMBIGUOUS)
    ).all()
    session.commit()
    touched: set[int] = set()
    for batch_id, issue_id, attempt, since, token in batches:
        evidence = session.execute(
            select(ProviderEvent.id)
            .where(ProviderEvent.batch_id == batch_id, ProviderEvent.event.in_(ACCEPTANCE_EVENTS))
            .limit(1)
        ).first()
        guard = [
            SendBatch.id == batch_id,
            SendBatch.status == BatchStatus.AMBIGUOUS,
            SendBatch.claim_token.is_(None) if token is None else SendBatch.claim_token == token,
        ]
        if evidence is not None:
            result = session.execute(
                update(SendBatch)
                .where(*guard)
                .values(
                    status=BatchStatus.SENT,
                    sent_at=moment,
                    lease_until=None,
                    last_error="confirmed by provider events after an unknown outcome",
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                _mark_deliveries(session, batch_id, None, DeliveryStatus.SENT, moment)
                report.confirmed.append(batch_id)
                touched.add(issue_id)
            session.commit()
            continue
        if since is not None and since > moment - grace:
            continue
        if attempt >= MAX_BATCH_ATTEMPTS:
            values: dict[str, Any] = {
                "status": BatchStatus.PARKED,
                "last_error": f"parked: {attempt} attempts ended without a known outcome",
            }
        else:
            values = {
                "status": BatchStatus.QUEUED,
                "claim_token": None,
                "lease_until": None,
                "next_attempt_at": moment,
                "queued_at": None,
            }
        result = session.execute(
            update(SendBatch)
            .where(*guard)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            (report.parked if values["status"] == BatchStatus.PARKED else report.requeued).append(
                batch_id
            )
            touched.add(issue_id)
            log.warning(
                "batch %s: no provider trace after %ss; %s",
                batch_id,
                settings.SEND_RECONCILE_GRACE_SECONDS,
                values["status"],
            )
        session.commit()
    for issue_id in touched:
        finish_issue_if_done(session, issue_id, moment)
    return report


# ----------------------------------------------------------------------------- test sends
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
    verdict = embargo_verdict(session, issue_id, now or _utcnow(), issue.schedule_timezone)
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


# --------------------------------------------------------------------- embedded, in-process
def run_sending_inline(
    session: Session,
    settings: Settings,
    sender: EmailSender,
    issue_id: int,
    *,
    on_progress: Callable[[], None] | None = None,
    max_seconds: float | None = None,
) -> None:
    """Drive one started issue to its end in this process, without a broker.

    Used by the CLI in embedded mode (no ``REDIS_URL``): the same services run synchronously,
    with the "doorbell" being a local list. Retries wait for their ``next_attempt_at``.
    """
    doorbell: list[int] = []
    started = time.monotonic()
    while True:
        sweep_batches(session, settings, doorbell.append)
        reconcile_batches(session, settings)
        while doorbell:
            send_batch(session, settings, sender, doorbell.pop(0))
            if on_progress is not None:
                on_progress()
        status = session.execute(select(Issue.status).where(Issue.id == issue_id)).scalar_one()
        session.commit()
        if status != IssueStatus.SENDING:
            return
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            return
        time.sleep(min(1.0, settings.SCHEDULER_TICK_SECONDS))
