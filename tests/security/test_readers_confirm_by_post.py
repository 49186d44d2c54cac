"""Double opt-in is confirmed by POST only (M10): a scanner's GET changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber, Subscription
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.links import CONFIRM_PURPOSE
from distributor.domain.subscribers import OptIn
from distributor.domain.tokens import make_token
from distributor.services.subscribers import create_list
from tests.conftest import make_settings
from tests.support.live_app import live_app


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[Settings, httpx.Client]]:
    settings = make_settings(tmp_path, database_url)
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
    with live_app(settings) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
        yield settings, client


def _status(settings: Settings, email: str) -> str | None:
    with session_factory(settings.database_url)() as session:
        return session.scalar(
            select(Subscription.status)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .join(MailingList, MailingList.id == Subscription.list_id)
            .where(Subscriber.email == email, MailingList.name == "weekly")
        )


def _token(settings: Settings, email: str) -> str:
    with session_factory(settings.database_url)() as session:
        subscriber_id, list_id = session.execute(
            select(Subscription.subscriber_id, Subscription.list_id)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == email)
        ).one()
    return make_token(settings.secret_key(), CONFIRM_PURPOSE, subscriber_id, list_id)


def test_a_scanner_following_the_link_confirms_nothing(site: tuple[Settings, httpx.Client]) -> None:
    settings, client = site
    client.post("/signup/weekly", json={"email": "victim@example.org"})
    token = _token(settings, "victim@example.org")

    # What a mail-security scanner does: GET (and HEAD) the link, follow redirects.
    for _ in range(3):
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 200
        client.head(f"/confirm/{token}")
    assert _status(settings, "victim@example.org") == "unconfirmed"
    assert "Subscription confirmed" not in page.text
    assert '<form method="post"' in page.text
    assert f'action="/confirm/{token}"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"

    # The reader presses the button.
    done = client.post(f"/confirm/{token}")
    assert done.status_code == 200
    assert "Subscription confirmed" in done.text
    assert _status(settings, "victim@example.org") == "confirmed"


def test_a_bad_token_is_refused_on_get_and_post(site: tuple[Settings, httpx.Client]) -> None:
    settings, client = site
    client.post("/signup/weekly", json={"email": "reader@example.org"})
    token = _token(settings, "reader@example.org")
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/confirm/{altered}").status_code == 400
    assert client.post(f"/confirm/{altered}").status_code == 400
    assert _status(settings, "reader@example.org") == "unconfirmed"
