"""Hostile or odd content renders safely; the house style is validated; sizes are reported."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from distributor.domain.articles import Author, Image
from distributor.rendering.email import (
    Branding,
    BrandingError,
    EmailRenderError,
    contrast_ratio,
    render_issue,
    size_warning,
)
from tests.conftest import make_settings
from tests.factories.email_stories import branding, english_article, issue_content
from tests.unit.rendering.email_properties import hrefs, parse, visible_text

HOSTILE = (
    '<script>alert("x")</script> & </mj-text></mj-column><mj-raw><b>bold</b> "quotes" '
    "'single' < > &amp; &#45; \u0000\u0007 end"
)


def test_markup_in_every_field_is_shown_as_text_and_never_executed() -> None:
    article = replace(
        english_article(0),
        title=HOSTILE,
        notes=(HOSTILE,),
        authors=(Author(name=HOSTILE, bio=HOSTILE, avatar_url="javascript:alert(1)"),),
        images=(Image(url="https://magazine.example.org/x.jpg", caption=HOSTILE, credit=HOSTILE),),
    )
    content = replace(
        issue_content(1),
        articles=(article,),
        subject=HOSTILE,
        preheader=HOSTILE,
        editor_note=HOSTILE,
        list_title=HOSTILE,
    )
    rendered = render_issue(content, branding(publisher_name=HOSTILE, publisher_address=HOSTILE))
    root = parse(rendered.html)
    assert not list(root.iter("script"))
    assert not list(root.iter("b"))
    assert "mj-" not in visible_text(rendered.html).replace("</mj-text></mj-column><mj-raw>", "")
    expected = '<script>alert("x")</script> & </mj-text>'
    assert expected in visible_text(rendered.html)
    assert expected in rendered.text
    assert "\u0000" not in rendered.html
    assert "\u0007" not in rendered.text
    assert "javascript:" not in rendered.html


def test_non_http_links_and_images_are_dropped_not_rendered() -> None:
    article = replace(
        english_article(0),
        canonical_url="javascript:alert(1)",
        images=(Image(url="data:image/png;base64,AAAA", caption="A caption", credit="C"),),
    )
    rendered = render_issue(replace(issue_content(1), articles=(article,)), branding())
    assert "javascript:" not in rendered.html
    assert "data:image" not in rendered.html
    assert article.title in visible_text(rendered.html)


def test_other_language_story_is_marked_with_its_language() -> None:
    from tests.factories.email_stories import chinese_article

    content = replace(issue_content(1), articles=(english_article(0), chinese_article(1)))
    rendered = render_issue(content, branding())
    marked = [element.get("lang") for element in parse(rendered.html).iter() if element.get("lang")]
    assert "zh-Hans" in marked
    assert "作者：陈思远1" in visible_text(rendered.html)


def test_right_to_left_issue_sets_dir() -> None:
    rendered = render_issue(replace(issue_content(1), language="ar"), branding())
    root = parse(rendered.html)
    assert root.get("lang") == "ar"
    assert root.get("dir") == "rtl"


@pytest.mark.parametrize("language", ["", "english please", "xx-bad", "<en>"])
def test_bad_language_tag_is_a_clear_error(language: str) -> None:
    with pytest.raises(EmailRenderError, match="issue 7: language must be a BCP 47 tag"):
        render_issue(replace(issue_content(1), language=language), branding())


def test_default_settings_give_a_valid_accessible_branding(tmp_path) -> None:
    settings = make_settings(tmp_path)
    house = Branding.from_settings(settings)
    assert house.publisher_name == settings.PUBLISHER_NAME
    assert house.excerpt_words == settings.EMAIL_EXCERPT_WORDS
    assert house.html_budget_bytes == settings.EMAIL_HTML_BUDGET_BYTES
    assert contrast_ratio(house.text_color, "#ffffff") >= 4.5
    assert contrast_ratio(house.primary_color, "#ffffff") >= 4.5


def test_every_text_colour_meets_contrast_on_its_background() -> None:
    rendered = render_issue(issue_content(3), branding())
    root = parse(rendered.html)
    inline = " ".join(
        str(element.get("style"))
        for element in root.iter()
        if element.get("style") and "display:none" not in str(element.get("style"))
    )
    colours = set(re.findall(r"(?<![-\w])color:(#[0-9a-fA-F]{6})", inline))
    assert len(colours) >= 3
    for colour in colours:
        # Light mode: text sits on the white page or on the page background colour.
        assert min(contrast_ratio(colour, "#ffffff"), contrast_ratio(colour, "#f6f3ee")) >= 4.5, (
            colour
        )
    dark_block = rendered.html.split("prefers-color-scheme:dark", 1)[1].split("</style>", 1)[0]
    dark_colours = set(re.findall(r"(?<![-\w])color:(#[0-9a-fA-F]{6})", dark_block))
    assert dark_colours
    for colour in dark_colours:
        assert min(contrast_ratio(colour, "#1c1c1c"), contrast_ratio(colour, "#121212")) >= 4.5
    # Every light background gets a dark replacement (footer included).
    assert ".f,.f table{background:#121212!important}" in dark_block


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"primary_color": "#ffcc00"}, "BRAND_PRIMARY_COLOR #ffcc00 has contrast"),
        ({"text_color": "#aaaaaa"}, "BRAND_TEXT_COLOR #aaaaaa has contrast"),
        ({"background_color": "#222222"}, "BRAND_BACKGROUND_COLOR"),
        ({"primary_color": "red"}, "not a #rgb or #rrggbb colour"),
        ({"font_stack": "Georgia; } body { color: red"}, "BRAND_FONT_STACK"),
        ({"logo_url": "ftp://x.org/logo.png"}, "BRAND_LOGO_URL"),
        ({"publisher_url": "magazine.example.org"}, "PUBLISHER_URL"),
    ],
)
def test_unusable_house_style_is_refused_with_the_setting_named(overrides, message) -> None:
    with pytest.raises(BrandingError, match=message):
        branding(**overrides)


def test_custom_house_style_is_applied() -> None:
    house = branding(
        primary_color="#0b5394",
        text_color="#111111",
        logo_url="https://magazine.example.org/logo.png",
        font_stack="'Iowan Old Style', 'PingFang SC', serif",
    )
    rendered = render_issue(issue_content(1), house)
    root = parse(rendered.html)
    logo = [img for img in root.iter("img") if img.get("src") == house.logo_url]
    assert logo
    assert logo[0].get("alt") == house.publisher_name
    assert "#0b5394" in rendered.html
    styles = " ".join(str(element.get("style")) for element in root.iter() if element.get("style"))
    assert "font-family:'Iowan Old Style', 'PingFang SC', serif" in styles
    assert "Georgia" not in rendered.html


def test_click_tracking_opt_in_keeps_personal_links_untracked() -> None:
    rendered = render_issue(issue_content(1), branding(track_clicks=True))
    root = parse(rendered.html)
    untracked = {a.get("href") for a in root.iter("a") if a.get("clicktracking") == "off"}
    assert untracked == {"-unsubscribe_url-", "-preferences_url-"}
    assert "<img" in rendered.html
    assert 'width="1"' not in rendered.html


def test_over_budget_is_reported_with_a_warning() -> None:
    small = branding(html_budget_bytes=20_000)
    rendered = render_issue(issue_content(6), small)
    assert rendered.over_budget
    warning = size_warning(rendered, small.html_budget_bytes)
    assert warning is not None
    assert "Gmail clips" in warning
    assert "KB" in warning
    fine = render_issue(issue_content(1), branding())
    assert not fine.over_budget
    assert size_warning(fine, 100_000) is None


def test_longer_excerpts_make_a_bigger_email_and_ten_long_ones_still_fit() -> None:
    short = render_issue(issue_content(10), branding(excerpt_words=30))
    long = render_issue(issue_content(10), branding(excerpt_words=120))
    assert long.html_bytes > short.html_bytes
    assert long.html_bytes < 100_000


def test_rendering_is_deterministic() -> None:
    first = render_issue(issue_content(6, "zh-Hans"), branding())
    second = render_issue(issue_content(6, "zh-Hans"), branding())
    assert first == second
    changed = render_issue(issue_content(6, "zh-Hans", subject="另一个标题"), branding())
    assert changed.content_hash != first.content_hash


def test_issue_without_note_or_articles_still_renders_the_legal_footer() -> None:
    rendered = render_issue(replace(issue_content(1), articles=(), editor_note=""), branding())
    assert "-unsubscribe_url-" in hrefs(rendered.html)
    assert "London EC1A 1AA" in rendered.text
