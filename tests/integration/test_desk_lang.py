"""The desk in every shipped language: the labels of the main pages, ``lang`` and ``dir`` on the
page, chosen by the user's saved language, else the browser's ``Accept-Language``; the account
page's language chooser, ``distributor users set-language``, and the desk's notification email
in an editor's own language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hanzidentifier import helpers as hanzi
from lxml import html as lxml_html
from sqlalchemy import select
from typer.testing import CliRunner

from distributor.cli.main import app as cli
from distributor.config import Settings
from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.i18n import SHIPPED_LANGUAGES
from distributor.services import sending
from distributor.services.desk_notifications import deliver_notifications
from distributor.services.issues import create_issue
from distributor.services.users import UserError, find_user, set_language
from distributor.web.app import create_app
from distributor.web.routes.desk_auth import SIGN_IN_FAILED
from tests.conftest import make_settings
from tests.integration.test_desk_pages import _create_issue, csrf_from, seed_newsroom, sign_in
from tests.support.outbox import body_text, read_outbox

ZWNJ = "\u200c"
# Simplified-only characters (never written in Traditional Chinese).
SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)

# Per language: words each main page must show (written out here, not read from the catalogue).
EXPECTED: dict[str, dict[str, list[str]]] = {
    "en": {
        "home": ["Today at the desk", "Sending now", "Sign out"],
        "articles": ["Create issue from selected", "All languages", "Published from"],
        "article": ["Story as extracted", "About the author", "Notes that travel with the story"],
        "issues": ["Send time", "New issue"],
        "issue": ["Subject, preheader, note and lists", "Send a test", "Cancel issue"],
        "login": ["Sign in to the desk", "Email address", "Password"],
    },
    "zh-Hans": {
        "home": ["今日编辑台", "正在发送", "退出登录"],
        "articles": ["用选中的文章创建一期", "所有语言", "发布日期从"],
        "article": ["提取到的报道内容", "关于作者", "随报道一起发布的备注"],
        "issues": ["发送时间", "新建一期"],
        "issue": ["主题、预览文字、编者按和列表", "发送测试邮件", "取消该期"],
        "login": ["登录编辑台", "电子邮件地址", "密码"],
    },
    "zh-Hant": {
        "home": ["今日編輯台", "正在寄送", "登出"],
        "articles": ["用勾選的文章建立一期", "所有語言", "發布日期自"],
        "article": ["擷取到的報導內容", "關於作者", "隨報導一起發布的附註"],
        "issues": ["寄送時間", "新增一期"],
        "issue": ["主旨、預覽文字、編者的話與名單", "寄送測試信", "取消這一期"],
        "login": ["登入編輯台", "電子郵件地址", "密碼"],
    },
    "es": {
        "home": ["Hoy en la redacción", "Enviándose ahora", "Cerrar sesión"],
        "articles": ["Crear número con la selección", "Todos los idiomas", "Publicado desde"],
        "article": ["Noticia tal como se extrajo", "Sobre el autor", "Notas que acompañan"],
        "issues": ["Hora de envío", "Nuevo número"],
        "issue": ["Asunto, preencabezado, nota y listas", "Enviar una prueba", "Cancelar número"],
        "login": ["Iniciar sesión en la redacción", "Correo electrónico", "Contraseña"],
    },
    "fr": {
        "home": ["Aujourd’hui à la rédaction", "Envois en cours", "Se déconnecter"],
        "articles": ["Créer un numéro avec la sélection", "Toutes les langues", "Publié depuis"],
        "article": ["Article tel qu’extrait", "À propos de l’auteur", "Notes qui accompagnent"],
        "issues": ["Heure d’envoi", "Nouveau numéro"],
        "issue": ["Objet, texte d’aperçu, mot et listes", "Envoyer un test", "Annuler le numéro"],
        "login": ["Se connecter à la rédaction", "Adresse e-mail", "Mot de passe"],
    },
    "ar": {
        "home": ["اليوم في مكتب التحرير", "قيد الإرسال الآن", "تسجيل الخروج"],
        "articles": ["إنشاء عدد من المقالات المحددة", "كل اللغات", "منشور منذ"],
        "article": ["المادة كما استُخرجت", "عن الكاتب", "ملاحظات ترافق المادة"],
        "issues": ["وقت الإرسال", "عدد جديد"],
        "issue": ["الموضوع والنص التمهيدي والكلمة والقوائم", "إرسال رسالة اختبار", "إلغاء العدد"],
        "login": ["تسجيل الدخول إلى مكتب التحرير", "عنوان البريد الإلكتروني", "كلمة المرور"],
    },
    "fa": {
        "home": ["امروز در میز تحریریه", "در حال ارسال", "خروج"],
        "articles": [f"ساختن شماره از موارد انتخاب{ZWNJ}شده", f"همه{ZWNJ}ی زبان{ZWNJ}ها"],
        "article": [f"مطلب به شکل استخراج{ZWNJ}شده", f"درباره{ZWNJ}ی نویسنده"],
        "issues": ["زمان ارسال", f"شماره{ZWNJ}ی تازه"],
        "issue": [f"موضوع، پیش{ZWNJ}متن، یادداشت و فهرست{ZWNJ}ها", "لغو شماره"],
        "login": ["ورود به میز تحریریه", "نشانی ایمیل", "گذرواژه"],
    },
}
DIRECTION = {"ar": "rtl", "fa": "rtl"}
# How a browser asks for each language (a region or script the desk maps to what it ships).
ACCEPT = {
    "en": "en-GB,en;q=0.8",
    "zh-Hans": "zh-CN,zh;q=0.9",
    "zh-Hant": "zh-TW,zh;q=0.9,en;q=0.5",
    "es": "es-MX,es;q=0.9",
    "fr": "fr-CA,fr;q=0.9",
    "ar": "ar-EG,ar;q=0.9",
    "fa": "fa-IR,fa;q=0.9",
}


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[TestClient, Settings, dict[str, int]]]:
    """A signed-out browser on a seeded desk (SQLite)."""
    settings = make_settings(tmp_path, sqlite_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    ids = seed_newsroom(settings.database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, settings, ids


def _root(page: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(page)


def _text(page: str) -> str:
    """The page's visible words (tags and entities resolved), spaces collapsed."""
    return " ".join(_root(page).text_content().split())


def _check_page(page: str, tag: str, words: list[str], where: str) -> None:
    root = _root(page)
    assert root.get("lang") == tag, where
    assert root.get("dir") == DIRECTION.get(tag, "ltr"), where
    text = _text(page)
    missing = [word for word in words if word not in text]
    assert not missing, f"{where} in {tag}: missing {missing}"


def _main_pages(client: TestClient, ids: dict[str, int], issue_id: int) -> dict[str, str]:
    return {
        "home": client.get("/").text,
        "articles": client.get("/articles").text,
        "article": client.get(f"/articles/{ids['night-shift']}").text,
        "issues": client.get("/issues").text,
        "issue": client.get(f"/issues/{issue_id}").text,
    }


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _save_language(settings: Settings, email: str, language: str | None) -> None:
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, email)
        assert user is not None
        set_language(db, user, language)


@pytest.mark.parametrize("tag", SHIPPED_LANGUAGES)
def test_the_main_pages_speak_the_saved_language_of_the_user(desk, tag: str) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    _save_language(settings, "admin@example.org", tag)
    # The saved language wins over what the browser asks for.
    client.headers["Accept-Language"] = "de-DE,de;q=0.9,en;q=0.5" if tag != "en" else "fr"
    for name, page in _main_pages(client, ids, issue_id).items():
        _check_page(page, tag, EXPECTED[tag][name], f"/{name}")
    response = client.get("/")
    assert response.headers["Content-Language"] == tag
    # Signed out, the sign-in page follows the browser (it knows no user yet).
    client.headers["Accept-Language"] = ACCEPT[tag]
    client.post("/logout", data={"csrf_token": csrf_from(response.text)})
    _check_page(client.get("/login").text, tag, EXPECTED[tag]["login"], "/login")


@pytest.mark.parametrize("tag", SHIPPED_LANGUAGES)
def test_without_a_saved_language_the_browser_language_is_used(desk, tag: str) -> None:  # type: ignore[no-untyped-def]
    client, _settings, ids = desk
    login = client.get("/login", headers={"Accept-Language": ACCEPT[tag]})
    _check_page(login.text, tag, EXPECTED[tag]["login"], "/login")
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)  # (it reads the English pages)
    client.headers["Accept-Language"] = ACCEPT[tag]
    for name, page in _main_pages(client, ids, issue_id).items():
        _check_page(page, tag, EXPECTED[tag][name], f"/{name}")


def test_a_language_the_desk_does_not_ship_falls_back_to_english(desk) -> None:  # type: ignore[no-untyped-def]
    client, _settings, _ids = desk
    client.headers["Accept-Language"] = "de-DE,de;q=0.9"
    _check_page(client.get("/login").text, "en", EXPECTED["en"]["login"], "/login")


def test_the_sign_in_errors_and_flash_messages_are_translated(desk) -> None:  # type: ignore[no-untyped-def]
    client, _settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    client.headers["Accept-Language"] = "es-ES"
    # The flash after duplicating an issue, and a 404 page, in Spanish.
    copied = client.post(f"/issues/{issue_id}/duplicate", data={"csrf_token": token})
    assert f"es una copia del {issue_id}: cambie lo que necesite" in _text(copied.text)
    missing = client.get("/issues/999999", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "No existe el número 999999." in _text(missing.text)
    assert "No encontrado" in _text(missing.text)
    # A missing page for a script keeps the English detail.
    assert client.get("/issues/999999", headers={"Accept": "application/json"}).json() == {
        "detail": "There is no issue 999999. Open the issue list and pick one."
    }
    client.post("/logout", data={"csrf_token": csrf_from(missing.text)})
    token = csrf_from(client.get("/login").text)
    wrong = client.post(
        "/login", data={"email": "admin@example.org", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "El correo electrónico o la contraseña no son correctos." in _text(wrong.text)


def test_the_catalogue_copy_of_the_sign_in_failure_is_the_service_message() -> None:
    from distributor.services.users import SIGN_IN_FAILED as SERVICE_MESSAGE

    assert SIGN_IN_FAILED == SERVICE_MESSAGE


def test_dates_and_figures_follow_the_desk_language_and_english_stays_as_it_was(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    client.post(
        f"/issues/{issue_id}/schedule",
        data={
            "csrf_token": token,
            "send_date": "2099-07-01",
            "send_time": "08:00",
            "timezone": "UTC",
            "confirm": "1",
        },
    )
    assert "2099-07-01 08:00 UTC" in client.get(f"/issues/{issue_id}").text
    _save_language(settings, "admin@example.org", "fr")
    page = _text(client.get(f"/issues/{issue_id}").text)
    assert "1 juil. 2099 08:00 UTC" in page
    assert "2099-07-01 08:00" not in page
    _save_language(settings, "admin@example.org", "zh-Hant")
    assert "2099年7月1日" in _text(client.get(f"/issues/{issue_id}").text)


def test_the_account_page_chooser_saves_and_clears_the_language(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ids = desk
    client.headers["Accept-Language"] = "en-US"
    sign_in(client)
    account = client.get("/account")
    assert account.status_code == 200
    root = _root(account.text)
    options = root.xpath('//select[@id="language-choice"]/option')
    assert [option.get("value") for option in options] == ["", *SHIPPED_LANGUAGES]
    assert options[0].text_content().strip() == "Browser's language"
    assert options[0].get("selected") is not None
    assert "فارسی" in [option.text_content().strip() for option in options]
    assert "繁體中文" in [option.text_content().strip() for option in options]

    saved = client.post(
        "/account/language",
        data={"csrf_token": csrf_from(account.text), "language": "fa"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/account"
    after = client.get("/account")
    _check_page(after.text, "fa", ["حساب شما", "زبان میز تحریریه"], "/account")
    # The confirmation is said in the language just chosen.
    assert "ذخیره شد." in _text(after.text)
    selected = _root(after.text).xpath('//select[@id="language-choice"]/option[@selected]')
    assert [option.get("value") for option in selected] == ["fa"]
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "admin@example.org")
        assert user is not None
        assert user.language == "fa"
        entry = db.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == "user.set_language")
        ).one()
        assert entry.actor == "admin@example.org"
        assert entry.changes == {"language": [None, "fa"]}

    # A language the desk does not ship is refused, the saved one is kept.
    refused = client.post(
        "/account/language", data={"csrf_token": csrf_from(after.text), "language": "de"}
    )
    assert "این زبان ارائه نمی" in _text(refused.text)
    _check_page(refused.text, "fa", [], "/account")

    # "Browser's language" clears it: the Accept-Language header decides again.
    cleared = client.post(
        "/account/language", data={"csrf_token": csrf_from(refused.text), "language": ""}
    )
    _check_page(cleared.text, "en", ["Your account", "Language of the desk"], "/account")
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "admin@example.org")
        assert user is not None
        assert user.language is None


def test_the_language_chooser_needs_the_csrf_token(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ids = desk
    sign_in(client)
    refused = client.post("/account/language", data={"language": "ar"})
    assert refused.status_code in (400, 403)
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "admin@example.org")
        assert user is not None
        assert user.language is None


def test_set_language_stores_the_shipped_tag_and_refuses_others(desk) -> None:  # type: ignore[no-untyped-def]
    _client, settings, _ids = desk
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "editor@example.org")
        assert user is not None
        assert set_language(db, user, "zh-TW") == "zh-Hant"
        assert set_language(db, user, "es-MX") == "es"
        assert set_language(db, user, "none") is None
        with pytest.raises(UserError, match="not translated into 'de'"):
            set_language(db, user, "de")


def test_the_cli_sets_and_clears_a_users_language(
    desk,  # type: ignore[no-untyped-def]
    use_settings: Callable[[Settings], Settings],
) -> None:
    _client, settings, _ids = desk
    use_settings(settings)
    runner = CliRunner()
    done = runner.invoke(cli, ["users", "set-language", "editor@example.org", "zh-TW"])
    assert done.exit_code == 0, done.output
    assert "editor@example.org reads the desk in zh-Hant" in done.output
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "editor@example.org")
        assert user is not None
        assert user.language == "zh-Hant"
    listed = runner.invoke(cli, ["users", "list", "--json"])
    assert '"language": "zh-Hant"' in listed.output
    table = runner.invoke(cli, ["users", "list"])
    assert "zh-Hant" in table.output
    refused = runner.invoke(cli, ["users", "set-language", "editor@example.org", "xx-unknown"])
    assert refused.exit_code != 0
    assert "not translated" in refused.output
    missing = runner.invoke(cli, ["users", "set-language", "nobody@example.org", "fr"])
    assert missing.exit_code != 0
    assert "no account with the email nobody@example.org" in missing.output
    cleared = runner.invoke(cli, ["users", "set-language", "editor@example.org", "none"])
    assert cleared.exit_code == 0, cleared.output
    with unit_of_work(settings.database_url) as db:
        user = find_user(db, "editor@example.org")
        assert user is not None
        assert user.language is None


def test_traditional_chinese_desk_pages_have_no_simplified_only_characters_in_our_labels(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    token = sign_in(client)
    issue_id = _create_issue(client, token, ids)
    _save_language(settings, "admin@example.org", "zh-Hant")
    pages = {**_main_pages(client, ids, issue_id), "account": client.get("/account").text}
    for name, page in pages.items():
        root = _root(page)
        # The stories' own words are theirs (one seeded story is in Simplified Chinese):
        # leave out every element that carries a story's language.
        for element in root.xpath('//*[@lang and @lang != "zh-Hant"]'):
            if element is not root:
                element.drop_tree()
        for element in root.xpath("//script | //style | //textarea | //input | //pre"):
            element.drop_tree()
        found = sorted({char for char in root.text_content() if char in SIMPLIFIED_ONLY})
        assert not found, f"/{name}: Simplified-only characters {''.join(found)}"
        assert re.search("[\u4e00-\u9fff]", root.text_content()), name


def test_a_persian_story_and_an_arabic_issue_keep_their_direction_in_an_english_desk(desk) -> None:  # type: ignore[no-untyped-def]
    client, settings, ids = desk
    with unit_of_work(settings.database_url) as db:
        article = db.get(models.Article, ids["night-shift"])
        assert article is not None
        article.language = "fa"
        article.title = f"شب{ZWNJ}کاری در بندر"
        issue = create_issue(db, ["weekly"], "عدد هذا الأسبوع", [article.id])
        issue.language = "ar"
        issue_id = issue.id
    sign_in(client)
    story = _root(client.get(f"/articles/{ids['night-shift']}").text)
    assert story.get("dir") == "ltr"
    [title] = story.xpath("//main//h1")
    assert (title.get("dir"), title.get("lang")) == ("rtl", "fa")
    for selector in ("story-dek", "story-body", "notes-text"):
        [element] = story.xpath(f'//*[@id="{selector}"]')
        assert element.get("dir") == "rtl", selector
        assert element.get("lang") == "fa", selector
    assert all(
        field.get("dir") == "rtl"
        for field in story.xpath('//textarea[starts-with(@id, "caption-")]')
    )
    listing = _root(client.get("/articles").text)
    [cell] = listing.xpath(f'//a[@href="/articles/{ids["night-shift"]}"]/parent::td')
    assert (cell.get("dir"), cell.get("lang")) == ("rtl", "fa")
    page = _root(client.get(f"/issues/{issue_id}").text)
    for field in ("subject", "preheader", "editor_note"):
        [element] = page.xpath(f'//*[@id="{field}"]')
        assert (element.get("dir"), element.get("lang")) == ("rtl", "ar"), field
    [subject] = page.xpath('//*[@id="issue-subject"]')
    assert subject.tag == "bdi"
    assert subject.get("dir") == "rtl"
    issues = _root(client.get("/issues").text)
    [link] = issues.xpath(f'//a[@href="/issues/{issue_id}"]')
    assert link.get("dir") == "auto"


def test_a_desk_notification_reaches_each_editor_in_their_own_language(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox")
    ids = seed_newsroom(settings.database_url)
    with unit_of_work(settings.database_url) as db:
        for email, language in (("editor@example.org", "zh-Hant"), ("admin@example.org", None)):
            user = find_user(db, email)
            assert user is not None
            set_language(db, user, language)
        db.add(models.User(email="redactrice@example.org", password_hash="x", language="fr"))
        issue = create_issue(db, ["weekly"], "Cette semaine", [ids["night-shift"]])
        issue_id = issue.id
    with unit_of_work(settings.database_url) as db:
        sending.start_issue_now(db, issue_id)
    with unit_of_work(settings.database_url) as db:
        sending.dispatch_due(db, settings)
        from distributor.adapters.email_base import email_sender_for

        sending.run_sending_inline(
            db, settings, email_sender_for(settings), issue_id, max_seconds=30
        )
    with unit_of_work(settings.database_url) as db:
        assert deliver_notifications(db, settings).sent == 1
    messages = {
        message["To"]: message for message in read_outbox(settings.outbox_dir, "desk-notification-")
    }
    assert set(messages) == {"admin@example.org", "editor@example.org", "redactrice@example.org"}
    assert _subject(messages["admin@example.org"]) == "Issue sent: Cette semaine"
    hant = messages["editor@example.org"]
    assert _subject(hant) == "已寄出的一期：Cette semaine"
    hant_text = body_text(hant)
    assert "一期電子報已寄送完畢。" in hant_text
    assert "在編輯台中開啟：" in hant_text
    assert "狀態：已寄出" in hant_text
    assert not {char for char in hant_text if char in SIMPLIFIED_ONLY}
    french = messages["redactrice@example.org"]
    assert _subject(french) == "Numéro envoyé\u202f: Cette semaine"
    assert "Un numéro a fini d’être envoyé." in body_text(french)
    html_part = next(
        part for part in french.walk() if part.get_content_type() == "text/html"
    ).get_payload(decode=True)
    assert isinstance(html_part, bytes)
    assert '<html lang="fr" dir="ltr">' in html_part.decode("utf-8")
    # Each message still links to the issue, and none names a reader.
    for message in messages.values():
        assert f"/issues/{issue_id}" in body_text(message)
        assert "reader.one@example.org" not in message.as_string()


class _FailsOnceAfterFirstBatch:
    """The provider accepts the first message, then answers one temporary failure."""

    def __init__(self, folder: Path) -> None:
        from distributor.adapters.outbox import OutboxEmailSender

        self.outbox = OutboxEmailSender(folder)
        self.calls = 0

    def send_batch(self, batch):  # type: ignore[no-untyped-def]
        from distributor.adapters.email_base import TransientDeliveryError

        self.calls += 1
        if self.calls == 2:
            raise TransientDeliveryError("the provider is busy (503)")
        return self.outbox.send_batch(batch)

    def close(self) -> None:
        self.outbox.close()


def test_a_retried_notification_sends_only_the_languages_not_yet_sent(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, MAIL_BACKEND="outbox")
    ids = seed_newsroom(settings.database_url)
    with unit_of_work(settings.database_url) as db:
        for email, language in (("editor@example.org", "zh-Hant"), ("admin@example.org", "fr")):
            user = find_user(db, email)
            assert user is not None
            set_language(db, user, language)
        issue_id = create_issue(db, ["weekly"], "Cette semaine", [ids["night-shift"]]).id
    with unit_of_work(settings.database_url) as db:
        sending.start_issue_now(db, issue_id)
    with unit_of_work(settings.database_url) as db:
        sending.dispatch_due(db, settings)
        from distributor.adapters.email_base import email_sender_for

        sending.run_sending_inline(
            db, settings, email_sender_for(settings), issue_id, max_seconds=30
        )
    flaky = _FailsOnceAfterFirstBatch(settings.outbox_dir)
    with unit_of_work(settings.database_url) as db:
        first = deliver_notifications(db, settings, flaky)
        second = deliver_notifications(db, settings, flaky)
    assert (first.retrying, first.sent, second.sent) == (1, 0, 1)
    assert flaky.calls == 3  # one language, the failure, then only the other language
    received = [message["To"] for message in read_outbox(settings.outbox_dir, "desk-notification-")]
    assert sorted(received) == ["admin@example.org", "editor@example.org"]
