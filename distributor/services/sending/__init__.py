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

One module per use case: :mod:`.dispatch` (with :mod:`.ledger`), :mod:`.publish`,
:mod:`.batches` (with :mod:`.content` and :mod:`.outcomes`), :mod:`.finish`, :mod:`.sweep`,
:mod:`.reconcile`, :mod:`.copies` (test sends) and :mod:`.inline` (embedded mode). This module
re-exports their public names.

See docs/sending.md for the remaining duplicate window.
"""

from distributor.services.sending._shared import Publisher
from distributor.services.sending.batches import send_batch
from distributor.services.sending.content import (
    UNSUBSCRIBE_PLACEHOLDER,
    IssueContent,
    LedgerRow,
    batch_tags,
    build_outgoing_batch,
    content_personaliser,
    issue_content,
    issue_list_headers,
    ledger_recipients,
    personal_recipient,
)
from distributor.services.sending.copies import send_test_copies
from distributor.services.sending.dispatch import (
    DispatchReport,
    dispatch_due,
    hold_embargoed_due_issues,
    start_issue_now,
)
from distributor.services.sending.finish import NON_TERMINAL_BATCH, finish_issue_if_done
from distributor.services.sending.inline import run_sending_inline
from distributor.services.sending.outcomes import (
    BatchOutcome,
)
from distributor.services.sending.publish import PUBLISH_CHUNK, publish_pending_batches
from distributor.services.sending.reconcile import (
    ACCEPTANCE_EVENTS,
    ReconcileReport,
    reconcile_batches,
)
from distributor.services.sending.sweep import SweepReport, sweep_batches

__all__ = [
    "ACCEPTANCE_EVENTS",
    "NON_TERMINAL_BATCH",
    "PUBLISH_CHUNK",
    "UNSUBSCRIBE_PLACEHOLDER",
    "BatchOutcome",
    "DispatchReport",
    "IssueContent",
    "LedgerRow",
    "Publisher",
    "ReconcileReport",
    "SweepReport",
    "batch_tags",
    "build_outgoing_batch",
    "content_personaliser",
    "dispatch_due",
    "finish_issue_if_done",
    "hold_embargoed_due_issues",
    "issue_content",
    "issue_list_headers",
    "ledger_recipients",
    "personal_recipient",
    "publish_pending_batches",
    "reconcile_batches",
    "run_sending_inline",
    "send_batch",
    "send_test_copies",
    "start_issue_now",
    "sweep_batches",
]
