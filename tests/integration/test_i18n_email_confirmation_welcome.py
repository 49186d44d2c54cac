"""The confirmation and welcome emails speak the list's language (issue 18): subject and body
from the ``email`` catalogue, ``lang`` and ``dir`` on the HTML, right-to-left alignment for
Arabic, the list's title quoted as the language quotes titles, Traditional Chinese without
Simplified-only forms. Sent through the real services and the outbox sender, read back from
the written .eml files."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import lxml.html
import pytest
from hanzidentifier import helpers as hanzi

from distributor.adapters.outbox import OutboxEmailSender
from distributor.db.session import unit_of_work
from distributor.domain.subscribers import OptIn
from distributor.i18n import gettext_in
from distributor.services.confirmation import send_confirmation
from distributor.services.subscribers import add_subscriber, create_list, sign_up
from distributor.services.welcome import send_welcome, set_welcome
from tests.conftest import make_settings
from tests.support.outbox import body_text, read_outbox


def email_gettext(tag: str, message: str) -> str:
    """``message`` as the email catalogue of ``tag`` has it."""
    return gettext_in(tag, message, domain="email")


SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)

# (list language, list title, words the confirmation must carry, its subject, the welcome's)
CASES = {
    "zh-Hant": (
        "每週電子報",
        ("您好：", "請點選以下連結確認", "連結在 7 天內有效。"),
        "請確認訂閱《每週電子報》",
        "歡迎訂閱《每週電子報》",
        ("取消訂閱", "管理您的訂閱"),
    ),
    "ar": (
        "النشرة الأسبوعية",
        ("مرحبًا،", "يُرجى التأكيد عبر هذا الرابط"),
        "يُرجى تأكيد اشتراكك في ”النشرة الأسبوعية“",
        "مرحبًا بك في ”النشرة الأسبوعية“",
        ("إلغاء الاشتراك", "إدارة اشتراكاتك"),
    ),
    "fr": (
        "La Lettre de la semaine",
        ("Bonjour,", "Confirmez en suivant ce lien\u00a0:", "7\u00a0jours"),
        "Confirmez votre abonnement à «\u202fLa Lettre de la semaine\u202f»",
        "Bienvenue dans «\u202fLa Lettre de la semaine\u202f»",
        ("Se désabonner", "Gérer vos abonnements"),
    ),
}
# The link's words (HTML only: the text part shows the link itself).
BUTTONS = {"zh-Hant": "確認訂閱", "ar": "نعم، أريد الاشتراك", "fr": "Oui, je m’abonne"}
WELCOME = "## Bienvenue\n\nشكرًا لاشتراككم. 歡迎。"


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"] or "")))


def _html(message: Message) -> lxml.html.HtmlElement:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return lxml.html.document_fromstring(payload)
    raise AssertionError("no text/html part")


def _check_document(root: lxml.html.HtmlElement, language: str) -> None:
    direction = "rtl" if language == "ar" else "ltr"
    assert root.get("lang") == language
    assert root.get("dir") == direction
    body = root.find("body")
    assert body.get("dir") == direction
    assert f"text-align:{'right' if direction == 'rtl' else 'left'}" in (
        (body.get("style") or "").replace(" ", "")
    )


@pytest.mark.parametrize("language", list(CASES))
def test_the_confirmation_speaks_the_list_language(
    language: str, tmp_path: Path, sqlite_url: str
) -> None:
    title, words, subject, _welcome, _footer = CASES[language]
    settings = make_settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title=title, opt_in=OptIn.DOUBLE, language=language)
        # The reader's browser asked for English: the list's language wins.
        signup = sign_up(session, "weekly", "reader@example.org", language="en")
    assert signup.subscriber_id is not None
    with unit_of_work(settings.database_url) as session:
        assert send_confirmation(
            session,
            settings,
            signup.subscriber_id,
            signup.list_id,
            OutboxEmailSender(settings.outbox_dir),
        )
    [message] = read_outbox(settings.outbox_dir, "confirmation-")
    assert _subject(message) == subject
    text = body_text(message)
    root = _html(message)
    _check_document(root, language)
    shown = root.text_content()
    for word in words:
        assert word in text, word
        assert word in shown, word
    [button] = [a.text_content() for a in root.iter("a") if "/confirm/" in a.get("href", "")]
    assert button == BUTTONS[language] == email_gettext(language, "Yes, subscribe me")
    assert "Please confirm" not in text
    assert "/confirm/" in text
    if language == "zh-Hant":
        found = {char for char in _subject(message) + text + shown if char in SIMPLIFIED_ONLY}
        assert not found, "".join(sorted(found))


def test_a_persian_confirmation_writes_its_number_in_persian_digits(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title="خبرنامهٔ هفتگی", opt_in=OptIn.DOUBLE, language="fa")
        signup = sign_up(session, "weekly", "reader@example.org")
    assert signup.subscriber_id is not None
    with unit_of_work(settings.database_url) as session:
        send_confirmation(
            session,
            settings,
            signup.subscriber_id,
            signup.list_id,
            OutboxEmailSender(settings.outbox_dir),
        )
    [message] = read_outbox(settings.outbox_dir, "confirmation-")
    text = body_text(message)
    # The number is formatted for Persian (never a digit written into the catalogue): Persian
    # digits, as on the reader pages.
    assert "این پیوند تا ۷ روز معتبر است." in text
    assert _html(message).get("dir") == "rtl"


@pytest.mark.parametrize("language", list(CASES))
def test_the_welcome_email_speaks_the_list_language(
    language: str, tmp_path: Path, sqlite_url: str
) -> None:
    title, _words, _subject_line, welcome_subject, footer = CASES[language]
    settings = make_settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as session:
        create_list(session, "weekly", title=title, opt_in=OptIn.SINGLE, language=language)
        set_welcome(session, "weekly", WELCOME)
        membership = add_subscriber(session, "reader@example.org", "weekly", confirmed=True)
        subscriber_id, list_id = membership.subscriber_id, membership.list_id
    with unit_of_work(settings.database_url) as session:
        assert send_welcome(
            session, settings, subscriber_id, list_id, OutboxEmailSender(settings.outbox_dir)
        )
    [message] = read_outbox(settings.outbox_dir, "welcome-")
    assert _subject(message) == welcome_subject
    text = body_text(message)
    root = _html(message)
    _check_document(root, language)
    shown = root.text_content()
    for word in footer:
        assert word in shown, word
        assert word in text, word
    why = email_gettext(
        language, "You receive this because you subscribed to %(title)s from %(publisher)s."
    )
    assert why.split("%(")[0] in shown
    # The list's title and the publisher's name are isolated from the words around them.
    isolated = [bdi.text_content() for bdi in root.iter("bdi")]
    assert title in isolated
    assert settings.PUBLISHER_NAME in isolated
    assert "Unsubscribe" not in text
    if language == "zh-Hant":
        ours = text.replace("歡迎。", "")  # the editor's words are theirs
        found = {char for char in _subject(message) + ours if char in SIMPLIFIED_ONLY}
        assert not found, "".join(sorted(found))
