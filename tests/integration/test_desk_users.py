"""Desk accounts: the `distributor users` commands and the demo account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.models import User
from distributor.db.session import unit_of_work
from distributor.services.demo import load_demo
from distributor.services.users import DEMO_EMAIL, DEMO_PASSWORD, authenticate
from tests.conftest import make_settings


def test_users_create_makes_an_admin_who_can_sign_in(
    settings: Settings, use_settings: Callable[[Settings], Settings]
) -> None:
    use_settings(settings)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "users",
            "create",
            "Chief@Example.org",
            "--name",
            "Chief",
            "--role",
            "admin",
            "--password-stdin",
            "--json",
        ],
        input="a proper long password\n",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["email"] == "chief@example.org"
    assert created["role"] == "admin"
    with unit_of_work(settings.database_url) as db:
        assert authenticate(db, "chief@example.org", "a proper long password").user is not None
    listed = runner.invoke(cli, ["users", "list", "--json"])
    assert listed.exit_code == 0
    assert [row["email"] for row in json.loads(listed.stdout)] == ["chief@example.org"]


def test_users_create_refuses_bad_input_with_a_reason(
    settings: Settings, use_settings: Callable[[Settings], Settings]
) -> None:
    use_settings(settings)
    runner = CliRunner()
    short = runner.invoke(
        cli, ["users", "create", "a@example.org", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "too short" in short.output
    role = runner.invoke(
        cli,
        ["users", "create", "a@example.org", "--role", "owner", "--password-stdin"],
        input="a proper long password\n",
    )
    assert role.exit_code == 1
    assert "choose one of: editor, admin" in role.output
    ok = runner.invoke(
        cli,
        ["users", "create", "a@example.org", "--password-stdin"],
        input="a proper long password\n",
    )
    assert ok.exit_code == 0
    again = runner.invoke(
        cli,
        ["users", "create", "A@example.org", "--password-stdin"],
        input="another long password\n",
    )
    assert again.exit_code == 1
    assert "already exists" in again.output


@pytest.mark.slow
def test_set_password_unlocks_and_ends_sessions(
    settings: Settings, use_settings: Callable[[Settings], Settings]
) -> None:
    use_settings(settings)
    runner = CliRunner()
    runner.invoke(
        cli,
        ["users", "create", "ed@example.org", "--password-stdin"],
        input="first long password\n",
    )
    with unit_of_work(settings.database_url) as db:
        for _ in range(6):
            authenticate(db, "ed@example.org", "wrong")
        user = db.scalars(select(User).where(User.email == "ed@example.org")).one()
        assert user.locked_until is not None
        nonce_before = user.session_nonce
    result = runner.invoke(
        cli,
        ["users", "set-password", "ed@example.org", "--password-stdin"],
        input="second long password\n",
    )
    assert result.exit_code == 0, result.output
    with unit_of_work(settings.database_url) as db:
        user = db.scalars(select(User).where(User.email == "ed@example.org")).one()
        assert user.locked_until is None
        assert user.session_nonce != nonce_before
        assert authenticate(db, "ed@example.org", "second long password").user is not None


def test_demo_account_only_in_embedded_mode(
    tmp_path: Path, sqlite_url: str, session: Session
) -> None:
    embedded = make_settings(tmp_path, sqlite_url, DEMO_MODE="true")
    load_demo(session, embedded)
    load_demo(session, embedded)  # idempotent
    demo = session.scalars(select(User).where(User.email == DEMO_EMAIL)).all()
    assert len(demo) == 1
    assert demo[0].role == "editor"
    assert authenticate(session, DEMO_EMAIL, DEMO_PASSWORD).user is not None

    with_redis = make_settings(
        tmp_path / "redis",
        sqlite_url.replace("distributor.db", "x.db"),
        REDIS_URL="redis://127.0.0.1:6379/0",
        DEMO_MODE="true",
    )
    assert not with_redis.embedded
    session.delete(demo[0])
    session.flush()
    load_demo(session, with_redis)
    assert session.scalars(select(User).where(User.email == DEMO_EMAIL)).first() is None
    load_demo(session, make_settings(tmp_path, sqlite_url))  # embedded, demo mode off
    assert session.scalars(select(User).where(User.email == DEMO_EMAIL)).first() is None


def test_demo_has_a_list_of_confirmed_readers(
    tmp_path: Path, sqlite_url: str, session: Session
) -> None:
    from distributor.db.models import MailingList, Subscription

    load_demo(session, make_settings(tmp_path, sqlite_url))
    load_demo(session, make_settings(tmp_path, sqlite_url))  # idempotent
    weekly = session.scalars(select(MailingList).where(MailingList.name == "weekly")).one()
    statuses = session.scalars(
        select(Subscription.status).where(Subscription.list_id == weekly.id)
    ).all()
    assert statuses == ["confirmed"] * 3
