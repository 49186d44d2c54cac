"""The desk's Send now and Schedule over HTTP: the pre-flight dialog with the recipient count,
confirmation, "Sending…", embargo refusals that cannot be confirmed away, typed fields kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import seed_newsroom, sign_in

Desk = tuple[TestClient, Settings, dict[str, int]]


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    settings = make_settings(tmp_path, database_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    ids = seed_newsroom(settings.database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, settings, ids


def _issue(client: TestClient, token: str, ids: dict[str, int], *slugs: str) -> int:
    response = client.post(
        "/issues",
        data={
            "csrf_token": token,
            "article_id": [str(ids[slug]) for slug in slugs],
            "list_id": [str(ids["list"])],
            "subject": "This week",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/issues/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def _issue_row(settings: Settings, issue_id: int) -> models.Issue:
    with unit_of_work(settings.database_url) as db:
        issue = db.get(models.Issue, issue_id)
        assert issue is not None
        db.expunge(issue)
        return issue


def _text(response_text: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response_text)))


def test_send_now_asks_with_the_recipient_count_then_says_sending(desk: Desk) -> None:
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _issue(client, token, ids, "night-shift", "river-towns")

    asked = client.post(f"/issues/{issue_id}/schedule", data={"csrf_token": token, "now": "1"})

    assert asked.status_code == 200
    page = _text(asked.text)
    assert 'id="preflight"' in asked.text
    assert "Send now?" in page
    assert re.search(r"goes to 2 recipients\s*, now\.", page)
    assert "“The night shift at the harbour”: image 1 has no credit" in page
    assert "“河边小镇的冬天” is in zh-Hans but the list weekly is in en" in page
    assert "Send now to 2 recipients despite 2 warnings" in page
    assert _issue_row(settings, issue_id).status == "draft"  # nothing happens without a yes

    confirmed = client.post(
        f"/issues/{issue_id}/schedule",
        data={"csrf_token": token, "now": "1", "confirm": "1", "timezone": "UTC"},
    )

    assert confirmed.status_code == 200
    after = _text(confirmed.text)
    assert f"Sending… issue #{issue_id} is going out to 2 recipients now." in after
    assert "Scheduled" not in after
    assert re.search(r'id="issue-status"[^>]*>sending…<', confirmed.text)
    issue = _issue_row(settings, issue_id)
    assert issue.status == "scheduled"
    assert issue.send_at is not None
    assert abs(issue.send_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_embargoed_issue_is_refused_even_when_confirmed_and_offers_the_earliest_time(
    desk: Desk,
) -> None:
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _issue(client, token, ids, "night-shift", "budget-leak")
    with unit_of_work(settings.database_url) as db:
        embargo = db.get(models.Article, ids["budget-leak"]).embargo_until  # type: ignore[union-attr]
    assert embargo is not None
    taipei = embargo.astimezone(ZoneInfo("Asia/Taipei"))

    now = client.post(
        f"/issues/{issue_id}/schedule",
        data={"csrf_token": token, "now": "1", "confirm": "1", "timezone": "Asia/Taipei"},
    )
    assert now.status_code == 409
    page = _text(now.text)
    assert "Cannot send now" in page
    assert (
        f"“What the budget leak shows” (article {ids['budget-leak']}) is embargoed until "
        f"{taipei:%Y-%m-%d %H:%M} Asia/Taipei ({embargo.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    ) in page
    assert 'id="preflight-confirm"' not in now.text
    assert _issue_row(settings, issue_id).status == "draft"

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("Asia/Taipei"))
    typed = {"send_date": f"{tomorrow:%Y-%m-%d}", "send_time": "08:15", "timezone": "Asia/Taipei"}
    early = client.post(
        f"/issues/{issue_id}/schedule", data={"csrf_token": token, "confirm": "1", **typed}
    )
    assert early.status_code == 409
    assert "Cannot schedule at that time" in _text(early.text)
    assert "The earliest allowed time is" in _text(early.text)
    # The schedule form keeps what the editor typed.
    assert f'id="send_date" name="send_date" type="date" required value="{typed["send_date"]}"' in (
        early.text
    )
    assert 'id="send_time" name="send_time" type="time" required value="08:15"' in early.text
    assert 'name="timezone" type="text" list="zones" required value="Asia/Taipei"' in early.text
    assert _issue_row(settings, issue_id).status == "draft"

    # The offered earliest time is accepted after its own pre-flight and a confirmation.
    form = re.search(r'<form[^>]*id="preflight-earliest".*?</form>', early.text, re.S)
    assert form
    fields = dict(re.findall(r'name="(send_date|send_time|timezone)" value="([^"]+)"', form[0]))
    asked = client.post(f"/issues/{issue_id}/schedule", data={"csrf_token": token, **fields})
    assert asked.status_code == 200
    assert 'id="preflight-confirm"' in asked.text
    done = client.post(
        f"/issues/{issue_id}/schedule", data={"csrf_token": token, "confirm": "1", **fields}
    )
    assert "Scheduled: it goes out to 2 recipients" in _text(done.text)
    issue = _issue_row(settings, issue_id)
    assert issue.status == "scheduled"
    assert issue.send_at is not None
    assert embargo <= issue.send_at < embargo + timedelta(minutes=1)


def test_after_an_error_the_schedule_fields_keep_what_the_editor_typed(desk: Desk) -> None:
    client, _, ids = desk
    token = sign_in(client)
    issue_id = _issue(client, token, ids, "night-shift")

    bad_zone = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-01-01",
            "send_time": "15:34",
            "timezone": "Hong Kong",
        },
    )

    assert bad_zone.status_code == 400
    assert "unknown time zone" in bad_zone.text
    assert 'value="2099-01-01"' in bad_zone.text
    assert 'value="15:34"' in bad_zone.text
    assert 'required value="Hong Kong"' in bad_zone.text
    past = client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2020-01-01",
            "send_time": "07:45",
            "timezone": "Asia/Hong_Kong",
        },
    )
    assert "has already passed" in past.text
    assert 'value="2020-01-01"' in past.text
    assert 'value="07:45"' in past.text
    assert 'required value="Asia/Hong_Kong"' in past.text
