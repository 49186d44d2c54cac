"""A preferences link (it shows the reader's address and changes subscriptions) stops opening
that page after PREFERENCES_LINK_MAX_AGE_DAYS, so an old link found in a log, a forwarded
email or a browser history no longer reveals or acts for the reader; unsubscribing with it
still works (RFC 8058 links in old emails must)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from distributor.db.models import Subscription
from distributor.db.session import unit_of_work
from distributor.domain.links import MANAGE_PURPOSE
from distributor.domain.tokens import make_token
from distributor.services.subscribers import add_subscriber, create_list
from distributor.web.app import create_app
from tests.conftest import make_settings

READER = "reader.at.risk@example.org"
DAY = 24 * 3600


def test_an_old_preferences_link_no_longer_shows_the_address_but_still_unsubscribes(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, PREFERENCES_LINK_MAX_AGE_DAYS="30")
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly")
        member = add_subscriber(session, READER, "weekly", confirmed=True)
        ids = (member.subscriber_id, member.list_id)
    secret = settings.secret_key()
    now = int(time.time())
    fresh = make_token(secret, MANAGE_PURPOSE, *ids, issued_at=now - 29 * DAY)
    old = make_token(secret, MANAGE_PURPOSE, *ids, issued_at=now - 31 * DAY)
    with TestClient(create_app(settings)) as client:
        assert READER in client.get(f"/preferences/{fresh}").text

        expired = client.get(f"/preferences/{old}")
        assert expired.status_code == 410
        assert READER not in expired.text
        assert "expired" in expired.text
        assert f"/unsubscribe/{old}" in expired.text
        changed = client.post(f"/preferences/{old}", data={"name": "Someone else"})
        assert changed.status_code == 410
        assert READER not in changed.text

        left = client.post(f"/unsubscribe/{old}")
        assert left.status_code == 200
    with unit_of_work(settings.database_url) as session:
        membership = session.get(Subscription, ids)
        assert membership is not None
        assert membership.status == "unsubscribed"
