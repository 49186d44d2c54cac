"""Which shipped language a tag, a header or a choice of candidates leads to (pure)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from distributor import i18n


@pytest.mark.parametrize(
    ("tag", "shipped"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh_hant", "zh-Hant"),
        ("es-MX", "es"),
        ("fr-CA", "fr"),
        ("ar-EG", "ar"),
        ("fa-IR", "fa"),
        ("de", "en"),
        ("not a tag", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_tag_leads_to_the_closest_shipped_language(tag: str | None, shipped: str) -> None:
    assert i18n.shipped_language(tag) == shipped


def test_only_shipped_languages_count_as_shipped() -> None:
    assert i18n.is_shipped("zh-TW")
    assert i18n.is_shipped("es-AR")
    assert not i18n.is_shipped("de")
    assert not i18n.is_shipped("ja")
    assert not i18n.is_shipped("xx-not-a-tag")


@pytest.mark.parametrize(
    ("tag", "direction"),
    [("ar", "rtl"), ("fa-IR", "rtl"), ("he", "rtl"), ("ur", "rtl"), ("en", "ltr"),
     ("zh-Hant", "ltr"), ("az-Arab", "rtl"), (None, "ltr")],
)  # fmt: skip
def test_text_direction(tag: str | None, direction: str) -> None:
    assert i18n.text_direction(tag) == direction


def test_accept_language_is_read_by_quality_then_order() -> None:
    header = "de-DE,de;q=0.9, fr;q=0.4, zh-TW;q=0.8, ar;q=0, *;q=0.1"
    assert i18n.parse_accept_language(header) == ["de-DE", "de", "zh-TW", "fr"]
    assert i18n.from_accept_language(header) == "zh-Hant"
    assert i18n.from_accept_language("ar;q=0, de") is None
    assert i18n.from_accept_language("fr;q=abc, es") == "es"
    assert i18n.from_accept_language(None) is None


def test_the_first_shipped_candidate_wins_then_the_header_then_english() -> None:
    assert i18n.choose_language(None, "de", "fa", accept_language="fr") == "fa"
    assert i18n.choose_language(None, "", accept_language="de, fr-CA;q=0.5") == "fr"
    assert i18n.choose_language("ja", accept_language="ja, ko") == "en"


def test_each_context_keeps_its_own_language() -> None:
    seen: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def speak(tag: str) -> None:
        with i18n.use_language(tag):
            barrier.wait()
            seen[tag] = i18n.current_language()

    threads = [threading.Thread(target=speak, args=(tag,)) for tag in ("fa", "zh-TW")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"fa": "fa", "zh-TW": "zh-Hant"}
    assert i18n.current_language() == "en"


def test_the_language_menu_names_each_language_in_itself() -> None:
    menu = dict(i18n.language_choices())
    assert list(menu) == list(i18n.SHIPPED_LANGUAGES)
    assert menu["zh-Hant"] == "繁體中文"
    assert menu["zh-Hans"] == "简体中文"
    assert menu["fa"] == "فارسی"
    assert menu["ar"] == "العربية"
    assert menu["fr"] == "français"


def test_a_catalogue_without_its_compiled_file_is_compiled_when_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "email.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Unsubscribe"\nmsgstr "Se désabonner"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations_for.cache_clear()
    i18n.catalogue_for.cache_clear()
    try:
        assert i18n.gettext_in("fr", "Unsubscribe") == "Se désabonner"
        assert i18n.gettext_in("fa", "Unsubscribe") == "Unsubscribe"  # no catalogue: the source
        assert i18n.gettext_in("fr", "Unsubscribe", domain="email") == "Se désabonner"
    finally:
        i18n.translations_for.cache_clear()
        i18n.catalogue_for.cache_clear()


def test_numbers_and_dates_are_written_the_language_s_way() -> None:
    from datetime import date

    assert i18n.format_number(1234, "fa") == "۱٬۲۳۴"
    assert i18n.format_number(1234, "ar") == "1,234"  # CLDR: Arabic's default digits are Latin
    assert i18n.format_number(1234, "fr") == "1\u202f234"
    assert i18n.format_day(date(2026, 1, 5), "zh-Hant") == "2026年1月5日"
    assert i18n.format_day(date(2026, 1, 5), "fa").endswith("۲۰۲۶")
    with i18n.use_language("es"):
        assert i18n.format_day(date(2026, 1, 5)) == "5 de enero de 2026"
