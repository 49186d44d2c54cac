"""The reader pages in every shipped language: which language a page speaks, its labels, ``lang``
and ``dir``, dates and numbers, and the reader's own choice of language.

A page tied to one list speaks the list's language; the preferences page and error pages speak
the reader's saved language, then the browser's ``Accept-Language``, then English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hanzidentifier import helpers as hanzi
from lxml import html as lxml_html
from sqlalchemy import select

from distributor.config import Settings
from distributor.db.models import Issue, IssueArticle, IssueList, Subscriber
from distributor.db.session import unit_of_work
from distributor.domain.links import CONFIRM_PURPOSE, MANAGE_PURPOSE
from distributor.domain.subscribers import OptIn
from distributor.domain.tokens import make_token
from distributor.i18n import SHIPPED_LANGUAGES
from distributor.services.subscribers import add_subscriber, create_list, sign_up
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.factories.audience import article_row

SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)

# A few words each page must show in each language (written out, not read from the catalogue).
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "signup": ("Email address", "Subscribe to", "Subscribe</button>"),
        "confirm": ("Confirm your subscription to", "Yes, subscribe me"),
        "confirmed": ("Subscription confirmed", "Manage your subscriptions"),
        "unsubscribe": ("Unsubscribe from", "Manage all your subscriptions instead"),
        "unsubscribed": ("You are unsubscribed", "any more"),
        "preferences": ("Your subscriptions", "Newsletters", "Language", "Save"),
        "archive": ("Past issues", "January 5, 2026", "2 issues", "Atom feed of these issues"),
        "error": ("This link is not valid", "The link may be incomplete"),
        "not_found": ("Page not found",),
    },
    "zh-Hans": {
        "signup": ("电子邮件地址", "订阅《", "订阅</button>"),
        "confirm": ("确认订阅", "是的，我要订阅"),
        "confirmed": ("订阅已确认", "管理您的订阅"),
        "unsubscribe": ("要退订", "退订</button>", "改为管理您的全部订阅"),
        "unsubscribed": ("已退订", "您将不再收到"),
        "preferences": ("您的订阅", "简报", "语言", "保存"),
        "archive": ("往期内容", "2026年1月5日", "共 2 期", "订阅源"),
        "error": ("此链接无效", "链接可能不完整"),
        "not_found": ("找不到页面",),
    },
    "zh-Hant": {
        "signup": ("電子郵件地址", "訂閱《", "訂閱</button>"),
        "confirm": ("確認訂閱", "是的，我要訂閱"),
        "confirmed": ("訂閱已確認", "管理您的訂閱"),
        "unsubscribe": ("要取消訂閱", "取消訂閱</button>", "改為管理您的所有訂閱"),
        "unsubscribed": ("已取消訂閱", "您將不會再收到"),
        "preferences": ("您的訂閱", "電子報", "語言", "儲存"),
        "archive": ("過往各期", "2026年1月5日", "共 2 期", "訂閱源"),
        "error": ("這個連結無效", "連結可能不完整"),
        "not_found": ("找不到網頁",),
    },
    "es": {
        "signup": ("Correo electrónico", "Suscribirse a", "Suscribirse</button>"),
        "confirm": ("Confirme su suscripción a", "Sí, quiero suscribirme"),
        "confirmed": ("Suscripción confirmada", "Gestione sus suscripciones"),
        "unsubscribe": ("¿Darse de baja de", "Darse de baja</button>"),
        "unsubscribed": ("Su suscripción se ha cancelado", "Ya no recibirá"),
        "preferences": ("Sus suscripciones", "Boletines", "Idioma", "Guardar"),
        "archive": ("Números anteriores", "5 de enero de 2026", "2 números", "Canal Atom"),
        "error": ("Este enlace no es válido", "Puede que el enlace esté incompleto"),
        "not_found": ("Página no encontrada",),
    },
    "fr": {
        "signup": ("Adresse e-mail", "S’abonner à", "S’abonner</button>"),
        "confirm": ("Confirmez votre abonnement à", "Oui, je m’abonne"),
        "confirmed": ("Abonnement confirmé", "Gérer vos abonnements"),
        "unsubscribe": ("Se désabonner de", "\u202f?", "Gérer plutôt tous vos abonnements"),
        "unsubscribed": ("Votre désabonnement est enregistré", "Vous ne recevrez plus"),
        "preferences": ("Vos abonnements", "Lettres d’information", "Langue", "Enregistrer"),
        "archive": ("Numéros précédents", "5 janvier 2026", "2 numéros", "Flux Atom"),
        "error": ("Ce lien n’est pas valide", "Le lien est peut-être incomplet"),
        "not_found": ("Page introuvable",),
    },
    "ar": {
        "signup": ("البريد الإلكتروني", "الاشتراك في", "اشترك</button>"),
        "confirm": ("أكّد اشتراكك في", "نعم، أريد الاشتراك"),
        "confirmed": ("تم تأكيد الاشتراك", "إدارة اشتراكاتك"),
        "unsubscribe": ("هل تريد إلغاء الاشتراك في", "إلغاء الاشتراك</button>"),
        "unsubscribed": ("تم إلغاء اشتراكك", "بعد الآن"),
        "preferences": ("اشتراكاتك", "النشرات", "اللغة", "حفظ"),
        "archive": ("الأعداد السابقة", "5 يناير 2026", "عددان", "موجز Atom"),
        "error": ("هذا الرابط غير صالح", "ربما يكون الرابط ناقصًا"),
        "not_found": ("الصفحة غير موجودة",),
    },
    "fa": {
        "signup": ("نشانی ایمیل", "اشتراک در", "مشترک شوید</button>"),
        "confirm": ("را تأیید کنید", "بله، مشترکم کنید"),
        "confirmed": ("اشتراک تأیید شد", "مدیریت اشتراک\u200cها"),
        "unsubscribe": ("لغو شود؟", "لغو اشتراک</button>"),
        "unsubscribed": ("اشتراک شما لغو شد", "دریافت نمی\u200cکنید"),
        "preferences": ("اشتراک\u200cهای شما", "خبرنامه\u200cها", "زبان", "ذخیره"),
        # Persian digits, written by Babel's formatting (never in the catalogue).
        "archive": ("شماره\u200cهای پیشین", "۵ ژانویهٔ ۲۰۲۶", "۲ شماره", "خوراک Atom"),
        "error": ("این پیوند معتبر نیست", "ممکن است پیوند ناقص باشد"),
        "not_found": ("صفحه پیدا نشد",),
    },
}
RIGHT_TO_LEFT = {"ar", "fa"}


@dataclass
class Site:
    settings: Settings
    client: TestClient


@dataclass
class Reader:
    subscriber_id: int
    list_id: int
    manage: str
    confirm: str


def _slug(tag: str) -> str:
    return "list-" + tag.lower()


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[Site]:
    settings = make_settings(tmp_path, sqlite_url, SIGNUP_RATE_LIMIT_PER_HOUR="1000")
    with unit_of_work(settings.database_url) as db:
        stories = [article_row(db, number) for number in range(1, 3)]
        for tag in SHIPPED_LANGUAGES:
            mailing_list = create_list(
                db, _slug(tag), title=f"Harbour Letter {tag}", language=tag, opt_in=OptIn.DOUBLE
            )
            for day, token in ((5, "a"), (4, "b")):
                issue = Issue(
                    subject=f"Issue {day} of {tag}",
                    status="sent",
                    started_at=datetime(2026, 1, day, 8, tzinfo=UTC),
                    web_token=f"{tag}-{token}",
                )
                issue.lists = [IssueList(list_id=mailing_list.id)]
                issue.articles = [
                    IssueArticle(article_id=story.id, position=position)
                    for position, story in enumerate(stories)
                ]
                db.add(issue)
        create_list(db, "german", title="Hafenbrief", language="de", opt_in=OptIn.SINGLE)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Site(settings, client)


def _reader(site: Site, tag: str, *, saved: str | None = None, email: str = "") -> Reader:
    address = email or f"reader.{tag.lower()}@example.org"
    with unit_of_work(site.settings.database_url) as db:
        membership = add_subscriber(db, address, _slug(tag), language=saved, confirmed=False)
        subscriber_id, list_id = membership.subscriber_id, membership.list_id
    secret = site.settings.secret_key()
    return Reader(
        subscriber_id,
        list_id,
        make_token(secret, MANAGE_PURPOSE, subscriber_id, list_id),
        make_token(secret, CONFIRM_PURPOSE, subscriber_id, list_id),
    )


def _root(page: httpx.Response) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(page.content)


def _assert_speaks(page: httpx.Response, tag: str, words: tuple[str, ...]) -> None:
    root = _root(page)
    assert root.get("lang") == tag, (page.url, root.get("lang"))
    assert root.get("dir") == ("rtl" if tag in RIGHT_TO_LEFT else "ltr"), page.url
    assert page.headers["Content-Language"] == tag
    for word in words:
        assert word in page.text, f"{page.url} in {tag}: {word!r} missing"


@pytest.mark.parametrize("tag", SHIPPED_LANGUAGES)
def test_every_reader_page_speaks_the_language_of_its_list(site: Site, tag: str) -> None:
    client = site.client
    # The browser asks for another language: a list's pages speak the list's.
    other = {"Accept-Language": "de-DE,de;q=0.9" if tag != "en" else "fr-FR,fr;q=0.9"}
    words = EXPECTED[tag]
    reader = _reader(site, tag, saved=tag)

    signup = client.get(f"/signup/{_slug(tag)}", headers=other)
    assert signup.status_code == 200
    _assert_speaks(signup, tag, words["signup"])
    assert "Vary" not in signup.headers
    assert f"<bdi>Harbour Letter {tag}</bdi>" in signup.text

    confirm = client.get(f"/confirm/{reader.confirm}", headers=other)
    _assert_speaks(confirm, tag, words["confirm"])
    confirmed = client.post(f"/confirm/{reader.confirm}", headers=other)
    _assert_speaks(confirmed, tag, words["confirmed"])

    unsubscribe = client.get(f"/unsubscribe/{reader.manage}", headers=other)
    _assert_speaks(unsubscribe, tag, words["unsubscribe"])
    unsubscribed = client.post(f"/unsubscribe/{reader.manage}", headers=other)
    assert unsubscribed.status_code == 200
    _assert_speaks(unsubscribed, tag, words["unsubscribed"])

    # Not tied to one list: the reader's saved language (they saved the list's).
    preferences = client.get(f"/preferences/{reader.manage}", headers=other)
    _assert_speaks(preferences, tag, words["preferences"])

    archive = client.get(f"/newsletters/{_slug(tag)}", headers=other)
    assert archive.status_code == 200
    _assert_speaks(archive, tag, words["archive"])
    assert f"<bdi>Issue 5 of {tag}</bdi>" in archive.text

    # Error pages know no list: the browser's language.
    asking = {"Accept-Language": f"{tag};q=0.9, *;q=0.1"}
    invalid = client.get("/unsubscribe/not-a-token", headers=asking)
    assert invalid.status_code == 400
    _assert_speaks(invalid, tag, words["error"])
    assert invalid.headers["Vary"] == "Accept-Language"
    missing = client.get(f"/newsletters/{_slug(tag)}/no/such/page", headers=asking)
    assert missing.status_code == 404
    _assert_speaks(missing, tag, words["not_found"])


def test_a_signup_form_in_error_speaks_the_list_language(site: Site) -> None:
    answer = site.client.post(f"/signup/{_slug('fr')}", data={"email": "deux@@example.org"})
    assert answer.status_code == 422
    _assert_speaks(answer, "fr", ("Saisissez une adresse e-mail valide",))
    assert 'value="deux@@example.org"' in answer.text
    done = site.client.post(f"/signup/{_slug('ar')}", data={"email": "qalam@example.org"})
    _assert_speaks(done, "ar", ("تحقّق من بريدك الوارد", "<bdi>Harbour Letter ar</bdi>"))


def test_the_preferences_page_follows_the_saved_language_then_the_browser(site: Site) -> None:
    client = site.client
    unsaved = _reader(site, "en", email="nobody.chose@example.org")
    canadian = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}
    page = client.get(f"/preferences/{unsaved.manage}", headers=canadian)
    _assert_speaks(page, "fr", ("Vos abonnements",))
    assert page.headers["Vary"] == "Accept-Language"

    taiwan = client.get(f"/preferences/{unsaved.manage}", headers={"Accept-Language": "zh-TW"})
    _assert_speaks(taiwan, "zh-Hant", ("您的訂閱",))
    german = {"Accept-Language": "de"}
    nothing_shipped = client.get(f"/preferences/{unsaved.manage}", headers=german)
    _assert_speaks(nothing_shipped, "en", ("Your subscriptions",))
    assert nothing_shipped.headers["Vary"] == "Accept-Language"

    chose = _reader(site, "en", saved="es-MX", email="eligio@example.org")
    spanish = client.get(f"/preferences/{chose.manage}", headers=canadian)
    _assert_speaks(spanish, "es", ("Sus suscripciones",))
    assert "Vary" not in spanish.headers  # the saved language decided, not the header


def test_a_list_in_a_language_not_shipped_falls_back_to_the_browser(site: Site) -> None:
    page = site.client.get("/signup/german", headers={"Accept-Language": "es-419"})
    _assert_speaks(page, "es", ("Correo electrónico",))
    assert page.headers["Vary"] == "Accept-Language"
    english = site.client.get("/signup/german")
    _assert_speaks(english, "en", ("Email address",))


def test_an_expired_preferences_link_speaks_the_reader_language(site: Site) -> None:
    reader = _reader(site, "en", saved="fa", email="dirooz@example.org")
    old = make_token(
        site.settings.secret_key(),
        MANAGE_PURPOSE,
        reader.subscriber_id,
        reader.list_id,
        issued_at=1_000_000_000,
    )
    page = site.client.get(f"/preferences/{old}", headers={"Accept-Language": "en"})
    assert page.status_code == 410
    _assert_speaks(page, "fa", ("این پیوند منقضی شده است", "لغو اشتراک"))
    # The number of days is Babel's, in Persian digits.
    days = site.settings.PREFERENCES_LINK_MAX_AGE_DAYS
    persian = str(days).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert f"{persian} روز" in page.text


def test_the_reader_chooses_a_language_and_the_page_speaks_it(site: Site) -> None:
    client = site.client
    reader = _reader(site, "en", email="chooser@example.org")
    page = client.get(f"/preferences/{reader.manage}")
    _assert_speaks(page, "en", ("Language",))
    options = {
        option.get("value"): (option.get("lang"), option.text_content().strip())
        for option in _root(page).xpath(".//select[@id='language']/option")
    }
    assert options == {
        "": (None, "Each newsletter's own language"),
        "en": ("en", "English"),
        "zh-Hans": ("zh-Hans", "简体中文"),
        "zh-Hant": ("zh-Hant", "繁體中文"),
        "es": ("es", "español"),
        "fr": ("fr", "français"),
        "ar": ("ar", "العربية"),
        "fa": ("fa", "فارسی"),
    }

    saved = client.post(
        f"/preferences/{reader.manage}", data={"lists": [str(reader.list_id)], "language": "fa"}
    )
    assert saved.status_code == 200
    _assert_speaks(saved, "fa", ("انتخاب\u200cهای شما ذخیره شد.",))
    assert _root(saved).xpath(".//select[@id='language']/option[@selected]")[0].get("value") == "fa"
    with unit_of_work(site.settings.database_url) as db:
        person = db.get(Subscriber, reader.subscriber_id)
        assert person is not None
        assert person.language == "fa"

    again = client.get(f"/preferences/{reader.manage}", headers={"Accept-Language": "fr"})
    _assert_speaks(again, "fa", ("اشتراک\u200cهای شما",))

    # An invalid choice is refused in the reader's language, and nothing changes.
    refused = client.post(f"/preferences/{reader.manage}", data={"language": "??"})
    assert refused.status_code == 422
    _assert_speaks(refused, "fa", ("لطفاً زبانی را از فهرست انتخاب کنید.",))

    # Each newsletter's own language: the page goes back to the browser's.
    cleared = client.post(
        f"/preferences/{reader.manage}",
        data={"lists": [str(reader.list_id)], "language": ""},
        headers={"Accept-Language": "es"},
    )
    _assert_speaks(cleared, "es", ("Sus preferencias se han guardado.",))
    with unit_of_work(site.settings.database_url) as db:
        person = db.get(Subscriber, reader.subscriber_id)
        assert person is not None
        assert person.language is None


def test_the_signup_language_choice_is_kept_and_zh_still_accepted(site: Site) -> None:
    client = site.client
    answer = client.post(
        f"/signup/{_slug('en')}", data={"email": "zhong@example.org", "language": "zh"}
    )
    assert answer.status_code == 200
    with unit_of_work(site.settings.database_url) as db:
        person = db.scalar(select(Subscriber).where(Subscriber.email == "zhong@example.org"))
        assert person is not None
        assert person.language == "zh"
        subscriber_id = person.id
        # Signing up to a list in another language keeps the reader's own choice.
        sign_up(db, _slug("fr"), "zhong@example.org", language=None)
    with unit_of_work(site.settings.database_url) as db:
        person = db.get(Subscriber, subscriber_id)
        assert person is not None
        assert person.language == "zh"
    reader = _reader(site, "en", email="zhong@example.org")
    page = client.get(f"/preferences/{reader.manage}")
    # "zh" (saved before Simplified and Traditional were told apart) reads as Simplified.
    _assert_speaks(page, "zh-Hans", ("您的订阅",))
    chosen = _root(page).xpath(".//select[@id='language']/option[@selected]")
    assert [option.get("value") for option in chosen] == ["zh-Hans"]


def test_a_saved_language_not_on_the_menu_stays_on_it(site: Site) -> None:
    reader = _reader(site, "en", saved="de", email="hafen@example.org")
    page = site.client.get(f"/preferences/{reader.manage}")
    chosen = _root(page).xpath(".//select[@id='language']/option[@selected]")
    assert [(option.get("value"), option.text_content()) for option in chosen] == [
        ("de", "Deutsch")
    ]


def test_traditional_chinese_pages_have_no_simplified_only_characters(site: Site) -> None:
    client = site.client
    reader = _reader(site, "zh-Hant", saved="zh-Hant")
    hant = {"Accept-Language": "zh-Hant"}
    pages = [
        client.get(f"/signup/{_slug('zh-Hant')}"),
        client.post(f"/signup/{_slug('zh-Hant')}", data={"email": "wrong@@example.org"}),
        client.post(f"/signup/{_slug('zh-Hant')}", data={"email": "xin@example.org"}),
        client.get(f"/confirm/{reader.confirm}"),
        client.post(f"/confirm/{reader.confirm}"),
        client.get(f"/unsubscribe/{reader.manage}"),
        client.post(f"/unsubscribe/{reader.manage}"),
        client.get(f"/preferences/{reader.manage}"),
        client.post(f"/preferences/{reader.manage}", data={"language": "zh-Hant"}),
        client.get(f"/newsletters/{_slug('zh-Hant')}"),
        client.get("/preferences/broken", headers=hant),
        client.get("/signup/no-such-list", headers=hant),
        client.get("/newsletters/x/y", headers=hant),
    ]
    for page in pages:
        assert _root(page).get("lang") == "zh-Hant", page.url
        # Everything but the language menu, which names Simplified Chinese in Simplified.
        root = _root(page)
        for option in root.xpath(".//option[@lang='zh-Hans']"):
            option.drop_tree()
        text = root.text_content()
        assert re.search(r"[\u4e00-\u9fff]", text), page.url
        found = sorted({char for char in text if char in SIMPLIFIED_ONLY})
        assert not found, f"{page.url}: Simplified-only {''.join(found)}"


def test_errors_on_reader_paths_are_reader_pages_and_others_unchanged(
    site: Site, tmp_path: Path
) -> None:
    client = site.client
    page = client.post("/newsletters/list-es", headers={"Accept-Language": "es"})
    assert page.status_code == 405
    assert page.headers["Allow"] == "GET"
    _assert_speaks(page, "es", ("No se pudo atender esta solicitud",))
    as_json = client.get("/newsletters/x/y", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json() == {"detail": "Not Found"}
    desk_side = client.get("/no-such-desk-page", headers={"Accept-Language": "es"})
    assert desk_side.status_code == 404
    assert "Content-Language" not in desk_side.headers

    # The database is not there: a 500, said in the reader's language, nothing leaked.
    broken = make_settings(tmp_path / "broken", f"sqlite:///{tmp_path / 'missing.db'}")
    with TestClient(create_app(broken), raise_server_exceptions=False) as failing:
        answer = failing.get("/signup/list-ar", headers={"Accept-Language": "ar"})
        assert answer.status_code == 500
        _assert_speaks(answer, "ar", ("حدث خطأ من جهتنا",))
        assert "sqlite" not in answer.text.lower()
        elsewhere = failing.get("/api/v1/lists")
        assert elsewhere.status_code in (401, 403, 500)
        assert "Content-Language" not in elsewhere.headers
