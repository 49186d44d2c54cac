"""The rendered issue carries every credit, caption, bio and note, in both parts, safely."""

from __future__ import annotations

import re

import pytest

from distributor.domain.text import normalise_space
from distributor.rendering.email import (
    PLACEHOLDERS,
    UNSUBSCRIBE_URL,
    Recipient,
    RenderedIssue,
    personalise,
    render_issue,
)
from tests.factories.email_stories import branding, issue_content
from tests.unit.rendering.email_properties import (
    allowed_image_urls,
    hrefs,
    parse,
    requested_urls,
    shown_bios,
    visible_text,
)

ISSUES = [(count, language) for count in (1, 6, 10) for language in ("en", "zh-Hans")]
RECIPIENT = Recipient(
    email="ada@example.org",
    first_name="Ada",
    unsubscribe_url="https://news.example.org/unsubscribe/AbC_123-xyz",
    preferences_url="https://news.example.org/preferences/AbC_123-xyz",
    web_url="https://news.example.org/archive/web-token-1",
)


@pytest.fixture(params=ISSUES, ids=[f"{count}-{language}" for count, language in ISSUES])
def case(request: pytest.FixtureRequest) -> tuple[object, RenderedIssue, str, str]:
    count, language = request.param
    content = issue_content(count, language)
    rendered = render_issue(content, branding())
    html, text = personalise(rendered, RECIPIENT, "reader")
    return content, rendered, html, text


def test_every_credit_caption_bio_and_note_is_in_both_parts(case) -> None:
    content, _rendered, html, text = case
    seen_html = visible_text(html)
    flat_text = normalise_space(text)
    expected: list[str] = []
    for article in content.articles:
        image = article.lead_image
        if image is not None and image.credit:
            expected.append(image.credit)
        if image is not None and image.caption:
            expected.append(image.caption)
        expected.extend(shown_bios(article))
        expected.extend(article.notes)
        expected.append(article.title)
        expected.extend(author.name for author in article.authors)
    assert expected, "the fixture must exercise credits, captions, bios and notes"
    for value in expected:
        assert normalise_space(value) in seen_html, f"missing from HTML: {value!r}"
        assert normalise_space(value) in flat_text, f"missing from text: {value!r}"


def test_credit_lines_are_labelled(case) -> None:
    content, _rendered, html, text = case
    label = "图片来源：" if content.language.startswith("zh") else "Credit: "
    for article in content.articles:
        image = article.lead_image
        if image is not None and image.credit:
            assert f"{label}{image.credit}" in visible_text(html)
            assert f"{label}{image.credit}" in text


def test_every_image_has_alt_and_content_images_describe_themselves(case) -> None:
    content, _rendered, html, _text = case
    avatars = {a.avatar_url for article in content.articles for a in article.authors}
    images = list(parse(html).iter("img"))
    assert images
    for image in images:
        assert image.get("alt") is not None, f"<img src={image.get('src')}> has no alt"
        if image.get("src") not in avatars:
            assert image.get("alt").strip(), "a story photo needs a description"


def test_caption_is_the_alt_fallback(case) -> None:
    content, _rendered, html, _text = case
    alts = {image.get("src"): image.get("alt") for image in parse(html).iter("img")}
    for article in content.articles:
        image = article.lead_image
        if image is not None and image.caption and not image.alt:
            assert alts[image.url] == normalise_space(image.caption)
        elif image is not None and not image.caption:
            assert alts[image.url] == normalise_space(article.title)


def test_no_script_and_no_request_other_than_the_story_images(case) -> None:
    content, _rendered, html, _text = case
    root = parse(html)
    assert not list(root.iter("script", "iframe", "object", "embed", "form", "link"))
    assert "javascript:" not in html.lower()
    assert requested_urls(html) <= allowed_image_urls(content, branding())
    assert "googleapis" not in html


def test_links_are_not_rewritten(case) -> None:
    content, _rendered, html, _text = case
    allowed = {
        RECIPIENT.unsubscribe_url,
        RECIPIENT.preferences_url,
        RECIPIENT.web_url,
        branding().publisher_url,
    }
    for article in content.articles:
        allowed.add(article.canonical_url)
        allowed.update(a.profile_url for a in article.authors if a.profile_url)
    assert set(hrefs(html)) <= allowed
    assert 'clicktracking="off"' not in html  # tracking is off, nothing to opt out of


def test_unsubscribe_link_is_in_both_parts(case) -> None:
    _content, rendered, html, text = case
    assert UNSUBSCRIBE_URL in rendered.html
    assert UNSUBSCRIBE_URL in rendered.text
    assert RECIPIENT.unsubscribe_url in hrefs(html)
    assert RECIPIENT.unsubscribe_url in text
    assert RECIPIENT.preferences_url in hrefs(html)
    assert RECIPIENT.preferences_url in text


def test_every_link_of_the_html_is_in_the_text(case) -> None:
    _content, _rendered, html, text = case
    for href in set(hrefs(html)):
        assert href in text, f"link {href} missing from the plain-text part"


def test_size_budget_is_met_and_reported(case) -> None:
    _content, rendered, _html, _text = case
    assert rendered.html_bytes == len(rendered.html.encode("utf-8"))
    assert rendered.html_bytes < 100_000
    assert not rendered.over_budget
    assert set(rendered.placeholders) == set(PLACEHOLDERS)


def test_document_language_title_preheader_and_headings(case) -> None:
    content, _rendered, html, _text = case
    root = parse(html)
    assert root.get("lang") == content.language
    assert root.get("dir") == "ltr"
    assert root.findtext(".//title") == content.subject
    hidden = [div for div in root.iter("div") if "display:none" in (div.get("style") or "")]
    assert hidden
    assert hidden[0].text_content().strip() == content.preheader
    assert len(list(root.iter("h1"))) == 1
    headlines = [normalise_space(h.text_content()) for h in root.iter("h2")]
    for article in content.articles:
        assert normalise_space(article.title) in headlines


def test_layout_tables_are_presentational_and_dark_mode_is_declared(case) -> None:
    _content, _rendered, html, _text = case
    root = parse(html)
    for table in root.iter("table"):
        assert table.get("role") == "presentation"
    metas = {meta.get("name"): meta.get("content") for meta in root.iter("meta")}
    assert metas.get("color-scheme") == "light dark"
    assert metas.get("supported-color-schemes") == "light dark"
    assert "prefers-color-scheme:dark" in html.replace(" ", "")


def test_no_placeholder_survives_personalisation(case) -> None:
    _content, _rendered, html, text = case
    for token in PLACEHOLDERS:
        assert token not in html
        assert token not in text
    assert "Ada" in visible_text(html)
    assert "Ada" in text


def test_byline_excerpt_and_continue_reading_are_in_both_parts(case) -> None:
    content, _rendered, html, text = case
    chinese = content.language.startswith("zh")
    shown = visible_text(html)
    for article in content.articles:
        first_author = article.authors[0].name
        assert first_author in shown
        assert first_author in text
        assert text.count(article.canonical_url) >= 2  # headline and "Continue reading"
    more = "继续阅读" if chinese else "Continue reading"
    assert shown.count(more) == len(content.articles)


def test_the_body_beyond_the_excerpt_is_not_in_the_email() -> None:
    content = issue_content(1)
    rendered = render_issue(content, branding())
    assert "This paragraph is the bio and must not be excerpted" not in rendered.html
    assert len(rendered.text) < len(content.articles[0].body_html) / 2


def test_plain_text_is_composed_not_stripped() -> None:
    rendered = render_issue(issue_content(3), branding())
    assert "<" not in rendered.text.replace("<http", "")
    assert "&amp;" not in rendered.text
    assert "&#" not in rendered.text
    assert all(
        len(line) <= 76 or " " not in line or "http" in line for line in rendered.text.splitlines()
    )
    assert re.search(r"^Unsubscribe: -unsubscribe_url-$", rendered.text, re.M)
