"""No server-side request forgery: feeds, partner pushes and WebSub pings never reach our own
network unless the operator allows it.

The attack servers listen on loopback addresses only: 127.0.0.2 stands in for an internal
service, and 127.0.0.1 is allowed through ``FETCH_ALLOWED_NETWORKS`` where a test needs a
"public" server (a CMS that redirects).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services import feeds
from distributor.services.feeds import PartnerSettings, create_partner
from distributor.services.ingest import add_source, ingest_document
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.security.attack_servers import Answer, recording_server

SECRET = "INTERNAL-SECRET-TOKEN-abc123"
ADMIN_PANEL = b"INTERNAL-ADMIN-PANEL secret_token=hunter2 " + b"x" * 400
REFUSED = "refused to connect to"


def _rss(title: str, guid: str = "https://cms.example.org/?p=1") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Feed</title><link>https://cms.example.org/</link>
<description>d</description>
<item><title>{title}</title><link>{guid}</link><guid>{guid}</guid>
<description>{title}: cloud credentials here</description>
<pubDate>Fri, 04 Dec 2026 10:00:00 GMT</pubDate></item>
</channel></rss>""".encode()


INTERNAL_FEED = Answer(200, _rss(SECRET), {"Content-Type": "application/rss+xml"})


def _refusing(
    tmp_path: Path,
    sqlite_url: str,
    use_settings: Callable[[Settings], Settings],
    **overrides: str,
) -> Settings:
    """Settings as shipped: internal addresses refused."""
    return use_settings(
        make_settings(tmp_path, sqlite_url, FETCH_ALLOW_PRIVATE_ADDRESSES="false", **overrides)
    )


def _sources(settings: Settings) -> list[models.Source]:
    with unit_of_work(settings.database_url) as session:
        return list(session.scalars(select(models.Source)))


def test_sources_add_refuses_internal_and_non_http_targets(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = _refusing(tmp_path, sqlite_url, use_settings)
    runner = CliRunner()
    refused = {
        "http://127.0.0.2:8080/feed.xml": "loopback",
        "HTTP://127.0.0.1:8080/feed.xml": "loopback",
        "http://0x7f000001:8080/feed.xml": "loopback",
        "http://[::1]:8080/feed.xml": "loopback",
        "http://[::ffff:127.0.0.1]/feed.xml": "loopback",
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://[fe80::1]/feed.xml": "link-local",
        "http://10.0.0.5/feed.xml": "private",
        "http://192.168.1.1/feed.xml": "private",
        "http://[fd00::1]/feed.xml": "private",
        "http://224.0.0.1/feed.xml": "multicast",
        "http://240.0.0.1/feed.xml": "reserved",
        "http://0.0.0.0:8080/feed.xml": "unspecified",
        "http://100.64.0.1/feed.xml": "not a public",
        "ftp://cms.example.org/feed.xml": "http://",
        "file:///etc/passwd": "http://",
    }
    for url, reason in refused.items():
        result = runner.invoke(cli, ["sources", "add", url])
        assert result.exit_code == 1, (url, result.output)
        assert reason in result.output, (url, result.output)
    assert _sources(settings) == []

    # An intranet CMS can be allowed by network, and nothing else is opened by it.
    _refusing(tmp_path, sqlite_url, use_settings, FETCH_ALLOWED_NETWORKS="127.0.0.2/32")
    assert runner.invoke(cli, ["sources", "add", "http://127.0.0.2:8080/feed.xml"]).exit_code == 0
    assert runner.invoke(cli, ["sources", "add", "http://10.0.0.5/feed.xml"]).exit_code == 1
    assert [source.url for source in _sources(settings)] == ["http://127.0.0.2:8080/feed.xml"]


def test_a_redirect_to_an_internal_address_is_not_followed_nor_published(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.tasks import poll_sources

    # 127.0.0.1 plays the public CMS; 127.0.0.2 is the internal service.
    settings = _refusing(tmp_path, sqlite_url, use_settings, FETCH_ALLOWED_NETWORKS="127.0.0.1/32")
    with (
        recording_server("127.0.0.2", INTERNAL_FEED) as internal,
        recording_server(
            "127.0.0.1", Answer(302, headers={"Location": internal.url("/internal-secret")})
        ) as cms,
    ):
        added = CliRunner().invoke(cli, ["sources", "add", cms.url("/redir-to-internal")])
        assert added.exit_code == 0, added.output
        result = poll_sources.apply().get()
        with unit_of_work(settings.database_url) as session:
            feeds.rebuild_feeds(session, settings, None, datetime.now(UTC))
        public = TestClient(create_app(settings)).get("/feeds/public.rss")

    assert cms.hits == [("GET", "/redir-to-internal", f"127.0.0.1:{cms.port}")]
    assert internal.hits == []
    assert result[cms.url("/redir-to-internal")]["ok"] is False
    assert SECRET not in public.text
    [source] = _sources(settings)
    assert source.last_error is not None
    assert f"{REFUSED} 127.0.0.2: a loopback address" in source.last_error
    with unit_of_work(settings.database_url) as session:
        assert session.scalars(select(models.Article)).all() == []


def test_a_registered_source_is_checked_again_at_every_connection(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    """A name that resolved to a public address when it was added (or was added while the
    check was off) is refused when it now resolves to an internal one."""
    from workers.tasks import poll_sources

    settings = _refusing(tmp_path, sqlite_url, use_settings)
    with recording_server("127.0.0.1", INTERNAL_FEED) as internal:
        url = f"http://localhost:{internal.port}/feed.xml"
        with unit_of_work(settings.database_url) as session:
            add_source(session, url, interval_seconds=60)
        result = poll_sources.apply().get()
        assert internal.hits == []
        assert result[url]["ok"] is False
        [source] = _sources(settings)
        assert source.last_error is not None
        assert f"{REFUSED} localhost (" in source.last_error

        # Allowed by network, the same fetch connects to the checked address with the
        # URL's own host name in the Host header.
        _refusing(tmp_path, sqlite_url, use_settings, FETCH_ALLOWED_NETWORKS="127.0.0.0/8, ::1/128")
        assert CliRunner().invoke(cli, ["sources", "poll", "--all"]).exit_code == 0
        assert internal.hits == [("GET", "/feed.xml", f"localhost:{internal.port}")]


def _ingest_one_story(settings: Settings) -> None:
    with unit_of_work(settings.database_url) as session:
        ingest_document(session, _rss("A story"), "cms")


def test_partner_push_urls_to_internal_addresses_are_refused(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.tasks import push_partners

    settings = _refusing(tmp_path, sqlite_url, use_settings)
    with recording_server("127.0.0.2", Answer(500, ADMIN_PANEL)) as panel:
        hook = panel.url("/hook")
        created = CliRunner().invoke(cli, ["partners", "create", "Intranet", "--push-url", hook])
        assert created.exit_code == 1, created.output
        assert "--push-url" in created.output
        assert "loopback" in created.output
        changed_to = CliRunner().invoke(
            cli, ["partners", "create", "Other", "--push-url", "http://169.254.169.254/h"]
        )
        assert changed_to.exit_code == 1, changed_to.output

        # A push URL stored before (or through another door) is refused when connecting.
        with unit_of_work(settings.database_url) as session:
            create_partner(session, "Stored", PartnerSettings(push_url=hook), datetime.now(UTC))
        _ingest_one_story(settings)
        push_partners.apply().get()
        assert panel.hits == []
        with unit_of_work(settings.database_url) as session:
            [push] = session.scalars(select(models.PartnerPush)).all()
            assert push.last_status_code is None
            assert push.last_error is not None
            assert f"{REFUSED} 127.0.0.2" in push.last_error


def test_a_failed_push_stores_no_part_of_the_answer(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    """Even where internal partners are allowed, a push URL cannot be used to read whatever
    answers there: the push log keeps the status and our own short reason."""
    from workers.tasks import push_partners

    allowed = use_settings(make_settings(tmp_path, sqlite_url))
    with recording_server("127.0.0.2", Answer(500, ADMIN_PANEL)) as panel:
        with unit_of_work(allowed.database_url) as session:
            create_partner(
                session, "Intranet", PartnerSettings(push_url=panel.url("/hook")), datetime.now(UTC)
            )
        with unit_of_work(allowed.database_url) as session:
            ingest_document(session, _rss("Another story", "https://cms.example.org/?p=2"), "cms")
        push_partners.apply().get()
        assert [hit[1] for hit in panel.hits] == ["/hook"]
    with unit_of_work(allowed.database_url) as session:
        pushes = session.scalars(
            select(models.PartnerPush).where(models.PartnerPush.last_status_code == 500)
        ).all()
    assert len(pushes) == 1
    assert pushes[0].last_error == "HTTP 500 (an error at the partner)"
    log = CliRunner().invoke(cli, ["partners", "log", "Intranet", "--json"])
    assert log.exit_code == 0, log.output
    assert "hunter2" not in log.output
    assert "INTERNAL-ADMIN-PANEL" not in json.dumps(log.output)


def test_websub_pings_to_an_internal_hub_are_refused(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from workers.tasks import rebuild_feeds

    with recording_server("127.0.0.2", Answer(204)) as hub:
        settings = _refusing(tmp_path, sqlite_url, use_settings, WEBSUB_HUB_URL=hub.url("/hub"))
        _ingest_one_story(settings)
        refused = rebuild_feeds.apply(args=[None]).get()
        assert refused["hub_errors"] >= 1
        assert hub.hits == []

        use_settings(make_settings(tmp_path, sqlite_url, WEBSUB_HUB_URL=hub.url("/hub")))
        with unit_of_work(settings.database_url) as session:
            ingest_document(session, _rss("Changed", "https://cms.example.org/?p=3"), "cms")
        allowed = rebuild_feeds.apply(args=[None]).get()
        assert allowed["hub_errors"] == 0
        assert hub.hits
        assert all(hit[:2] == ("POST", "/hub") for hit in hub.hits)
