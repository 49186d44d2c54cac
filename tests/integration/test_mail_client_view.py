"""What a mail client and a spam filter see of an issue: List-Id on every path, a clean score.

Each path is the real one: the outbox writes .eml files, SMTP goes to a real aiosmtpd server,
SendGrid to the SendGrid-compatible server. The spam check runs Debian's SpamAssassin
(``spamassassin -t -L``: local rules only) on a message the outbox wrote.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
from collections.abc import Iterator
from email import policy
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from distributor.adapters.email_base import email_sender_for
from distributor.config import Settings
from distributor.db.models import Issue, IssueList
from distributor.services import sending
from distributor.services.issues import create_issue
from distributor.services.rendering import archive_page
from tests.conftest import free_port, make_settings, require_service
from tests.factories.audience import article_row, make_list, subscribe
from tests.support.fake_sendgrid import API_KEY, FakeSendGrid


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 queued"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[_Sink, int]]:
    sink = _Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def _issue_for_two_lists(db: Session) -> int:
    """An issue for "weekly" (an ASCII title with quotes) and "zhoukan" (a Chinese title)."""
    weekly = make_list(db, "weekly")
    weekly.title = 'The "Weekly" Dispatch'
    chinese = make_list(db, "zhoukan", language="zh-Hans")
    chinese.title = "每周通讯"
    article = article_row(db)
    subscribe(db, "ada@example.org", weekly.id)
    subscribe(db, "lin@example.org", chinese.id)
    issue = create_issue(db, ["weekly"], "The river issue", [article.id], preheader="Ferries")
    db.add(IssueList(issue_id=issue.id, list_id=chinese.id))
    db.commit()
    sending.start_issue_now(db, issue.id)
    db.commit()
    return issue.id


def _send(db: Session, settings: Settings, issue_id: int) -> None:
    sender = email_sender_for(settings)
    try:
        sending.dispatch_due(db, settings)
        sending.run_sending_inline(db, settings, sender, issue_id, max_seconds=20)
    finally:
        sender.close()


def _decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


EXPECTED = {
    "ada@example.org": '"The \\"Weekly\\" Dispatch" <weekly.news.example.org>',
    "lin@example.org": "每周通讯 <zhoukan.news.example.org>",
}


def _messages_by_recipient(folder: Path) -> dict[str, Any]:
    messages = {}
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        messages[str(message["To"]).split("<")[-1].rstrip(">")] = message
    return messages


def test_outbox_messages_carry_their_own_lists_list_id(
    db: Session, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, database_url)
    issue_id = _issue_for_two_lists(db)
    _send(db, settings, issue_id)
    messages = _messages_by_recipient(settings.outbox_dir)
    assert set(messages) == set(EXPECTED)
    for address, expected in EXPECTED.items():
        raw = messages[address]["List-Id"]
        assert raw is not None, f"{address}: no List-Id"
        assert _decoded(str(raw)) == _decoded(expected)
        assert messages[address]["List-Unsubscribe"]


def test_smtp_messages_carry_list_id(
    sqlite_url: str, tmp_path: Path, smtp_sink: tuple[_Sink, int]
) -> None:
    sink, port = smtp_sink
    settings = make_settings(tmp_path, sqlite_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
    assert settings.sender_kind == "smtp"
    from distributor.db.session import session_factory

    db = session_factory(sqlite_url)()
    try:
        issue_id = _issue_for_two_lists(db)
        _send(db, settings, issue_id)
    finally:
        db.close()
    seen = {str(message["To"]).split("<")[-1].rstrip(">"): message for message in sink.messages}
    assert set(seen) == set(EXPECTED)
    for address, expected in EXPECTED.items():
        assert _decoded(str(seen[address]["List-Id"])) == _decoded(expected)


def test_sendgrid_requests_carry_list_id(sqlite_url: str, tmp_path: Path) -> None:
    server = FakeSendGrid().start()
    try:
        settings = make_settings(
            tmp_path,
            sqlite_url,
            MAIL_FROM="news@news.example.org",
            SENDGRID_API_KEY=API_KEY,
            SENDGRID_API_HOST=server.host,
        )
        from distributor.db.session import session_factory

        db = session_factory(sqlite_url)()
        try:
            issue_id = _issue_for_two_lists(db)
            _send(db, settings, issue_id)
        finally:
            db.close()
        records = {record.email: record for record in server.state.records}
        rejections = list(server.state.rejections)
    finally:
        server.stop()
    assert set(records) == set(EXPECTED), rejections
    for address, expected in EXPECTED.items():
        headers = {name.lower(): value for name, value in records[address].headers.items()}
        assert _decoded(headers["list-id"]) == _decoded(expected)
        # SendGrid takes ASCII header values: the Chinese title travels as an encoded word.
        assert headers["list-id"].isascii()


def test_test_copies_carry_the_first_lists_list_id(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    from distributor.db.session import session_factory

    db = session_factory(sqlite_url)()
    try:
        mailing_list = make_list(db, "weekly")
        article = article_row(db)
        issue = create_issue(db, ["weekly"], "Proof", [article.id])
        db.commit()
        assert mailing_list.id
        sender = email_sender_for(settings)
        sending.send_test_copies(db, settings, sender, issue.id, ["desk@example.org"])
        sender.close()
    finally:
        db.close()
    (message,) = _messages_by_recipient(settings.outbox_dir).values()
    assert str(message["List-Id"]).endswith("<weekly.news.example.org>")


def _spam_report(eml: Path) -> tuple[float, list[str]]:
    binary = shutil.which("spamassassin")
    require_service(binary is not None, "SpamAssassin (Debian package 'spamassassin')")
    assert binary is not None
    result = subprocess.run(
        [binary, "-t", "-L"],
        input=eml.read_bytes(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    report = result.stdout.decode("utf-8", "replace")
    score = re.search(r"Content analysis details:\s+\((-?[0-9.]+) points", report)
    assert score is not None, report[-2000:]
    rules = re.findall(r"^\s*-?[0-9.]+ ([A-Z0-9_]+)\s", report, flags=re.MULTILINE)
    return float(score.group(1)), rules


@pytest.mark.slow
def test_spamassassin_scores_an_issue_zero(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite_url, MAIL_FROM="news@news.example.org")
    from distributor.db.session import session_factory

    db = session_factory(sqlite_url)()
    try:
        mailing_list = make_list(db, "weekly")
        article = article_row(db)
        subscribe(db, "ada@example.org", mailing_list.id)
        issue = create_issue(
            db,
            ["weekly"],
            "The river issue",
            [article.id],
            preheader="Ferries, schools and the people who keep them running",
            editor_note="Dear readers,\n\nThis week we follow the river.",
        )
        db.commit()
        sending.start_issue_now(db, issue.id)
        db.commit()
        _send(db, settings, issue.id)
    finally:
        db.close()
    (eml,) = sorted(settings.outbox_dir.glob("*.eml"))
    score, rules = _spam_report(eml)
    assert "HTML_FONT_LOW_CONTRAST" not in rules, rules
    assert score <= 0.0, (score, rules)


def test_web_archive_has_one_main_landmark(db: Session, database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url)
    issue_id = _issue_for_two_lists(db)
    _send(db, settings, issue_id)
    stored = db.get(Issue, issue_id)
    assert stored is not None
    assert stored.web_token
    page = archive_page(db, settings, stored.web_token)
    assert page.count("<main>") == 1
    assert page.count("</main>") == 1
    main = page[page.index("<main>") : page.index("</main>")]
    assert "The river issue" in main
