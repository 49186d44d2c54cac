"""One story, one identity (issue 15, point 5), on SQLite and PostgreSQL.

A story is identified by (source, GUID): an item from one source that reuses another source's
GUID is another story and can never retitle, rewrite or un-embargo the first (audit M6). The
JSON API and the desk are sources too. Feed ids are ``tag:`` URIs minted by us unless the GUID
is an http(s) URL no earlier story had, and a revision keeps the id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.domain.partners import FeedFormat
from distributor.domain.sources import SourceKind
from distributor.services.feeds import (
    build_documents,
    document_key,
    load_articles,
    public_audience,
)
from distributor.services.ingest import add_source, builtin_source, get_article, ingest_document
from tests.conftest import make_settings
from tests.integration.test_ingest_store import feed_server  # noqa: F401 - a fixture
from tests.support.schemas import jsonfeed_validator, ninjs_validator, schema_errors

# The audit's repro: an embargoed story posted through the API, then a feed from another CMS
# that reuses its GUID with another title and no embargo.
GUID = "https://newsroom.example/investigation-43"
EMBARGO = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
STORED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
OTHER_FEED = "https://other-cms.example/feed.xml"
ATOM = "{http://www.w3.org/2005/Atom}"

# RFC 4151: tag:authorityName,date:specific, specific = *( pchar / "/" / "?" ).
_DNS = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
TAG_URI = re.compile(
    rf"^tag:(?:[a-z0-9._-]+@)?{_DNS},\d{{4}}(?:-\d{{2}}(?:-\d{{2}})?)?"
    r":(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})*$"
)


def _story(guid: str, title: str, embargo: datetime | None = EMBARGO) -> dict[str, Any]:
    story: dict[str, Any] = {
        "guid": guid,
        "url": "https://newsroom.example/investigation",
        "title": title,
        "body_html": "<p>What the documents show.</p>",
        "published_at": "2026-11-30T08:00:00Z",
    }
    if embargo is not None:
        story["embargo_until"] = embargo.isoformat().replace("+00:00", "Z")
    return story


def _rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS feed of (guid, title, link) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        "<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate>"
        "<description><![CDATA[<p>Replaced body.</p>]]></description></item>"
        for guid, title, link in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Other</title>'
        "<link>https://other-cms.example/</link><description>d</description>"
        f"{body}</channel></rss>"
    ).encode()


def test_a_feed_reusing_a_guid_from_the_api_is_another_story(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        api = builtin_source(session, SourceKind.API).id
        first = ingest_document(
            session,
            json.dumps(_story(GUID, "The investigation")).encode(),
            "POST /api/articles",
            source_id=api,
            now=STORED,
        )
        other = add_source(session, OTHER_FEED).id
        second = ingest_document(
            session,
            _rss((GUID, "Hijacked title", "https://other-cms.example/x")),
            "override.xml",
            source_id=other,
            now=STORED,
        )
    assert second.stored.revised == []
    assert len(second.stored.created) == 1
    with unit_of_work(database_url) as session:
        original = get_article(session, first.stored.created[0])
        intruder = get_article(session, second.stored.created[0])
    assert original is not None
    assert intruder is not None
    assert original.title == "The investigation"
    assert original.canonical_url == "https://newsroom.example/investigation"
    assert "What the documents show." in original.body_html
    assert original.embargo_until == EMBARGO
    assert original.revision == 1
    assert original.source_id == api
    assert original.is_embargoed(STORED)
    assert (intruder.source_id, intruder.title, intruder.embargo_until) == (
        other,
        "Hijacked title",
        None,
    )


def test_the_audit_repro_through_the_api_and_the_command_line(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from distributor.web.app import create_app

    settings = use_settings(make_settings(tmp_path, database_url, API_KEY="k-123"))
    client = TestClient(create_app(settings))
    key = {"X-Api-Key": "k-123"}
    posted = client.post("/api/articles", json=_story(GUID, "The investigation"), headers=key)
    assert posted.status_code == 200, posted.text
    story_id = posted.json()["created"][0]
    runner = CliRunner()
    override = tmp_path / "override.xml"
    override.write_bytes(_rss((GUID, "Hijacked title", "https://other-cms.example/x")))

    taken = runner.invoke(cli, ["ingest", str(override), "--json"])
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["revised"] == []
    kept = client.get(f"/api/articles/{story_id}", headers=key).json()
    assert (kept["title"], kept["embargoed"], kept["revision"]) == ("The investigation", True, 1)
    listed = json.loads(runner.invoke(cli, ["articles", "list", "--json"]).stdout)
    assert sorted(item["title"] for item in listed) == ["Hijacked title", "The investigation"]

    # Ingest into the API's own source: that is a revision of the API's story.
    revision = tmp_path / "revision.json"
    revision.write_text(json.dumps(_story(GUID, "The investigation, updated")))
    revised = runner.invoke(cli, ["ingest", str(revision), "--source", "api", "--json"])
    assert revised.exit_code == 0, revised.output
    assert json.loads(revised.stdout)["revised"] == [story_id]
    updated = client.get(f"/api/articles/{story_id}", headers=key).json()
    assert (updated["title"], updated["embargoed"], updated["revision"]) == (
        "The investigation, updated",
        True,
        2,
    )

    unknown = runner.invoke(cli, ["ingest", str(revision), "--source", "nowhere"])
    assert unknown.exit_code == 1
    assert "no source 'nowhere'" in unknown.output

    feeds = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).stdout)
    assert feeds == []
    everything = json.loads(runner.invoke(cli, ["sources", "list", "--all", "--json"]).stdout)
    assert sorted((row["kind"], row["name"]) for row in everything) == [
        ("api", "api"),
        ("desk", "desk"),
    ]


def test_ingest_into_a_registered_source_by_name(
    tmp_path: Path, database_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    settings = use_settings(make_settings(tmp_path, database_url))
    runner = CliRunner()
    added = runner.invoke(cli, ["sources", "add", OTHER_FEED, "--name", "Other CMS", "--json"])
    assert added.exit_code == 0, added.output
    source_id = json.loads(added.stdout)["id"]
    export = tmp_path / "export.xml"
    export.write_bytes(_rss(("urn:other:1", "From the export", "https://other-cms.example/1")))
    taken = runner.invoke(cli, ["ingest", str(export), "--source", "other cms", "--json"])
    assert taken.exit_code == 0, taken.output
    desk = runner.invoke(cli, ["ingest", str(export), "--json"])  # no --source: the desk
    assert json.loads(desk.stdout)["created"] != json.loads(taken.stdout)["created"]
    with unit_of_work(settings.database_url) as session:
        stored = get_article(session, json.loads(taken.stdout)["created"][0])
        desk_story = get_article(session, json.loads(desk.stdout)["created"][0])
        desk_source = builtin_source(session, SourceKind.DESK).id
    assert stored is not None
    assert stored.source_id == source_id
    assert desk_story is not None
    assert desk_story.source_id == desk_source


# ------------------------------------------------------------------------------ feed ids
def _ids(settings: Settings, now: datetime) -> dict[FeedFormat, list[tuple[str, str]]]:
    """(id, title) of every item of each current public document."""
    with unit_of_work(settings.database_url) as session:
        articles = load_articles(session)
    audience = public_audience(settings)
    documents = {
        document.key: document.body
        for document in build_documents(settings, audience, articles, now, archives=False)
    }
    found: dict[FeedFormat, list[tuple[str, str]]] = {}
    rss = etree.fromstring(documents[document_key(audience.key, FeedFormat.RSS)])
    found[FeedFormat.RSS] = [
        (str(item.findtext("guid")), str(item.findtext("title"))) for item in rss.iter("item")
    ]
    for item in rss.iter("item"):
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == (
            "true" if guid.text == item.findtext("link") else "false"
        )
    atom = etree.fromstring(documents[document_key(audience.key, FeedFormat.ATOM)])
    found[FeedFormat.ATOM] = [
        (str(entry.findtext(f"{ATOM}id")), str(entry.findtext(f"{ATOM}title")))
        for entry in atom.iter(f"{ATOM}entry")
    ]
    jsonfeed = json.loads(documents[document_key(audience.key, FeedFormat.JSONFEED)])
    assert schema_errors(jsonfeed_validator(), jsonfeed) == []
    found[FeedFormat.JSONFEED] = [(item["id"], item["title"]) for item in jsonfeed["items"]]
    ninjs = json.loads(documents[document_key(audience.key, FeedFormat.NINJS)])
    validator = ninjs_validator("3.1")
    for item in ninjs["items"]:
        assert schema_errors(validator, item) == []
    found[FeedFormat.NINJS] = [
        (item["uri"], item["headlines"][0]["value"]) for item in ninjs["items"]
    ]
    return found


def test_feed_ids_are_minted_per_source_and_survive_a_revision(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, FEED_TAG_AUTHORITY="News.Example.org")
    items = (
        ("urn:cms:7", "Plain GUID", "https://cms-a.example/7"),
        (GUID, "URL GUID", "https://newsroom.example/investigation-43"),
        ("cms id 9/ü%", "Odd GUID", "https://cms-a.example/9"),
    )
    with unit_of_work(settings.database_url) as session:
        first = add_source(session, "https://cms-a.example/feed.xml").id
        second = add_source(session, OTHER_FEED).id
        ingest_document(session, _rss(*items), "a", source_id=first, now=STORED)
        ingest_document(
            session,
            _rss(*((guid, f"{title} (B)", link) for guid, title, link in items)),
            "b",
            source_id=second,
            now=STORED + timedelta(days=3),
        )
    now = STORED + timedelta(days=5)
    before = _ids(settings, now)

    ids = {title: item for item, title in before[FeedFormat.ATOM]}
    assert len(ids) == 6
    assert len(set(ids.values())) == 6  # the same GUID from two sources: two ids
    # The first story with a URL GUID keeps it as its id; the other source's copy gets a tag.
    assert ids["URL GUID"] == GUID
    minted = [item for title, item in ids.items() if title != "URL GUID"]
    for item in minted:
        assert TAG_URI.match(item), item
        assert item.startswith("tag:news.example.org,")
    assert ids["Plain GUID"] == f"tag:news.example.org,2026-12-01:source/{first}/urn:cms:7"
    assert ids["Plain GUID (B)"] == f"tag:news.example.org,2026-12-04:source/{second}/urn:cms:7"
    assert ids["Odd GUID"].endswith(f":source/{first}/cms%20id%209/%C3%BC%25")
    # Every format carries the same id for a story.
    for feed_format in FeedFormat:
        assert sorted(before[feed_format]) == sorted(before[FeedFormat.ATOM]), feed_format

    with unit_of_work(settings.database_url) as session:
        revised = ingest_document(
            session,
            _rss(*((guid, f"{title}, corrected", link) for guid, title, link in items)),
            "a",
            source_id=first,
            now=STORED + timedelta(days=4),
        )
    assert len(revised.stored.revised) == 3
    after = _ids(settings, now)
    renamed = {title.removesuffix(", corrected"): item for item, title in after[FeedFormat.ATOM]}
    assert renamed == ids
    assert sum(title.endswith(", corrected") for _, title in after[FeedFormat.NINJS]) == 3


def test_a_feed_read_once_from_a_url_is_its_own_source_and_polling_it_later_revises_it(
    tmp_path: Path,
    sqlite_url: str,
    feed_server: str,  # noqa: F811 - the fixture imported above
    use_settings: Callable[[Settings], Settings],
) -> None:
    use_settings(make_settings(tmp_path, sqlite_url))
    runner = CliRunner()
    once = runner.invoke(cli, ["ingest", feed_server, "--json"])
    assert once.exit_code == 0, once.output
    created = json.loads(once.stdout)["created"]
    assert len(created) == 1
    listed = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).stdout)
    assert [(row["url"], row["kind"], row["active"]) for row in listed] == [
        (feed_server, "feed", False)
    ]
    # Registered for polling afterwards, the same source polls the same story.
    assert runner.invoke(cli, ["sources", "add", feed_server, "--json"]).exit_code == 0
    polled = json.loads(runner.invoke(cli, ["sources", "poll", "--all", "--json"]).stdout)
    assert [item["unchanged"] + item["created"] for item in polled] == [created]
    everything = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).stdout)
    assert [(row["url"], row["active"]) for row in everything] == [(feed_server, True)]
