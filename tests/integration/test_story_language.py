"""Each story carries its own language, stored and shown as BCP 47 (issue 15, point 4):
ingest (feed and JSON API), lists and partners through the services, the CLI and the desk.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.feeds import PartnerError, PartnerSettings, create_partner
from distributor.services.ingest import ingest_document
from distributor.services.issues import create_issue, preflight_issue
from distributor.services.subscribers import SubscriberError, create_list, update_list
from tests.conftest import make_settings
from tests.integration.test_desk_pages import seed_newsroom, sign_in

NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
GERMAN = (
    "Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für Wärmepumpen zu "
    "verlängern. Nach Angaben des Wirtschaftsministeriums sollen Haushalte mit geringem "
    "Einkommen einen höheren Zuschuss erhalten als bisher."
)
CHINESE = (
    "河边小镇的冬天来得很早。每天清晨，骑手们在桥下等单，他们说这份工作让家里的生活好了一些，"
    "但是没有人知道明年会怎么样。"
)
TRADITIONAL = (
    "河邊小鎮的冬天來得很早。每天清晨，騎手們在橋下等單，他們說這份工作讓家裡的生活好了一些，"
    "但是沒有人知道明年會怎麼樣。"
)
ENGLISH = (
    "The council said on Wednesday that the ferry between the two harbour towns would run "
    "every hour from next spring, after a campaign by residents who commute to the city."
)


def _feed(channel_language: str) -> bytes:
    items = [
        ("ferry", "Hourly ferry for the harbour towns", ENGLISH, ""),
        ("heat", "Mehr Geld für Wärmepumpen", GERMAN, ""),
        ("river", "河边小镇的冬天", CHINESE, ""),
        ("taipei", "河邊小鎮的冬天", TRADITIONAL, ""),
        ("declared", "Déclaré", GERMAN, "<dc:language>FR_ca</dc:language>"),
    ]
    body = "".join(
        f"<item><title>{title}</title><link>https://cms.example.org/{slug}</link>"
        f"<guid>https://cms.example.org/{slug}</guid>{extra}"
        f"<description><![CDATA[<p>{text}</p>]]></description></item>"
        for slug, title, text, extra in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        "<link>https://cms.example.org/</link><description>d</description>"
        f"<language>{channel_language}</language>{body}</channel></rss>"
    ).encode()


EXPECTED = {
    "https://cms.example.org/ferry": "en-GB",
    "https://cms.example.org/heat": "de",
    "https://cms.example.org/river": "zh-Hans",
    "https://cms.example.org/taipei": "zh-Hant",
    "https://cms.example.org/declared": "fr-CA",
}


def _stored_languages(url: str) -> dict[str, str]:
    with unit_of_work(url) as session:
        rows = session.execute(select(models.Article.canonical_url, models.Article.language))
        return {str(link): str(language) for link, language in rows}


def test_ingest_stores_each_storys_own_language(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        outcome = ingest_document(session, _feed("en-gb"), "mixed.rss", now=NOW)
    assert len(outcome.stored.created) == 5
    assert outcome.report.problems == []
    assert _stored_languages(database_url) == EXPECTED


def test_an_unusable_channel_language_is_reported_not_fatal(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        outcome = ingest_document(session, _feed("English (UK)"), "bad.rss", now=NOW)
    assert len(outcome.stored.created) == 5
    assert [p.reason for p in outcome.report.problems] == [
        "channel language 'English (UK)' is not a BCP 47 language tag; each story's language "
        "comes from its own declaration or its text"
    ]
    stored = _stored_languages(database_url)
    assert stored["https://cms.example.org/ferry"] == "en"
    assert stored["https://cms.example.org/heat"] == "de"


def test_json_api_language_is_normalised_or_refused(tmp_path: Path, database_url: str) -> None:
    from distributor.web.app import create_app

    settings = make_settings(tmp_path, database_url, API_KEY="k-123")
    client = TestClient(create_app(settings))
    stories = [
        {"guid": "t-1", "url": "https://x.example/t-1", "title": "一", "language": "zh_HANT",
         "body_html": f"<p>{CHINESE}</p>"},
        {"guid": "t-2", "url": "https://x.example/t-2", "title": "Zwei",
         "body_html": f"<p>{GERMAN}</p>"},
        {"guid": "t-3", "url": "https://x.example/t-3", "title": "Three", "language": "klingon"},
    ]  # fmt: skip
    response = client.post("/api/articles", json=stories, headers={"X-Api-Key": "k-123"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["created"]) == 2
    [problem] = body["report"]["problems"]
    assert problem["reason"].startswith("[2].language: ")
    assert "'klingon' is not a BCP 47 language tag" in problem["reason"]
    stored = _stored_languages(database_url)
    assert stored == {"https://x.example/t-1": "zh-Hant", "https://x.example/t-2": "de"}
    fetched = client.get(f"/api/articles/{body['created'][0]}", headers={"X-Api-Key": "k-123"})
    assert fetched.json()["language"] == "zh-Hant"


def test_list_and_partner_languages_are_canonical_or_refused(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        created = create_list(session, "zhoukan", title="周刊", language="zh_hans")
        assert created.language == "zh-Hans"
        update_list(session, "zhoukan", language="ZH-hant")
        assert created.language == "zh-Hant"
        with pytest.raises(SubscriberError, match="not a BCP 47 language tag"):
            create_list(session, "bad", language="chinese")
        partner = create_partner(
            session, "Taipei Daily", PartnerSettings(languages=("zh_tw", "zh-TW", "en")), NOW
        )
        assert list(partner.partner.languages) == ["zh-TW", "en"]
        with pytest.raises(PartnerError, match="--language: language 'mandarin'"):
            create_partner(session, "Bad", PartnerSettings(languages=("mandarin",)), NOW)


def test_preflight_warns_for_another_script_not_another_region(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    with unit_of_work(database_url) as session:
        ingest_document(session, _feed("en-GB"), "mixed.rss", now=NOW)
        create_list(session, "weekly", title="Weekly", language="en")
        create_list(session, "zhoukan", title="周刊", language="zh-Hans")
        ids = {
            str(link): int(number)
            for number, link in session.execute(
                select(models.Article.id, models.Article.canonical_url)
            )
        }
        english = create_issue(
            session, ["weekly"], "Weekly", [ids["https://cms.example.org/ferry"]]
        )
        chinese = create_issue(
            session,
            ["zhoukan"],
            "周刊",
            [ids["https://cms.example.org/river"], ids["https://cms.example.org/taipei"]],
        )
        english_id, chinese_id = english.id, chinese.id
    with unit_of_work(database_url) as session:
        english_problems = preflight_issue(session, settings, english_id).problems
        chinese_problems = preflight_issue(session, settings, chinese_id).problems
    assert [p for p in english_problems if p.kind == "language"] == []
    messages = [p.message for p in chinese_problems if p.kind == "language"]
    assert messages == ["“河邊小鎮的冬天” is in zh-Hant but the list zhoukan is in zh-Hans"]


def test_cli_lists_partners_and_ingest_speak_bcp47(
    tmp_path: Path, sqlite_url: str, use_settings: Callable[[Settings], Settings]
) -> None:
    from distributor.cli.main import app

    use_settings(make_settings(tmp_path, sqlite_url))
    runner = CliRunner()
    created = runner.invoke(app, ["lists", "create", "zhoukan", "--language", "zh_hant", "--json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["language"] == "zh-Hant"
    refused = runner.invoke(app, ["lists", "create", "bad", "--language", "Chinese please"])
    assert refused.exit_code != 0
    assert "not a BCP 47 language tag" in refused.output
    changed = runner.invoke(app, ["lists", "update", "zhoukan", "--language", "zh-hans"])
    assert changed.exit_code == 0, changed.output
    partner = runner.invoke(app, ["partners", "create", "Taipei", "--language", "zh-hant"])
    assert partner.exit_code == 0, partner.output
    shown = json.loads(runner.invoke(app, ["partners", "show", "Taipei", "--json"]).stdout)
    assert shown["languages"] == ["zh-Hant"]
    bad_partner = runner.invoke(app, ["partners", "create", "Nope", "--language", "xx-bad"])
    assert bad_partner.exit_code != 0
    assert "not a BCP 47 language tag" in bad_partner.output

    feed = tmp_path / "mixed.rss"
    feed.write_bytes(_feed("en-gb"))
    ingested = runner.invoke(app, ["ingest", str(feed), "--json"])
    assert ingested.exit_code == 0, ingested.output
    listed = json.loads(runner.invoke(app, ["articles", "list", "--json"]).stdout)
    assert {item["url"]: item["language"] for item in listed} == EXPECTED


def test_desk_shows_each_storys_language(tmp_path: Path, database_url: str) -> None:
    from distributor.web.app import create_app

    settings = make_settings(tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    ids = seed_newsroom(settings.database_url)
    with unit_of_work(settings.database_url) as session:
        # A row stored before tags were normalised is shown in canonical form.
        session.get(models.Article, ids["river-towns"]).language = "zh-hant"  # type: ignore[union-attr]
        issue = create_issue(
            session, ["weekly"], "Weekly", [ids["night-shift"], ids["river-towns"]]
        )
        issue_id = issue.id
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        sign_in(client)
        listing = client.get("/articles").text
        assert '<abbr title="Chinese (Traditional)">zh-Hant</abbr>' in listing
        assert '<abbr title="English">en</abbr>' in listing
        article = client.get(f"/articles/{ids['river-towns']}").text
        assert "zh-Hant (Chinese (Traditional))" in article
        assert '<h1 lang="zh-Hant">' in article
        editor = client.get(f"/issues/{issue_id}").text
        assert 'title="Chinese (Traditional)">zh-Hant</span>' in editor
        assert 'lang="zh-Hant">河边小镇的冬天</a>' in editor
        preview = client.get(f"/issues/{issue_id}/preview/desktop")
        assert preview.status_code == 200
        assert 'lang="zh-Hant"' in preview.text
        assert "繼續閱讀" in preview.text
