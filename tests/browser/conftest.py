"""A served desk seeded with one of each thing a desk page shows, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from distributor.db.migrate import upgrade
from distributor.db.models import Article, Subscriber
from distributor.db.session import engine_for, unit_of_work
from distributor.services.demo import DEMO_LIST, ensure_demo_list, load_demo
from distributor.services.feeds import PartnerSettings, create_partner
from distributor.services.ingest import add_source
from distributor.services.issues import create_issue, schedule_issue
from distributor.services.subscribers import find_list
from distributor.services.users import create_user
from tests.conftest import free_port
from tests.support.serve_process import inherited_environment, running_serve

ADMIN_EMAIL = "pages.admin@example.org"
ADMIN_PASSWORD = "every-page-at-two-sizes"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class SeededDesk:
    """A served desk and the ids of what the seed made."""

    base_url: str
    article_id: int
    draft_issue_id: int
    sent_issue_id: int
    subscriber_id: int
    list_id: int
    partner_id: int
    source_id: int
    scheduled_issue_id: int
    held_issue_id: int


def _seed(database_url: str) -> dict[str, int]:
    upgrade(database_url)
    with unit_of_work(database_url) as db:
        load_demo(db)
        ensure_demo_list(db)
        create_user(db, ADMIN_EMAIL, ADMIN_PASSWORD, name="Page Admin", role="admin")
        partner = create_partner(
            db, "Harbour Wire", PartnerSettings(formats=("rss",)), datetime.now(UTC)
        )
        articles = db.scalars(
            select(Article).where(Article.embargo_until.is_(None)).order_by(Article.id)
        ).all()
        with_images = [article for article in articles if article.images]
        draft = create_issue(
            db,
            [DEMO_LIST],
            "The week on the water",
            [article.id for article in articles],
            editor_note="Dear readers, three stories this week.",
        )
        sent = create_issue(db, [DEMO_LIST], "Last week on the water", [articles[0].id])
        schedule_issue(db, sent.id, datetime.now(UTC))
        scheduled = create_issue(db, [DEMO_LIST], "Next week on the water", [articles[1].id])
        schedule_issue(db, scheduled.id, datetime.now(UTC) + timedelta(days=2), "Asia/Taipei")
        held = create_issue(db, [DEMO_LIST], "Held at the harbour", [articles[2].id])
        held.status = "paused"  # as the dispatcher leaves an issue it held before starting
        held.paused_reason = "“The leak” is embargoed until 2030-01-01 06:00 UTC"
        # A polled feed that has been failing: in back-off, next poll in an hour.
        source = add_source(db, "https://cms.example.net/feed.xml", name="Magazine CMS")
        source.consecutive_failures = 3
        source.last_error = "HTTP 503 Service Unavailable from cms.example.net"
        source.last_polled_at = datetime.now(UTC) - timedelta(minutes=5)
        source.next_poll_at = datetime.now(UTC) + timedelta(hours=1)
        mailing_list = find_list(db, DEMO_LIST)
        assert mailing_list is not None
        subscriber = db.scalars(select(Subscriber).order_by(Subscriber.id)).first()
        assert subscriber is not None
        ids = {
            "article_id": (with_images or articles)[0].id,
            "draft_issue_id": draft.id,
            "sent_issue_id": sent.id,
            "subscriber_id": subscriber.id,
            "list_id": mailing_list.id,
            "partner_id": partner.partner.id,
            "source_id": source.id,
            "scheduled_issue_id": scheduled.id,
            "held_issue_id": held.id,
        }
    engine_for(database_url).dispose()
    return ids


@pytest.fixture
def seeded_desk(tmp_path: Path) -> Iterator[SeededDesk]:
    port = free_port()
    data_dir = tmp_path / "var"
    database_url = f"sqlite:///{(data_dir / 'distributor.db').as_posix()}"
    ids = _seed(database_url)
    env = inherited_environment()
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SECRET_KEY": "browser-test-secret-0123456789",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "SCHEDULER_TICK_SECONDS": "1",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
    )
    with running_serve([], env, port, tmp_path / "serve.log"):
        yield SeededDesk(f"http://127.0.0.1:{port}", **ids)


def sign_in(page: Any, base: str) -> None:
    """Sign the administrator in on ``page``."""
    from playwright.sync_api import expect

    page.goto(base + "/login")
    page.get_by_label("Email address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today at the desk")).to_be_visible()
