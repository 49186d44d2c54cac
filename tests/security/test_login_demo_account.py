"""The demo desk account (M8): an editor, only while demo mode is on, disabled otherwise.

Runs the real ``distributor serve`` twice on one SQLite database: with ``--demo``, then without.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.users import DEMO_EMAIL, DEMO_PASSWORD, create_user
from tests.security.serving import served


def _sign_in(client: httpx.Client) -> httpx.Response:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    return client.post(
        "/login",
        data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def test_demo_account_is_an_editor_and_stops_working_without_demo(tmp_path: Path) -> None:
    # As an older version left it: the demo account as an administrator.
    database_url = f"sqlite:///{(tmp_path / 'distributor.db').as_posix()}"
    upgrade(database_url)
    with unit_of_work(database_url) as db:
        create_user(db, DEMO_EMAIL, DEMO_PASSWORD, role="admin")
    engine_for(database_url).dispose()

    with served(tmp_path, "--demo") as base, httpx.Client(base_url=base) as client:
        assert _sign_in(client).status_code == 303
        assert client.get("/admin/users", follow_redirects=False).status_code == 403
        assert client.get("/", follow_redirects=False).status_code == 200
        kept_cookie = dict(client.cookies)

    with served(tmp_path) as base, httpx.Client(base_url=base) as client:
        assert _sign_in(client).status_code != 303
        # A session opened in demo mode ends too.
        with httpx.Client(base_url=base, cookies=kept_cookie) as old:
            assert old.get("/", follow_redirects=False).status_code == 303
