"""Migration 0010 on a database written by the previous version: unkeyed hashes become keyed
(suppressions and erased readers keep matching), bounce details lose their addresses and the
events of readers erased earlier lose their personal data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from distributor.db.migrate import upgrade
from distributor.db.session import engine_for, unit_of_work
from distributor.services.subscribers import sign_up
from distributor.services.suppression import address_hash, is_suppressed
from tests.security.test_erasure import database_hits
from tests.support.old_database import database_at


def _legacy(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated to revision 0006 only."""
    with database_at(request.param, "0006", tmp_path) as url:
        yield url


def test_upgrade_rekeys_hashes_and_scrubs_what_erasure_left(old_database: str) -> None:
    engine = engine_for(old_database)
    now = "2026-11-01 10:00:00"
    open_event = {
        "email": "gone@example.org",
        "event": "open",
        "ip": "198.51.100.7",
        "useragent": "gone-phone",
        "sg_event_id": "e1",
        "timestamp": 1,
    }
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lists (name, title, opt_in, language, description, created_at)"
                " VALUES ('weekly', 'Weekly', 'single', 'en', '', :now)"
            ),
            {"now": now},
        )
        for email, hashed, status in (
            ("kept@example.org", _legacy("kept@example.org"), "active"),
            (None, _legacy("gone@example.org"), "erased"),
        ):
            connection.execute(
                text(
                    "INSERT INTO subscribers (email, email_hash, attributes, status,"
                    " soft_bounces, created_at, updated_at)"
                    " VALUES (:email, :hash, '{}', :status, 0, :now, :now)"
                ),
                {"email": email, "hash": hashed, "status": status, "now": now},
            )
        for hashed, reason, detail in (
            (_legacy("gone@example.org"), "erased", "erased on request"),
            (_legacy("bounced@example.org"), "hard_bounce", "550 <bounced@example.org>: unknown"),
        ):
            connection.execute(
                text(
                    "INSERT INTO suppressions (email_hash, reason, detail, created_at)"
                    " VALUES (:hash, :reason, :detail, :now)"
                ),
                {"hash": hashed, "reason": reason, "detail": detail, "now": now},
            )
        connection.execute(
            text(
                "INSERT INTO provider_events (provider, event_id, event, email_hash, payload,"
                " received_at) VALUES ('sendgrid', 'e1', 'open', :hash, :payload, :now)"
            ),
            {"hash": _legacy("gone@example.org"), "payload": json.dumps(open_event), "now": now},
        )
    # Before: anyone can confirm a guessed address, and the erased reader's IP is stored.
    assert database_hits(engine, [_legacy("gone@example.org"), "198.51.100.7"])

    upgrade(old_database)

    assert database_hits(engine, ["gone@example.org", "198.51.100.7", "gone-phone"]) == []
    assert database_hits(engine, ["bounced@example.org"]) == []
    for guess in ("gone@example.org", "kept@example.org", "bounced@example.org"):
        assert database_hits(engine, [_legacy(guess)]) == []
    with unit_of_work(old_database) as session:
        # The keyed hashes match what the service computes: suppressions still hold, and the
        # active reader is still found by hash.
        assert is_suppressed(session, "bounced@example.org")
        assert is_suppressed(session, "Gone@Example.org")
        assert not is_suppressed(session, "kept@example.org")
        kept = session.scalar(text("SELECT email_hash FROM subscribers WHERE email IS NOT NULL"))
        assert kept == address_hash("kept@example.org")
        # Lists that existed before 0009 are private; this one takes signups again.
        session.execute(text("UPDATE lists SET visibility = 'public' WHERE name = 'weekly'"))
        assert sign_up(session, "weekly", "bounced@example.org").status == "suppressed"
        payload = session.scalar(text("SELECT payload FROM provider_events"))
    stored = json.loads(payload) if isinstance(payload, str) else payload
    assert stored == {"event": "open", "sg_event_id": "e1", "timestamp": 1, "_scrubbed": True}
