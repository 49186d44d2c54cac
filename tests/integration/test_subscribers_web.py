"""Public reader pages over real HTTP: signup, confirmation, one-click unsubscribe, preferences."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.adapters.outbox import OutboxEmailSender
from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber, Subscription
from distributor.db.session import session_factory, unit_of_work
from distributor.domain.links import CONFIRM_PURPOSE, MANAGE_PURPOSE
from distributor.domain.subscribers import OptIn, SuppressionReason
from distributor.domain.tokens import make_token
from distributor.services.confirmation import send_confirmation
from distributor.services.subscribers import create_list
from distributor.services.suppression import suppress
from tests.conftest import make_settings
from tests.support.live_app import live_app
from tests.support.outbox import body_text, read_outbox

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Settings, httpx.Client]]:
    settings = make_settings(tmp_path, sqlite_url, SIGNUP_RATE_LIMIT_PER_HOUR="5")
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="The Weekly", opt_in=OptIn.DOUBLE)
        create_list(session, "daily", title="The Daily", opt_in=OptIn.SINGLE)
    with live_app(settings) as base, httpx.Client(base_url=base, follow_redirects=False) as client:
        yield settings, client


def _db(settings: Settings) -> Session:
    return session_factory(settings.database_url)()


def _membership(settings: Settings, email: str, list_name: str) -> Subscription | None:
    with _db(settings) as session:
        return session.scalar(
            select(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .join(MailingList, MailingList.id == Subscription.list_id)
            .where(Subscriber.email == email, MailingList.name == list_name)
        )


def _ids(settings: Settings, email: str, list_name: str) -> tuple[int, int]:
    membership = _membership(settings, email, list_name)
    assert membership is not None
    return membership.subscriber_id, membership.list_id


def test_signup_form_is_accessible_and_has_a_hidden_honeypot(
    site: tuple[Settings, httpx.Client],
) -> None:
    _, client = site
    page = client.get("/signup/weekly")
    assert page.status_code == 200
    html = page.text
    assert "The Weekly" in html
    for field in ("email", "website"):
        assert f'<label for="{field}"' in html
        assert f'id="{field}"' in html
    assert 'name="name"' not in html  # names come from the reader's preferences page only
    assert 'aria-hidden="true"' in html
    assert 'tabindex="-1"' in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://127", "")
    assert "set-cookie" not in page.headers
    assert client.get("/signup/nosuchlist").status_code == 404


def test_double_opt_in_by_form_then_confirm_twice(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    answer = client.post("/signup/weekly", data={"email": "Reader@Example.org", "name": "王芳"})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    membership = _membership(settings, "reader@example.org", "weekly")
    assert membership is not None
    assert membership.status == "unconfirmed"

    with unit_of_work(settings.database_url) as session:
        sent = send_confirmation(
            session,
            settings,
            membership.subscriber_id,
            membership.list_id,
            OutboxEmailSender(settings.outbox_dir),
        )
    assert sent
    [mail] = read_outbox(settings.outbox_dir, "confirmation-")
    assert mail["To"] is not None
    assert "reader@example.org" in mail["To"]
    text = body_text(mail)
    link = re.search(r"https://news\.example\.org(/confirm/[A-Za-z0-9_-]+)", text)
    assert link is not None, text

    first = client.post(link.group(1))
    assert first.status_code == 200
    assert "confirmed" in first.text
    second = client.post(link.group(1))
    assert second.status_code == 200
    assert "confirmed" in second.text
    confirmed = _membership(settings, "reader@example.org", "weekly")
    assert confirmed is not None
    assert confirmed.status == "confirmed"
    assert confirmed.confirmed_at is not None
    # Confirmed once: the second click did not move the time.
    assert (
        confirmed.confirmed_at == _membership(settings, "reader@example.org", "weekly").confirmed_at
    )  # type: ignore[union-attr]

    # Nothing more is sent once confirmed.
    with unit_of_work(settings.database_url) as session:
        assert not send_confirmation(
            session,
            settings,
            confirmed.subscriber_id,
            confirmed.list_id,
            OutboxEmailSender(settings.outbox_dir),
        )


def test_single_opt_in_by_json_and_errors_in_json(site: tuple[Settings, httpx.Client]) -> None:
    settings, client = site
    ok = client.post("/signup/daily", json={"email": "json@example.org", "language": "zh"})
    assert ok.status_code == 200
    assert ok.json() == {"status": "subscribed", "list": "daily"}
    membership = _membership(settings, "json@example.org", "daily")
    assert membership is not None
    assert membership.status == "confirmed"

    bad = client.post("/signup/daily", json={"email": "not-an-address"})
    assert bad.status_code == 422
    assert "@" in bad.json()["error"]
    assert bad.json()["field"] == "email"

    unknown = client.post("/signup/nope", json={"email": "x@example.org"})
    assert unknown.status_code == 404

    malformed = client.post(
        "/signup/daily", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400


def test_bad_form_input_is_shown_again_with_the_error(site: tuple[Settings, httpx.Client]) -> None:
    _, client = site
    answer = client.post("/signup/weekly", data={"email": "two@@example.org", "name": "Li <b>"})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert 'value="two@@example.org"' in answer.text
    assert "Li &lt;b&gt;" not in answer.text  # the public form takes no name
    assert "Li <b>" not in answer.text


def test_honeypot_answers_like_success_and_stores_nothing(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    answer = client.post(
        "/signup/weekly", data={"email": "bot@example.org", "website": "http://spam.example"}
    )
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    with _db(settings) as session:
        assert (
            session.scalar(select(Subscriber).where(Subscriber.email == "bot@example.org")) is None
        )


def test_signups_are_rate_limited_per_address(site: tuple[Settings, httpx.Client]) -> None:
    _, client = site
    codes = [
        client.post("/signup/weekly", json={"email": f"r{n}@example.org"}).status_code
        for n in range(7)
    ]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
    limited = client.post("/signup/weekly", data={"email": "late@example.org"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def test_suppressed_address_gets_the_same_answer_and_no_email(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    with unit_of_work(settings.database_url) as session:
        suppress(session, "gone@example.org", SuppressionReason.SPAM_REPORT)
    answer = client.post("/signup/weekly", json={"email": "gone@example.org"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "confirmation_sent"
    assert _membership(settings, "gone@example.org", "weekly") is None


def test_get_never_unsubscribes_and_one_click_post_does_at_once(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    client.post("/signup/daily", json={"email": "leaver@example.org"})
    subscriber_id, list_id = _ids(settings, "leaver@example.org", "daily")
    token = make_token(settings.secret_key(), MANAGE_PURPOSE, subscriber_id, list_id)

    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "<form" in page.text
    assert 'method="post"' in page.text
    assert _membership(settings, "leaver@example.org", "daily").status == "confirmed"  # type: ignore[union-attr]

    # What Gmail sends: form-encoded body, no cookies, no auth.
    fresh = httpx.Client(base_url=str(client.base_url), follow_redirects=False)
    with fresh:
        answer = fresh.post(
            f"/unsubscribe/{token}",
            content=ONE_CLICK.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200
    assert "location" not in answer.headers
    assert "set-cookie" not in answer.headers
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    membership = _membership(settings, "leaver@example.org", "daily")
    assert membership is not None
    assert membership.status == "unsubscribed"
    assert membership.unsubscribed_at is not None

    again = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200


@pytest.mark.parametrize("path", ["/unsubscribe/{}", "/preferences/{}", "/confirm/{}"])
def test_forged_or_altered_tokens_get_a_400_that_reveals_nothing(
    site: tuple[Settings, httpx.Client], path: str
) -> None:
    settings, client = site
    client.post("/signup/daily", json={"email": "target@example.org"})
    subscriber_id, list_id = _ids(settings, "target@example.org", "daily")
    purpose = CONFIRM_PURPOSE if path.startswith("/confirm") else MANAGE_PURPOSE
    good = make_token(settings.secret_key(), purpose, subscriber_id, list_id)
    altered = good[:-2] + ("AA" if good[-2:] != "AA" else "BB")
    forged = make_token("another-secret-key-entirely-000000", purpose, subscriber_id, list_id)
    wrong_purpose = make_token(
        settings.secret_key(),
        MANAGE_PURPOSE if purpose == CONFIRM_PURPOSE else CONFIRM_PURPOSE,
        subscriber_id,
        list_id,
    )
    bodies = set()
    for bad in (altered, forged, wrong_purpose, "x", "A" * 90):
        for method in ("GET", "POST"):
            answer = client.request(
                method, path.format(bad), data={"List-Unsubscribe": "One-Click"}
            )
            assert answer.status_code == 400, (bad, method)
            assert "target@example.org" not in answer.text
            bodies.add(answer.text)
    assert len(bodies) == 1  # the same page whatever was wrong
    assert _membership(settings, "target@example.org", "daily").status == "confirmed"  # type: ignore[union-attr]


def test_expired_confirmation_link_is_refused(site: tuple[Settings, httpx.Client]) -> None:
    settings, client = site
    client.post("/signup/weekly", json={"email": "slow@example.org"})
    subscriber_id, list_id = _ids(settings, "slow@example.org", "weekly")
    old = make_token(
        settings.secret_key(), CONFIRM_PURPOSE, subscriber_id, list_id, issued_at=1_000_000_000
    )
    assert client.get(f"/confirm/{old}").status_code == 400
    assert client.post(f"/confirm/{old}").status_code == 400
    assert _membership(settings, "slow@example.org", "weekly").status == "unconfirmed"  # type: ignore[union-attr]


def test_preferences_change_lists_language_and_resubscribe(
    site: tuple[Settings, httpx.Client],
) -> None:
    settings, client = site
    client.post("/signup/daily", json={"email": "pref@example.org"})
    subscriber_id, daily_id = _ids(settings, "pref@example.org", "daily")
    with _db(settings) as session:
        weekly_id = session.scalar(select(MailingList.id).where(MailingList.name == "weekly"))
    token = make_token(settings.secret_key(), MANAGE_PURPOSE, subscriber_id, daily_id)

    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200
    assert "pref@example.org" in page.text
    assert f'id="list-{daily_id}"' in page.text
    assert f'id="list-{weekly_id}"' in page.text
    assert '<label for="language"' in page.text

    # Leave daily, join weekly, read in Chinese.
    saved = client.post(
        f"/preferences/{token}", data={"lists": [str(weekly_id)], "language": "zh", "name": "Pat"}
    )
    assert saved.status_code == 200
    # The page now speaks the language the reader chose ("zh" reads as Simplified Chinese).
    assert "您的设置已保存" in saved.text
    assert _membership(settings, "pref@example.org", "daily").status == "unsubscribed"  # type: ignore[union-attr]
    assert _membership(settings, "pref@example.org", "weekly").status == "confirmed"  # type: ignore[union-attr]
    with _db(settings) as session:
        person = session.get(Subscriber, subscriber_id)
        assert person is not None
        assert person.language == "zh"
        assert person.name == "Pat"

    # Resubscribe to daily from the same link.
    client.post(f"/preferences/{token}", data={"lists": [str(daily_id), str(weekly_id)]})
    assert _membership(settings, "pref@example.org", "daily").status == "confirmed"  # type: ignore[union-attr]

    bad = client.post(f"/preferences/{token}", data={"lists": [str(daily_id)], "language": "??"})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
