"""Demo data: a few stories of our own, in the shape of the first user's real stories.

Shipped as ``distributor/demo/stories.json`` (package data) and taken in through the same
JSON ingest as any CMS, so the demo shows real extraction: a "Loading…" placeholder and the
section label stripped, bylines read from "BY NAME", captions split into caption and credit,
"About the author" moved into the bio, the names-changed note kept as a note.

On purpose, for the editor's warnings: one image has no credit, one author has no bio, and one
story is under embargo until 2030.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.domain.subscribers import OptIn
from distributor.ingest.json_schema import parse_json_document
from distributor.services.ingest import StoreResult, store_articles
from distributor.services.subscribers import add_subscriber, create_list, find_list
from distributor.services.users import ensure_demo_user

DEMO_FILE = "stories.json"
DEMO_LIST = "weekly"
# Readers of the demo list; in embedded mode their copies land as .eml files in the outbox.
DEMO_READERS = (
    ("mara.ellison@example.org", "Mara Ellison", "en"),
    ("chen.siyuan@example.org", "陈思远", "zh-Hans"),
    ("tomas.reyes@example.org", "Tomás Reyes", "en"),
)


def demo_document() -> bytes:
    """The bytes of the demo stories file."""
    return resources.files("distributor.demo").joinpath(DEMO_FILE).read_bytes()


def load_demo(
    session: Session, settings: Settings | None = None, now: datetime | None = None
) -> StoreResult:
    """Store the demo stories (idempotent: a second call changes nothing).

    With ``settings``, also the demo list and, in demo mode (``DEMO_MODE``, embedded only),
    the documented demo editor account (see :func:`distributor.services.users.ensure_demo_user`).
    """
    articles, report = parse_json_document(demo_document(), f"distributor/demo/{DEMO_FILE}")
    if report.problems:  # our own file: a problem here is a bug, say it loudly
        raise ValueError("; ".join(problem.describe() for problem in report.problems))
    result = store_articles(session, articles, now=now)
    if settings is not None:
        ensure_demo_user(session, settings)
        ensure_demo_list(session)
    return result


def ensure_demo_list(session: Session) -> None:
    """A single opt-in demo list with three confirmed readers (idempotent)."""
    if find_list(session, DEMO_LIST) is not None:
        return
    create_list(session, DEMO_LIST, title="The Weekly Dispatch", opt_in=OptIn.SINGLE)
    for email, name, language in DEMO_READERS:
        add_subscriber(session, email, DEMO_LIST, name=name, language=language, confirmed=True)
