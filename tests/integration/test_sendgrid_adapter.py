"""SendGridEmailSender (the real ``sendgrid`` client) against the SendGrid-compatible server."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from distributor.adapters.email_base import (
    AmbiguousDeliveryError,
    OutgoingBatch,
    OutgoingRecipient,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from distributor.adapters.sendgrid import SendGridEmailSender, build_payload
from tests.conftest import free_port
from tests.support.fake_sendgrid import (
    API_KEY,
    FakeSendGrid,
    Faults,
    RequestRejectedError,
    validate_mail_send,
)


def _batch(count: int = 3, name: str | None = "Lin, Mei; editor") -> OutgoingBatch:
    recipients = [
        OutgoingRecipient(
            delivery_id=n,
            email=f"reader{n}@example.org",
            name=name,
            substitutions={"-unsubscribe_url-": f"https://news.example.org/unsubscribe/t{n}"},
            headers={"List-Unsubscribe": f"<https://news.example.org/unsubscribe/t{n}>"},
            custom_args={"dst_issue": "1", "dst_batch": "2", "dst_delivery": str(n)},
        )
        for n in range(count)
    ]
    return OutgoingBatch(
        from_email="news@news.example.org",
        from_name="The Magazine",
        subject="Issue 1",
        text="Hello\nUnsubscribe: -unsubscribe_url-",
        html="<p>Hello</p>",
        recipients=recipients,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        categories=["newsletter", "issue-1"],
    )


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    server = FakeSendGrid(Faults()).start()
    yield server
    server.stop()


def test_one_request_per_batch_is_accepted_with_our_ids(fake: FakeSendGrid) -> None:
    sender = SendGridEmailSender(API_KEY, fake.host, timeout_seconds=5)
    receipt = sender.send_batch(_batch(1000))
    assert receipt.accepted_ids == list(range(1000))
    assert receipt.provider_message_id
    assert fake.state.requests[202] == 1
    assert len(fake.state.accepted) == 1000
    assert fake.state.records[5].custom_args == {
        "dst_issue": "1",
        "dst_batch": "2",
        "dst_delivery": "5",
    }


def test_payload_orders_content_and_cleans_names() -> None:
    payload = build_payload(_batch(2))
    assert [part["type"] for part in payload["content"]] == ["text/plain", "text/html"]
    assert payload["personalizations"][0]["to"][0]["name"] == "Lin Mei editor"
    assert payload["tracking_settings"]["open_tracking"] == {"enable": False}
    assert payload["tracking_settings"]["subscription_tracking"] == {"enable": False}
    validate_mail_send(payload)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["content"].reverse(), "text/plain must be first"),
        (
            lambda p: p["personalizations"][1]["to"].__setitem__(
                0, {"email": "reader0@example.org"}
            ),
            "duplicate",
        ),
        (lambda p: p["personalizations"][0]["custom_args"].__setitem__("n", 3), "string"),
        (lambda p: p["headers"].pop("List-Unsubscribe-Post"), "List-Unsubscribe-Post"),
        (
            lambda p: p["personalizations"][0]["headers"].__setitem__(
                "List-Unsubscribe", "<http://insecure.example.org/u>"
            ),
            "https",
        ),
        (lambda p: p.__setitem__("categories", ["a", "a"]), "categories"),
        (lambda p: p["personalizations"][0]["to"][0].__setitem__("name", "A, B"), "names"),
        (lambda p: p["personalizations"][1]["headers"].__setitem__("reply-to", "x"), "reserved"),
        (
            # Each half is under SendGrid's 10,000 bytes; merged per recipient they are not.
            lambda p: (
                p.__setitem__("custom_args", {"a": "x" * 5000}),
                p["personalizations"][1]["custom_args"].__setitem__("b", "y" * 5000),
            ),
            "personalizations.1.custom_args exceeds 10000 bytes",
        ),
    ],
)
def test_the_fake_server_refuses_what_sendgrid_refuses(mutate: object, message: str) -> None:
    payload = copy.deepcopy(build_payload(_batch(2)))
    mutate(payload)  # type: ignore[operator]
    with pytest.raises(RequestRejectedError, match=message):
        validate_mail_send(payload)


def test_bad_key_is_a_permanent_failure_with_sendgrids_message(fake: FakeSendGrid) -> None:
    sender = SendGridEmailSender("SG.bad.key", fake.host, timeout_seconds=5)
    with pytest.raises(PermanentDeliveryError, match="authorization required") as caught:
        sender.send_batch(_batch())
    assert caught.value.status_code == 401


def test_rate_limit_is_transient_and_says_when_to_retry() -> None:
    fake = FakeSendGrid(Faults(share_429=1.0, reset_after_seconds=3)).start()
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            SendGridEmailSender(API_KEY, fake.host, 5).send_batch(_batch())
    finally:
        fake.stop()
    assert caught.value.rate_limited
    assert caught.value.retry_after is not None
    assert 1.0 <= caught.value.retry_after <= 5.0
    assert not fake.state.accepted


def test_server_error_is_transient() -> None:
    fake = FakeSendGrid(Faults(share_500=1.0)).start()
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            SendGridEmailSender(API_KEY, fake.host, 5).send_batch(_batch())
    finally:
        fake.stop()
    assert not caught.value.rate_limited


def test_accept_then_timeout_is_ambiguous() -> None:
    fake = FakeSendGrid(Faults(share_hang=1.0, hang_seconds=2)).start()
    try:
        with pytest.raises(AmbiguousDeliveryError):
            SendGridEmailSender(API_KEY, fake.host, timeout_seconds=0.5).send_batch(_batch())
    finally:
        fake.stop()
    assert len(fake.state.accepted) == 3  # it was accepted: hence "ambiguous", not "retry"


def test_connection_refused_is_transient() -> None:
    sender = SendGridEmailSender(API_KEY, f"http://127.0.0.1:{free_port()}", 2)
    with pytest.raises(TransientDeliveryError, match="could not reach"):
        sender.send_batch(_batch())
