"""Writing the ledger: one chunk of deliveries rows and their send batches per transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import Issue, SendBatch, UTCDateTime
from distributor.domain.issues import IssueStatus

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
class LedgerChunk:
    rows: int
    batches: int
    done: bool


def write_ledger_chunk(
    session: Session, settings: Settings, issue_id: int, now: datetime
) -> LedgerChunk | None:
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
        .values(ledger_touched_at=max(now, SYSTEM_CLOCK.now()))
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
    return LedgerChunk(rows=int(rows), batches=(rows + size - 1) // size, done=done)
