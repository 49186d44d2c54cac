"""SmtpEmailSender against a real aiosmtpd server (AUTH over plain SMTP for the test)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from distributor.adapters.email_base import (
    OutgoingBatch,
    OutgoingRecipient,
    TransientDeliveryError,
)
from distributor.adapters.smtp import SmtpEmailSender
from tests.conftest import free_port


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname  # a handle_EHLO hook must record the greeting itself
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 queued"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"user", b"p@ss")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield sink, port
    controller.stop()


def _batch(addresses: list[str]) -> OutgoingBatch:
    return OutgoingBatch(
        from_email="news@news.example.org",
        from_name="The Magazine",
        subject="River towns",
        text="Unsubscribe: -u-",
        html='<p><a href="-u-">Unsubscribe</a></p>',
        recipients=[
            OutgoingRecipient(
                n,
                a,
                None,
                {"-u-": f"https://news.example.org/unsubscribe/t{n}"},
                {"List-Unsubscribe": f"<https://news.example.org/unsubscribe/t{n}>"},
            )
            for n, a in enumerate(addresses)
        ],
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        reference="issue-3",
    )


def test_smtp_sends_one_message_per_recipient_over_one_connection(
    smtp_server: tuple[Sink, int],
) -> None:
    sink, port = smtp_server
    sender = SmtpEmailSender(f"smtp://user:p%40ss@127.0.0.1:{port}")
    receipt = sender.send_batch(_batch(["a@example.org", "nobody@example.org", "b@example.org"]))
    sender.send_batch(_batch(["c@example.org"]))
    sender.close()
    assert receipt.accepted_ids == [0, 2]
    assert set(receipt.rejected) == {1}
    assert "550" in receipt.rejected[1]
    assert sink.connections == 1
    assert [m["To"] for m in sink.messages] == ["a@example.org", "b@example.org", "c@example.org"]
    first = sink.messages[0]
    assert first["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/t0>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["Message-ID"] == "<issue-3.delivery-0@news.example.org>"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert "t0" in first.get_body(("plain",)).get_content()


def test_unreachable_smtp_server_is_transient() -> None:
    sender = SmtpEmailSender(f"smtp+starttls://user:pw@127.0.0.1:{free_port()}")
    with pytest.raises(TransientDeliveryError, match="could not connect"):
        sender.send_batch(_batch(["a@example.org"]))
