"""No reader address, name or link token in the logs of a real server.

The attack: whoever reads the logs (an operator, a log service, a leaked archive) collects
the preferences and confirmation links of readers (a preferences page shows the address and
changes subscriptions) and the addresses and names that database errors quote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from distributor.db.session import engine_for, unit_of_work
from distributor.domain.links import CONFIRM_PURPOSE, MANAGE_PURPOSE
from distributor.domain.tokens import make_token
from distributor.services.subscribers import add_subscriber, create_list
from tests.conftest import free_port, make_settings

READER = "reader.at.risk@example.org"
SIGNUP = "source.person@example.org"
SIGNUP_NAME = "Secret Source Name"
REFUSAL = "storage refused the row"


def _serve(environ: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "distributor.cli.main", "serve", "--port", str(port)],
            env={**os.environ, **environ},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise AssertionError("the server did not start:\n" + log_path.read_text())


def test_access_and_error_logs_of_a_real_server_carry_no_token_address_or_name(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, SCHEDULER_TICK_SECONDS="3600")
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly")
        member = add_subscriber(session, READER, "weekly", confirmed=True)
        subscriber_id, list_id = member.subscriber_id, member.list_id
    secret = settings.secret_key()
    manage = make_token(secret, MANAGE_PURPOSE, subscriber_id, list_id)
    confirm = make_token(secret, CONFIRM_PURPOSE, subscriber_id, list_id)
    # A real failure: the database refuses a new reader, so the signup's INSERT fails with
    # the address and the name as bound parameters.
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER refuse_readers BEFORE INSERT ON subscribers"
                f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
        )
    engine_for(settings.database_url).dispose()

    port = free_port()
    log_path = tmp_path / "server.log"
    environ = {
        "DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": sqlite_url,
        "SECRET_KEY": secret,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "SCHEDULER_TICK_SECONDS": "3600",
    }
    server = _serve(environ, port, log_path)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get(f"/preferences/{manage}").status_code == 200
            assert client.get(f"/unsubscribe/{manage}").status_code == 200
            assert client.get(f"/confirm/{confirm}").status_code == 200
            failed = client.post(
                "/signup/weekly",
                data={"email": SIGNUP, "name": SIGNUP_NAME},
                headers={"Accept": "text/html"},
            )
            assert failed.status_code == 500
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=20)
    log = log_path.read_text(encoding="utf-8")

    # The requests and the failure were logged (the failure with its traceback) ...
    assert REFUSAL in log
    assert '"status_code": 500' in log or " 500" in log
    # ... without what identifies or acts for a reader.
    for secret_text in (manage, confirm, READER, SIGNUP, SIGNUP_NAME):
        assert secret_text not in log, f"{secret_text!r} is in the server log"
    assert "/preferences/[token]" in log
    assert "/confirm/[token]" in log
