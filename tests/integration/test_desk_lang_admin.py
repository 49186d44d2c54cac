"""The desk's lists, subscribers, suppressions, schedules, sources, partners, users and audit
pages speak every shipped language, through the real app.

Each page is asked for with the browser's ``Accept-Language`` and must show that language's own
labels (literal words here, not read back from the catalogue), with ``lang`` and ``dir`` right;
a form action's message on the next page is in that language too; Traditional Chinese pages
carry no Simplified-only character.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hanzidentifier import helpers as hanzi
from sqlalchemy import select

from distributor.db import models
from distributor.db.session import unit_of_work
from distributor.services.feeds import PartnerSettings, create_partner
from distributor.services.schedules import create_schedule
from distributor.services.subscribers import add_subscriber
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.integration.test_desk_pages import csrf_from, seed_newsroom, sign_in

SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)
LANGUAGES = ("en", "zh-Hans", "zh-Hant", "es", "fr", "ar", "fa")
RIGHT_TO_LEFT = {"ar", "fa"}


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """A signed-in administrator on a newsroom with a list, readers, a schedule, a partner."""
    settings = make_settings(tmp_path, sqlite_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    ids = seed_newsroom(settings.database_url)
    with unit_of_work(settings.database_url) as db:
        create_schedule(db, "friday", list_name="weekly", cron="0 8 * * fri", timezone="UTC")
        created = create_partner(
            db, "Harbour Daily", PartnerSettings(formats=("rss",)), datetime.now(UTC)
        )
        ids["partner"] = created.partner.id
        ids["reader"] = db.scalars(
            select(models.Subscriber.id).where(models.Subscriber.email == "reader.one@example.org")
        ).one()
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        sign_in(client)
        yield client, ids


# Words each page shows in each language (besides the English of tests/integration/test_desk_*).
PAGE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "/lists": {
        "en": ("New list", "Create list", "Opt-in"),
        "zh-Hans": ("新建列表", "创建列表", "确认方式", "双重确认"),
        "zh-Hant": ("新增名單", "建立名單", "確認方式", "雙重確認"),
        "es": ("Nueva lista", "Crear lista", "Visibilidad", "doble"),
        "fr": ("Nouvelle liste", "Créer la liste", "Visibilité", "publique"),
        "ar": ("قائمة جديدة", "إنشاء القائمة", "طريقة التأكيد", "عامة"),
        "fa": ("فهرست تازه", "ساختن فهرست", "شیوه\u200cی تأیید", "عمومی"),
    },
    "/lists/{list}": {
        "en": ("Welcome email", "Archive list weekly"),
        "zh-Hans": ("欢迎邮件", "归档列表 weekly", "复制表单"),
        "zh-Hant": ("歡迎信", "封存名單 weekly", "複製表單"),
        "es": ("Correo de bienvenida", "Archivar la lista weekly", "Copiar el formulario"),
        "fr": ("E-mail de bienvenue", "Archiver la liste weekly", "Copier le formulaire"),
        "ar": ("رسالة الترحيب", "أرشفة القائمة weekly", "نسخ النموذج"),
        "fa": ("ایمیل خوشامد", "بایگانی فهرست weekly", "رونوشت فرم"),
    },
    "/subscribers": {
        "en": ("Add a reader", "2 subscribers."),
        "zh-Hans": ("添加读者", "共 2 位订阅者。", "电子邮件或姓名"),
        "zh-Hant": ("新增讀者", "共 2 位訂閱者。", "電子郵件或姓名"),
        "es": ("Añadir un lector", "2 suscriptores.", "Correo o nombre"),
        "fr": ("Ajouter un lecteur", "2 abonnés.", "E-mail ou nom"),
        "ar": ("إضافة قارئ", "مشتركان.", "البريد الإلكتروني أو الاسم"),
        "fa": ("افزودن خواننده", "2 مشترک.", "ایمیل یا نام"),
    },
    "/subscribers/{reader}": {
        "en": ("Correct name, address or language", "Erase on request"),
        "zh-Hans": ("更正姓名、地址或语言", "应要求抹除", "加入列表"),
        "zh-Hant": ("更正姓名、地址或語言", "應要求清除", "加入名單"),
        "es": ("Corregir nombre, dirección o idioma", "Borrar a petición", "Añadir a la lista"),
        "fr": ("Corriger le nom, l’adresse ou la langue", "Effacement sur demande"),
        "ar": ("تصحيح الاسم أو العنوان أو اللغة", "المحو عند الطلب"),
        "fa": ("اصلاح نام، نشانی یا زبان", "پاک\u200cسازی به درخواست"),
    },
    "/subscribers/import": {
        "en": ("Import subscribers from a CSV file",),
        "zh-Hans": ("从 CSV 文件导入订阅者", "导入"),
        "zh-Hant": ("從 CSV 檔案匯入訂閱者", "匯入"),
        "es": ("Importar suscriptores desde un archivo CSV",),
        "fr": ("Importer des abonnés depuis un fichier CSV",),
        "ar": ("استيراد المشتركين من ملف CSV",),
        "fa": ("درون\u200cریزی مشترکان از پرونده\u200cی CSV",),
    },
    "/suppressions": {
        "en": ("Suppress an address", "Lift a suppression"),
        "zh-Hans": ("屏蔽名单", "屏蔽地址", "解除屏蔽"),
        "zh-Hant": ("封鎖名單", "封鎖地址", "解除封鎖"),
        "es": ("Lista de exclusión", "Excluir una dirección", "Levantar una exclusión"),
        "fr": ("Liste d’exclusion", "Exclure une adresse", "Lever une exclusion"),
        "ar": ("قائمة الحظر", "حظر عنوان", "رفع الحظر"),
        "fa": ("فهرست مسدود", "مسدود کردن یک نشانی", "برداشتن مسدودی"),
    },
    "/schedules": {
        "en": ("New schedule", "Pause friday"),
        "zh-Hans": ("新建定时计划", "暂停 friday", "时区"),
        "zh-Hant": ("新增排程", "暫停 friday", "時區"),
        "es": ("Nueva programación", "Pausar friday", "Zona horaria"),
        "fr": ("Nouvelle programmation", "Mettre en pause friday", "Fuseau horaire"),
        "ar": ("جدولة جديدة", "إيقاف friday مؤقتًا", "المنطقة الزمنية"),
        "fa": ("زمان\u200cبندی تازه", "توقف friday", "منطقه\u200cی زمانی"),
    },
    "/sources": {
        "en": ("Add a feed", "Poll every (minutes)"),
        "zh-Hans": ("添加订阅源", "抓取间隔（分钟）"),
        "zh-Hant": ("新增摘要", "擷取間隔（分鐘）"),
        "es": ("Añadir un feed", "Consultar cada (minutos)"),
        "fr": ("Ajouter un flux", "Relever toutes les (minutes)"),
        "ar": ("إضافة موجز", "الجلب كل (دقائق)"),
        "fa": ("افزودن خوراک", "واکشی هر (دقیقه)"),
    },
    "/partners": {
        "en": ("New partner", "Feed formats the partner may fetch"),
        "zh-Hans": ("新建合作伙伴", "合作伙伴可获取的订阅源格式"),
        "zh-Hant": ("新增合作夥伴", "合作夥伴可取用的摘要格式"),
        "es": ("Nuevo socio", "Formatos de feed que el socio puede descargar"),
        "fr": ("Nouveau partenaire", "Formats de flux que le partenaire peut récupérer"),
        "ar": ("شريك جديد", "صيغ الموجزات التي يحق للشريك جلبها"),
        "fa": ("همکار تازه", "قالب\u200cهای خوراکی که همکار می\u200cتواند واکشی کند"),
    },
    "/partners/{partner}": {
        "en": ("Rotate key", "Push delivery log"),
        "zh-Hans": ("更换密钥", "推送记录"),
        "zh-Hant": ("更換金鑰", "推送紀錄"),
        "es": ("Renovar la clave", "Registro de envíos push"),
        "fr": ("Renouveler la clé", "Journal des envois push"),
        "ar": ("استبدال المفتاح", "سجل تسليم الدفع"),
        "fa": ("عوض کردن کلید", "گزارش ارسال خودکار"),
    },
    "/admin/users": {
        "en": ("Desk accounts", "Add an account"),
        "zh-Hans": ("编辑台账号", "添加账号", "管理员"),
        "zh-Hant": ("編輯台帳號", "新增帳號", "管理員"),
        "es": ("Cuentas de la redacción", "Añadir una cuenta", "administrador"),
        "fr": ("Comptes de la rédaction", "Ajouter un compte", "administrateur"),
        "ar": ("حسابات غرفة التحرير", "إضافة حساب", "مسؤول"),
        "fa": ("حساب\u200cهای میز تحریریه", "افزودن یک حساب", "مدیر"),
    },
    "/admin/audit": {
        "en": ("Audit log", "Any action"),
        "zh-Hans": ("审计日志", "不限操作", "筛选"),
        "zh-Hant": ("稽核記錄", "不限動作", "篩選"),
        "es": ("Registro de auditoría", "Cualquier acción", "Filtrar"),
        "fr": ("Journal d’audit", "Toutes les actions", "Filtrer"),
        "ar": ("سجل التدقيق", "كل الإجراءات", "تصفية"),
        "fa": ("گزارش ممیزی", "همه\u200cی کنش\u200cها", "پالایش"),
    },
}


def _path(template: str, ids: dict[str, int]) -> str:
    return (
        template.replace("{list}", str(ids["list"]))
        .replace("{reader}", str(ids["reader"]))
        .replace("{partner}", str(ids["partner"]))
    )


def _main(html: str) -> str:
    """The page's own content (the header and footer around it belong to the base template)."""
    match = re.search(r"<main\b.*</main>", html, re.DOTALL)
    assert match, "no <main> in the page"
    return match.group(0)


def _visible_text(html: str) -> str:
    """The page without its tags (the words a reader sees and hears)."""
    return re.sub(r"<[^>]+>", " ", html)


def _simplified_only(html: str) -> set[str]:
    return {char for char in _visible_text(html) if char in SIMPLIFIED_ONLY}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_speaks_the_browsers_language(desk, language: str) -> None:  # type: ignore[no-untyped-def]
    client, ids = desk
    client.headers["Accept-Language"] = f"{language},en;q=0.5"
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    for template, words in PAGE_WORDS.items():
        response = client.get(_path(template, ids))
        assert response.status_code == 200, template
        assert f'<html lang="{language}" dir="{direction}">' in response.text, template
        page = _main(response.text)
        assert response.headers["content-language"] == language
        for word in words[language]:
            assert word in page, f"{template} in {language}: {word!r} missing"
        if language != "en":
            for english in words["en"]:
                assert english not in page, f"{template} in {language} still says {english!r}"
        if language == "zh-Hant":
            assert not _simplified_only(page), f"{template}: {_simplified_only(page)}"


FLASH_AFTER_CREATING_A_LIST = {
    "en": "List monthly created.",
    "zh-Hans": "列表 monthly 已创建。",
    "zh-Hant": "已建立名單 monthly。",
    "es": "Lista monthly creada.",
    "fr": "Liste monthly créée.",
    "ar": "أُنشئت القائمة monthly.",
    "fa": "فهرست monthly ساخته شد.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_actions_message_is_in_the_browsers_language(desk, language: str) -> None:  # type: ignore[no-untyped-def]
    client, _ids = desk
    client.headers["Accept-Language"] = language
    token = csrf_from(client.get("/lists").text)
    response = client.post(
        "/lists", data={"csrf_token": token, "name": "monthly", "title": "Monthly"}
    )
    assert response.status_code == 200
    assert str(response.url).endswith("/lists")
    assert FLASH_AFTER_CREATING_A_LIST[language] in response.text
    if language == "zh-Hant":
        assert not _simplified_only(_main(response.text))


REFUSED_SUPPRESSION = {
    "en": "Enter the full email address to suppress, e.g. reader@example.org.",
    "zh-Hans": "请输入要屏蔽的完整电子邮件地址，例如 reader@example.org。",
    "zh-Hant": "請輸入要封鎖的完整電子郵件地址，例如 reader@example.org。",
    "es": "Escriba la dirección de correo completa que quiere excluir",
    "fr": "Saisissez l’adresse e-mail complète à exclure",
    "ar": "أدخل عنوان البريد الإلكتروني الكامل الذي تريد حظره",
    "fa": "نشانی کامل ایمیلی را که می\u200cخواهید مسدود شود وارد کنید",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_action_explains_itself_in_the_browsers_language(desk, language: str) -> None:  # type: ignore[no-untyped-def]
    client, _ids = desk
    client.headers["Accept-Language"] = language
    token = csrf_from(client.get("/suppressions").text)
    refused = client.post("/suppressions", data={"csrf_token": token, "email": "no-at-sign"})
    assert 'class="flash flash-error"' in refused.text
    assert REFUSED_SUPPRESSION[language] in refused.text


def test_french_messages_use_french_spacing_and_quotes(desk) -> None:  # type: ignore[no-untyped-def]
    client, ids = desk
    client.headers["Accept-Language"] = "fr"
    page = client.get("/admin/audit", params={"since": "last week"}).text
    assert "«\u00a0last week\u00a0» n’est pas une date\u202f; utilisez" in page
    key_page = client.get(f"/partners/{ids['partner']}").text
    assert "Émettre une nouvelle clé\u202f?" in key_page


ARABIC_SUBSCRIBER_COUNTS = {
    0: "لا مشتركين.",
    1: "مشترك واحد.",
    2: "مشتركان.",
    3: "3 مشتركين.",
    11: "11 مشتركًا.",
    100: "100 مشترك.",
}


def test_counts_take_each_languages_plural_forms(desk) -> None:  # type: ignore[no-untyped-def]
    client, _ids = desk
    client.headers["Accept-Language"] = "ar"
    page = client.get("/subscribers", params={"q": "nobody-matches"}).text
    assert ARABIC_SUBSCRIBER_COUNTS[0] in page
    assert ARABIC_SUBSCRIBER_COUNTS[2] in client.get("/subscribers").text
    assert ARABIC_SUBSCRIBER_COUNTS[1] in client.get("/subscribers?q=reader.one").text
    client.headers["Accept-Language"] = "fr"
    assert "1 abonné." in client.get("/subscribers?q=reader.one").text
    assert "2 abonnés." in client.get("/subscribers").text


def test_arabic_plural_forms_cover_every_count() -> None:
    from distributor.i18n import ngettext, use_language

    with use_language("ar"):
        for count, expected in ARABIC_SUBSCRIBER_COUNTS.items():
            shown = ngettext("%(num)s subscriber.", "%(num)s subscribers.", count) % {"num": count}
            assert shown == expected


def test_the_signup_form_to_embed_speaks_the_lists_language(desk) -> None:  # type: ignore[no-untyped-def]
    client, _ids = desk
    client.headers["Accept-Language"] = "en"
    token = csrf_from(client.get("/lists").text)
    client.post(
        "/lists",
        data={"csrf_token": token, "name": "taipei", "title": "台北週報", "language": "zh-TW"},
    )
    page = client.get("/lists").text
    list_id = re.search(r'href="/lists/(\d+)" aria-label="Edit taipei"', page)
    assert list_id
    embed = html.unescape(client.get(f"/lists/{list_id.group(1)}").text)
    # The desk stays English for the editor; the form readers see is in the list's language.
    assert "Signup form for your own pages" in embed
    assert "電子郵件地址" in embed
    assert "訂閱《台北週報》" in embed  # the reader pages' wording (public catalogue)
    assert (
        '<form method="post" action="https://news.example.org/signup/taipei" lang="zh-Hant"'
        in embed
    )


def test_names_in_tables_are_isolated_from_the_page_direction(desk) -> None:  # type: ignore[no-untyped-def]
    client, ids = desk
    with unit_of_work(client.app.state.settings.database_url) as db:  # type: ignore[attr-defined]
        add_subscriber(db, "amal@example.org", "weekly", name="أمل", confirmed=True)
    client.headers["Accept-Language"] = "en"
    assert "<bdi>أمل</bdi>" in client.get("/subscribers").text
    client.headers["Accept-Language"] = "fa"
    lists = client.get("/lists").text
    assert "<bdi>The Weekly</bdi>" in lists
    assert f'<a href="/subscribers?list_id={ids["list"]}"><bdi>weekly</bdi></a>' in lists


MISSING_LIST = {
    "en": "There is no list 9999. See the lists page instead.",
    "zh-Hans": "没有列表 9999。请改看列表页面。",
    "zh-Hant": "沒有名單 9999。請改看名單頁面。",
    "es": "No existe la lista 9999. Consulte la página de listas.",
    "fr": "Il n’existe pas de liste 9999. Consultez plutôt la page des listes.",
    "ar": "لا توجد قائمة رقم 9999. راجع صفحة القوائم بدلًا من ذلك.",
    "fa": "فهرستی با شماره\u200cی 9999 نیست. به\u200cجای آن صفحه\u200cی فهرست\u200cها را ببینید.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_page_says_what_to_do_in_the_browsers_language(desk, language: str) -> None:  # type: ignore[no-untyped-def]
    client, _ids = desk
    client.headers["Accept-Language"] = language
    missing = client.get("/lists/9999", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert MISSING_LIST[language] in missing.text
