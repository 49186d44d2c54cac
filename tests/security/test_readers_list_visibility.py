"""Readers see and join only public lists and their own (M9); private lists take no signups."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber, Subscription
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.links import MANAGE_PURPOSE
from distributor.domain.tokens import make_token
from distributor.services.subscribers import add_subscriber
from tests.conftest import make_settings
from tests.support.live_app import live_app

SECRET_TITLE = "Internal: source protection contacts"
SECRET_NOTE = "Do not share"


def _cli(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


@pytest.fixture
def site(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> Iterator[tuple[Settings, httpx.Client]]:
    settings = use_settings(make_settings(tmp_path, database_url))
    _cli("lists", "create", "weekly", "--title", "The Weekly", "--opt-in", "single")
    _cli(
        "lists", "create", "contacts", "--title", SECRET_TITLE, "--opt-in", "single",
        "--description", SECRET_NOTE, "--visibility", "private",
    )  # fmt: skip
    _cli("lists", "create", "staff", "--title", "Staff notes", "--opt-in", "single")
    _cli("lists", "update", "staff", "--visibility", "private")
    with unit_of_work(settings.database_url) as session:
        add_subscriber(session, "insider@example.org", "staff", confirmed=True)
    with live_app(settings) as base, httpx.Client(base_url=base) as client:
        yield settings, client


def _ids(settings: Settings) -> dict[str, int]:
    with session_factory(settings.database_url)() as session:
        rows = session.execute(select(MailingList.name, MailingList.id)).all()
        return {row.name: row.id for row in rows}


def _manage_token(settings: Settings, email: str, list_name: str) -> str:
    with session_factory(settings.database_url)() as session:
        subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
    assert subscriber_id is not None
    return make_token(
        settings.secret_key(), MANAGE_PURPOSE, subscriber_id, _ids(settings)[list_name]
    )


def _memberships(settings: Settings, email: str) -> dict[str, str]:
    with session_factory(settings.database_url)() as session:
        rows = session.execute(
            select(MailingList.name, Subscription.status)
            .join(Subscription, Subscription.list_id == MailingList.id)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == email)
        )
        return {row.name: row.status for row in rows}


def test_a_reader_neither_sees_nor_joins_a_private_list(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    assert client.post("/signup/weekly", json={"email": "reader@example.org"}).status_code == 200
    token = _manage_token(settings, "reader@example.org", "weekly")
    ids = _ids(settings)

    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200
    assert "The Weekly" in page.text
    assert SECRET_TITLE not in page.text
    assert SECRET_NOTE not in page.text
    assert f'id="list-{ids["contacts"]}"' not in page.text

    saved = client.post(
        f"/preferences/{token}",
        data={"lists": [str(ids["weekly"]), str(ids["contacts"]), str(ids["staff"])]},
    )
    assert saved.status_code == 200
    assert SECRET_TITLE not in saved.text
    assert _memberships(settings, "reader@example.org") == {"weekly": "confirmed"}


def test_signup_to_a_private_list_is_refused_like_an_unknown_list(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    for name in ("contacts", "staff"):
        form = client.get(f"/signup/{name}")
        assert form.status_code == 404
        assert SECRET_TITLE not in form.text
        assert client.post(f"/signup/{name}", data={"email": "spy@example.org"}).status_code == 404
        as_json = client.post(f"/signup/{name}", json={"email": "spy@example.org"})
        assert as_json.status_code == 404
        assert as_json.json() == client.post(
            "/signup/nosuch", json={"email": "x@example.org"}
        ).json() | {"error": f"no newsletter named {name!r}"}
    assert _memberships(settings, "spy@example.org") == {}


def test_members_of_a_private_list_see_it_and_can_leave(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    token = _manage_token(settings, "insider@example.org", "staff")
    ids = _ids(settings)
    page = client.get(f"/preferences/{token}")
    assert f'id="list-{ids["staff"]}"' in page.text
    assert SECRET_TITLE not in page.text
    client.post(f"/preferences/{token}", data={"lists": []})
    assert _memberships(settings, "insider@example.org") == {"staff": "unsubscribed"}
    # Gone from the page once left, and ticking it again does not rejoin.
    again = client.post(f"/preferences/{token}", data={"lists": [str(ids["staff"])]})
    assert f'id="list-{ids["staff"]}"' not in again.text
    assert _memberships(settings, "insider@example.org") == {"staff": "unsubscribed"}


def test_cli_shows_and_changes_visibility(site: tuple[Settings, httpx.Client]) -> None:
    listed = CliRunner().invoke(cli, ["lists", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    by_name = {row["name"]: row for row in json.loads(listed.output)}
    assert by_name["weekly"]["visibility"] == "public"
    assert by_name["contacts"]["visibility"] == "private"
    assert _cli("lists", "update", "contacts", "--visibility", "public")["visibility"] == "public"
    bad = CliRunner().invoke(cli, ["lists", "update", "weekly", "--visibility", "secret"])
    assert bad.exit_code != 0
    assert "visibility" in bad.output.lower()
