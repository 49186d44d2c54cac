"""The email in every shipped language (issue 18): labels from the ``email`` catalogue, ``lang``
and ``dir`` on the document and on each story, right-to-left alignment, mixed issues labelled
story by story, Traditional Chinese without Simplified-only forms, typography per script."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hanzidentifier import helpers as hanzi
from lxml import etree

from distributor.i18n import SHIPPED_LANGUAGES, catalogue_for, gettext_in, ngettext_in
from distributor.rendering.email import (
    Recipient,
    fallback_first_name,
    font_stack_for,
    personalise,
    render_issue,
    render_web_archive,
)
from distributor.rendering.labels import labels_for
from tests.factories.email_stories import branding
from tests.unit.rendering.email_lang_stories import STORIES, issue_in, story
from tests.unit.rendering.email_properties import parse, visible_text


def email_gettext(tag: str, message: str) -> str:
    """``message`` as the email catalogue of ``tag`` has it."""
    return gettext_in(tag, message, domain="email")


def email_ngettext(tag: str, singular: str, plural: str, count: int) -> str:
    return ngettext_in(tag, singular, plural, count, domain="email")


SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)
RIGHT_TO_LEFT = ("ar", "fa")
RECIPIENT = Recipient(
    email="reader@example.org",
    first_name="Ada Lovelace",
    unsubscribe_url="https://news.example.org/unsubscribe/tok",
    preferences_url="https://news.example.org/preferences/tok",
    web_url="https://news.example.org/archive/web",
)

# Words a reader of each language must see, written out here so that a broken or emptied
# catalogue fails (comparing with gettext alone would pass on English fallbacks).
EXPECTED_WORDS = {
    "en": ("Continue reading", "Unsubscribe", "Manage preferences", "About the author", "By "),
    "zh-Hans": ("继续阅读", "退订", "管理订阅设置", "关于作者", "作者：", "编者按"),
    "zh-Hant": ("繼續閱讀", "取消訂閱", "管理偏好設定", "關於作者", "作者：", "編者按", "電子報"),
    "es": ("Seguir leyendo", "Darse de baja", "Gestionar preferencias", "Sobre el autor", "Por "),
    "fr": ("Lire la suite", "Se désabonner", "Gérer mes préférences", "À propos de", "Par "),
    "ar": ("تابع القراءة", "إلغاء الاشتراك", "إدارة التفضيلات", "عن الكاتب", "بقلم"),
    "fa": ("ادامهٔ مطلب", "لغو اشتراک", "مدیریت تنظیمات", "دربارهٔ نویسنده", "نوشتهٔ"),
}
CATALOGUE_MESSAGES = (
    "Continue reading",
    "About the author",
    "From the editor",
    "Unsubscribe",
    "Manage preferences",
    "View in browser",
)


def _story_blocks(html: str) -> list[etree._Element]:
    """The story containers: the element that says a story's language and holds its headline."""
    return [
        div for div in parse(html).iter("div") if div.get("lang") and div.find("h2") is not None
    ]


def _text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _styles(element: etree._Element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (element.get("style") or "").split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_an_issue_for_a_list_in_each_language_speaks_it(language: str) -> None:
    rendered = render_issue(issue_in(language), branding())
    html, text = personalise(rendered, RECIPIENT, fallback_first_name(language))
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    root = parse(html)
    assert root.get("lang") == language
    assert root.get("dir") == direction
    # The wrapper MJML puts inside <body> says it too (clients that drop <html> keep it).
    wrapper = root.find("body").find("div")
    assert (wrapper.get("lang"), wrapper.get("dir")) == (language, direction)
    stories = _story_blocks(html)
    assert len(stories) == 2
    assert all((s.get("lang"), s.get("dir")) == (language, direction) for s in stories)

    shown = visible_text(html)
    for message in CATALOGUE_MESSAGES:
        word = email_gettext(language, message)
        assert word in shown, (language, message)
        assert word in text, (language, message)
    for word in EXPECTED_WORDS[language]:
        assert word in shown, (language, word)
        assert word.strip() in text, (language, word)
    labels = labels_for(language)
    assert labels.greeting_before + "Ada Lovelace" + labels.greeting_after in shown
    if language != "en":
        assert "Continue reading" not in shown
        assert "Unsubscribe" not in text


def test_every_label_of_every_translated_language_differs_from_english() -> None:
    english = labels_for("en")
    for language in SHIPPED_LANGUAGES[1:]:
        labels = labels_for(language)
        for field in ("continue_reading", "about_the_author", "from_the_editor", "unsubscribe",
                      "manage_preferences", "view_in_browser", "why_received", "by", "credit",
                      "fallback_first_name"):  # fmt: skip
            assert getattr(labels, field) != getattr(english, field), (language, field)
        assert "%(list)s" in labels.why_received
        assert "%(publisher)s" in labels.why_received


def test_labels_are_looked_up_once_per_language() -> None:
    # The hot path reads attributes of one cached object per shipped language.
    assert labels_for("zh-TW") is labels_for("zh-Hant")
    assert labels_for("es-MX") is labels_for("es")
    assert labels_for("de") is labels_for("en")
    assert labels_for("fa-IR").language == "fa"


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_a_right_to_left_issue_is_laid_out_from_the_right(language: str) -> None:
    html = render_issue(issue_in(language), branding()).html
    root = parse(html)
    body = root.find("body")
    # Every text block is aligned right, except the centred masthead and "View in browser",
    # which goes to the left: the end of a right-to-left line.
    view = next(a for a in body.iter("a") if a.get("href") == "-web_url-").getparent()
    blocks = [
        div
        for div in body.iter("div")
        if "text-align" in _styles(div) and "mj-column" not in (div.get("class") or "")
    ]
    sides = [_styles(div)["text-align"] for div in blocks if div is not view]
    assert sides.count("right") >= 6, sides  # stories, captions, bios, footer
    assert set(sides) == {"right", "center"}, sides
    assert _styles(view)["text-align"] == "left"
    # Columns run right to left (MJML sets direction:ltr on columns unless told otherwise).
    columns = [div for div in body.iter("div") if "mj-column-per-100" in (div.get("class") or "")]
    assert columns
    assert all(_styles(div)["direction"] == "rtl" for div in columns)
    # Notes start on the right: their rule and padding are mirrored.
    notes = [p for p in body.iter("p") if "border-right" in (p.get("style") or "")]
    assert len(notes) == 2
    assert not [p for p in body.iter("p") if "border-left" in (p.get("style") or "")]
    # The avatar sits on the right with its gap on its left.
    avatar_cell = next(img for img in body.iter("img") if "authors" in img.get("src")).getparent()
    assert _styles(avatar_cell)["padding"] == "14px 0 0 12px"
    # "Continue reading" points onwards, to the left.
    assert "\u2190" in visible_text(html)
    assert "\u2192" not in visible_text(html)
    # Letters of Arabic script join: no letter-spacing (nor upper-casing) on our labels.
    for element in body.iter("p", "h2"):
        if element.get("class") == "k":
            assert "letter-spacing" not in (element.get("style") or "")


def test_names_and_titles_in_another_direction_are_isolated() -> None:
    article = replace(
        story("ar"),
        authors=(replace(story("ar").authors[0], name="Layla Haddad"),),
    )
    content = issue_in("ar", articles=(article,), list_title="The Harbour Letter")
    html, text = personalise(render_issue(content, branding()), RECIPIENT, "x")
    root = parse(html)
    isolated = [_text_of(bdi) for bdi in root.iter("bdi")]
    assert "Layla Haddad" in isolated  # byline and bio heading
    assert isolated.count("Layla Haddad") >= 2
    assert "The Harbour Letter" in isolated  # the list's title in the footer sentence
    assert "Distributor Demo Magazine" in isolated  # the publisher in the same sentence
    assert "Ada Lovelace" in isolated  # the reader's name in the greeting
    assert "بقلم Layla Haddad" in text
    # Titles are quoted as Arabic quotes them (CLDR: ” … “).
    assert "”The Harbour Letter“" in text


def test_a_mixed_issue_labels_each_story_in_its_own_language_and_direction() -> None:
    traditional = story("zh-Hant")
    english = story("en")
    arabic = story("ar")
    content = issue_in("zh-Hant", articles=(traditional, english, arabic))
    rendered = render_issue(content, branding())
    root = parse(rendered.html)
    assert (root.get("lang"), root.get("dir")) == ("zh-Hant", "ltr")
    blocks = _story_blocks(rendered.html)
    assert [(b.get("lang"), b.get("dir")) for b in blocks] == [
        ("zh-Hant", "ltr"),
        ("en", "ltr"),
        ("ar", "rtl"),
    ]
    zh_text, en_text, ar_text = (_text_of(block) for block in blocks)
    assert "繼續閱讀" in zh_text
    assert "作者：林雅婷" in zh_text
    assert "Continue reading" in en_text
    assert "By Mara Ellison-0" in en_text
    assert "تابع القراءة" in ar_text
    assert "بقلم ليلى حداد" in ar_text
    assert "Continue reading" not in ar_text + zh_text
    # The Arabic story sets its own alignment inside a left-to-right issue; the others follow
    # the issue's.
    assert _styles(blocks[2])["text-align"] == "right"
    assert "text-align" not in _styles(blocks[1])
    # Its caption, credit and bio say the story's language and direction too.
    arabic_parts = [
        element
        for element in root.iter("div", "table")
        if element.get("lang") == "ar" and element not in blocks
    ]
    assert len(arabic_parts) >= 2  # the lead photo's caption block and the bio
    assert all(element.get("dir") == "rtl" for element in arabic_parts)
    assert any("تصوير: تعاونية صيادي الميناء" in _text_of(part) for part in arabic_parts)
    assert any("عن الكاتب" in _text_of(part) for part in arabic_parts)
    # The chrome follows the list: Traditional Chinese masthead and footer.
    shown = visible_text(rendered.html)
    assert "編者按" in shown
    assert "取消訂閱" in shown
    assert "在瀏覽器中檢視" in shown
    # The text part labels each story in its own language too.
    assert "Continue reading：" not in rendered.text  # the story's own colon, not the issue's
    assert "Continue reading: " + english.canonical_url in rendered.text
    assert "تابع القراءة: " + arabic.canonical_url in rendered.text
    assert "繼續閱讀：" + traditional.canonical_url in rendered.text


def test_traditional_chinese_email_has_no_simplified_only_characters() -> None:
    rendered = render_issue(issue_in("zh-Hant", count=3), branding())
    html, text = personalise(rendered, RECIPIENT, fallback_first_name("zh-Hant"))
    for name, document in (("html", visible_text(html)), ("text", text)):
        found = sorted({char for char in document if char in SIMPLIFIED_ONLY})
        assert not found, f"Simplified-only characters in the {name} part: {''.join(found)}"
    # The check can fail: the Simplified labels would be caught.
    simplified = render_issue(replace(issue_in("zh-Hant"), language="zh-Hans"), branding())
    assert {char for char in simplified.text if char in SIMPLIFIED_ONLY}


def test_traditional_chinese_uses_taiwan_and_hong_kong_words() -> None:
    labels = labels_for("zh-Hant")
    assert labels.unsubscribe == "取消訂閱"
    assert labels.manage_preferences == "管理偏好設定"
    assert "電子報" in labels.why_received
    assert labels_for("zh-Hans").unsubscribe == "退订"


@pytest.mark.parametrize(
    ("language", "opening", "closing"),
    [("zh-Hant", "《", "》"), ("zh-Hans", "《", "》"), ("fr", "«\u202f", "\u202f»"),
     ("es", "«", "»"), ("fa", "«", "»"), ("ar", "”", "“")],
)  # fmt: skip
def test_the_list_title_is_quoted_as_the_language_quotes_titles(
    language: str, opening: str, closing: str
) -> None:
    content = issue_in(language)
    rendered = render_issue(content, branding())
    quoted = f"{opening}{content.list_title}{closing}"
    assert quoted in " ".join(rendered.text.split("\n"))
    assert quoted in "".join(parse(rendered.html).find("body").itertext())  # spaces kept


def test_english_leaves_the_list_title_bare() -> None:
    rendered = render_issue(issue_in("en"), branding())
    assert "subscribed to The Weekly Dispatch from" in " ".join(rendered.text.split())


@pytest.mark.parametrize("language", ["zh-Hant", "zh-Hans", "ar", "fa"])
def test_no_synthetic_italics_for_cjk_and_arabic_script(language: str) -> None:
    html = render_issue(issue_in(language), branding()).html
    assert "italic" not in html
    notes = [p for p in parse(html).iter("p") if "border-" in (p.get("style") or "")]
    assert notes
    # The note stands out by colour instead.
    assert all("color" in _styles(p) for p in notes)
    # <em> in these languages is bold, not slanted, where the client reads head styles.
    assert ":lang(zh) em" in html
    assert "font-style:normal" in html


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_notes_stay_italic_where_the_script_has_italics(language: str) -> None:
    html = render_issue(issue_in(language), branding()).html
    notes = [p for p in parse(html).iter("p") if "border-left" in (p.get("style") or "")]
    assert notes
    assert all(_styles(p).get("font-style") == "italic" for p in notes)


def test_cjk_stories_break_lines_strictly_and_let_long_urls_wrap() -> None:
    html = render_issue(issue_in("zh-Hant"), branding()).html
    for block in _story_blocks(html):
        styles = _styles(block)
        assert styles["line-break"] == "strict"
        # Normal CJK breaking, and a long URL may wrap anywhere rather than widen the table.
        assert styles["word-break"] == "break-word"
        assert styles["overflow-wrap"] == "anywhere"
    english = render_issue(issue_in("en"), branding()).html
    assert all("line-break" not in _styles(block) for block in _story_blocks(english))


def test_font_stacks_for_traditional_chinese_and_arabic_script() -> None:
    stack = branding().font_stack
    traditional = [font.strip() for font in font_stack_for(stack, "zh-Hant").split(",")]
    for font in ("'PingFang TC'", "'Microsoft JhengHei'", "'Noto Sans CJK TC'", "'Songti TC'"):
        assert traditional.index(font) < traditional.index("'Noto Serif CJK SC'"), font
    arabic = [font.strip() for font in font_stack_for(stack, "ar").split(",")]
    assert arabic[:2] == ["'Geeza Pro'", "'Noto Naskh Arabic'"]
    assert "Tahoma" in arabic
    persian = [font.strip() for font in font_stack_for(stack, "fa").split(",")]
    assert persian[:2] == ["Vazirmatn", "'B Nazanin'"]
    assert "Tahoma" in persian
    html = render_issue(issue_in("fa"), branding()).html
    assert "Vazirmatn" in html
    assert "@import" not in html
    assert "fonts.googleapis" not in html


def test_names_are_joined_as_each_language_joins_a_list() -> None:
    names = ["A", "B", "C"]
    assert labels_for("en").byline(names) == "By A, B, and C"
    assert labels_for("zh-Hant").byline(names) == "作者：A、B和C"
    assert labels_for("es").byline(names) == "Por A, B y C"
    assert labels_for("fr").byline(names) == "Par A, B et C"
    assert labels_for("ar").byline(names[:2]) == "بقلم A وB"
    assert labels_for("fa").byline(names[:2]) == "نوشتهٔ A و B"


def test_french_typography_in_the_labels() -> None:
    labels = labels_for("fr")
    assert labels.colon == "\u00a0: "
    assert labels.credit_line("Atelier") == "Photo\u00a0: Atelier"
    rendered = render_issue(issue_in("fr"), branding())
    assert "Se désabonner\u00a0: -unsubscribe_url-" in rendered.text


def test_persian_labels_use_persian_letters_and_zwnj() -> None:
    words = [
        email_gettext("fa", message)
        for message in catalogue_for("fa", "email")._catalog  # type: ignore[attr-defined]
        if isinstance(message, str) and message
    ]
    assert words
    joined = "".join(words)
    assert "ي" not in joined
    assert "ك" not in joined
    assert "\u200c" in email_gettext("fa", "Manage your subscriptions")  # اشتراک‌های


def test_plural_forms_of_arabic_are_all_filled() -> None:
    forms = {
        count: email_ngettext(
            "ar", "The link works for %(days)s day.", "The link works for %(days)s days.", count
        )
        for count in (0, 1, 2, 3, 11, 100)
    }
    assert len(set(forms.values())) == 6
    assert all("The link" not in form for form in forms.values())


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_the_web_archive_keeps_language_and_direction(language: str) -> None:
    rendered = render_issue(issue_in(language), branding())
    page = render_web_archive(
        rendered, RECIPIENT.web_url, index_link=("https://news.example.org/lists/x", "Archive")
    )
    root = parse(page)
    assert (root.get("lang"), root.get("dir")) == (language, "rtl")
    assert fallback_first_name(language) in visible_text(page)
    assert email_gettext(language, "Unsubscribe") not in visible_text(page)
    nav = root.find(".//nav")
    assert nav is not None
    assert nav.get("dir") == "rtl"
    assert "\u2192" in _text_of(nav)  # "back" points right in a right-to-left page


def test_sample_stories_are_what_they_claim() -> None:
    # Guards the fixtures: Traditional text only, Persian letters only.
    import dataclasses

    traditional = " ".join(map(str, dataclasses.astuple(STORIES["zh-Hant"])))
    assert not {char for char in traditional if char in SIMPLIFIED_ONLY}
    persian = " ".join(map(str, dataclasses.astuple(STORIES["fa"])))
    assert "ي" not in persian
    assert "ك" not in persian
    assert "\u200c" in persian


def test_partner_feeds_head_the_bios_in_the_story_language() -> None:
    from distributor.rendering.feeds.common import about_the_authors

    assert about_the_authors("en", 1) == "About the author"
    assert about_the_authors("en", 2) == "About the authors"
    assert about_the_authors("zh-TW", 2) == "關於作者"
    assert about_the_authors("zh-Hans", 1) == "关于作者"
    assert about_the_authors("es", 2) == "Sobre los autores"
    assert about_the_authors("fr", 1) == "À propos de l’auteur"
    assert about_the_authors("ar", 2) == "عن الكاتبَين"
    assert about_the_authors("de", 2) == "About the authors"
