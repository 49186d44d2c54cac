"""The full layout: every paragraph, photo (with caption and credit), byline, note and bio of
each story, in the HTML and in the plain-text part, for English and Chinese stories."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import pytest

from distributor.domain.articles import Article, Image
from distributor.rendering.email import IssueContent, render_issue
from distributor.rendering.labels import labels_for
from tests.factories.email_stories import branding
from tests.factories.full_stories import (
    EN_HEADING,
    ZH_HEADING,
    full_issue,
    full_story,
    story_paragraphs,
)
from tests.unit.rendering.email_properties import parse, requested_urls, visible_text

LANGUAGES = ("en", "zh-Hans")


def _text_lines(text: str) -> str:
    """The plain-text part with wrapped lines joined (wrapping is at spaces)."""
    return re.sub(r"\s+", " ", text)


def _images_by_src(document: str) -> dict[str, str]:
    return {str(img.get("src")): str(img.get("alt") or "") for img in parse(document).iter("img")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_full_issue_carries_every_paragraph_photo_caption_credit_note_and_bio(
    language: str,
) -> None:
    content = full_issue(3, language)
    rendered = render_issue(content, branding())
    seen = visible_text(rendered.html)
    text = _text_lines(rendered.text)
    images = _images_by_src(rendered.html)
    for article in content.articles:
        paragraphs = story_paragraphs(language, content.articles.index(article))
        assert len(paragraphs) >= 12
        for paragraph in paragraphs:
            assert paragraph in seen
            assert paragraph in text
        assert len(article.images) >= 3
        for image in article.images:
            assert image.url in images, image.url
            assert image.caption
            assert image.credit
            assert image.caption in seen
            assert image.caption in text
            assert image.credit in seen
            assert image.credit in text
        for note in article.notes:
            assert note in seen
            assert note in text
        for author in article.authors:
            assert author.name in seen
            assert author.name in text
            assert author.bio
            assert author.bio in seen
            assert author.bio in text
        heading = EN_HEADING if language == "en" else ZH_HEADING
        assert heading in seen
        assert heading.upper() in text
    # The bio is said once per story (in its own block), not again as body text.
    bio = content.articles[0].authors[0].bio or ""
    assert seen.count(bio) == 1
    assert text.count(bio) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_photos_appear_where_the_story_shows_them_and_captions_are_not_repeated(
    language: str,
) -> None:
    story = full_story(language, 0, photos=4)
    rendered = render_issue(replace(full_issue(1, language), articles=(story,)), branding())
    seen = visible_text(rendered.html)
    order = [str(img.get("src")) for img in parse(rendered.html).iter("img")]
    assert order == [image.url for image in story.images]
    second = story.images[1]
    assert second.caption
    # The caption line under the photo in the body is not also printed as a paragraph.
    assert seen.count(second.caption) == 1
    assert _text_lines(rendered.text).count(second.caption) == 1
    # Site chrome stays out.
    assert "Loading…" not in seen


def test_the_excerpt_layout_is_unchanged_and_one_story_may_differ_from_its_issue() -> None:
    content = full_issue(2, "en")
    first, second = content.articles
    last_paragraph = story_paragraphs("en", 0)[-1]
    excerpt = render_issue(replace(content, layout="excerpt"), branding())
    assert last_paragraph not in visible_text(excerpt.html)
    assert "Continue reading" in visible_text(excerpt.html)
    mixed = render_issue(replace(content, story_layouts=("excerpt", "full")), branding())
    seen = visible_text(mixed.html)
    assert story_paragraphs("en", 1)[-1] in seen
    assert second.images[-1].url in requested_urls(mixed.html)
    assert first.images[-1].url not in requested_urls(mixed.html)
    assert mixed.html_bytes < render_issue(content, branding()).html_bytes


def test_story_text_is_escaped_and_placeholders_in_it_are_defused() -> None:
    story = Article(
        guid="urn:test:unsafe",
        title="Unsafe",
        canonical_url="https://harbour.example.org/unsafe",
        body_html=(
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; said the sign.</p>"
            "<p>Reply to -unsubscribe_url- now.</p>"
            '<p><img src="javascript:alert(1)"></p>'
        ),
        images=(
            Image(url="javascript:alert(1)", caption="Bad photo", credit="X"),
            Image(url="https://harbour.example.org/ok.jpg", caption="Good photo", credit="Y"),
        ),
    )
    content = IssueContent(
        subject="s",
        preheader="",
        editor_note="",
        language="en",
        articles=(story,),
        list_title="t",
        layout="full",
    )
    rendered = render_issue(content, branding())
    assert not list(parse(rendered.html).iter("script"))
    assert "<script>alert(1)</script> said the sign." in visible_text(rendered.html)
    assert "javascript:" not in rendered.html
    assert "-unsubscribe_url- now" not in rendered.html
    assert "-unsubscribe_url- now" not in rendered.text
    assert "Good photo" in visible_text(rendered.html)


def test_a_ten_story_full_issue_with_many_photos_renders_every_photo() -> None:
    content = full_issue(10, "en")
    rendered = render_issue(content, branding())
    sources = requested_urls(rendered.html)
    for article in content.articles:
        assert 3 <= len(article.images) <= 6
        assert {image.url for image in article.images} <= sources


def test_the_demo_stories_as_ingested_keep_every_credit_caption_note_and_bio_once() -> None:
    from distributor.ingest.json_schema import parse_json_document
    from distributor.services.demo import demo_document

    articles, _report = parse_json_document(demo_document(), "distributor/demo/stories.json")
    languages = {article.language.split("-")[0] for article in articles}
    assert {"en", "zh"} <= languages
    content = IssueContent(
        subject="Demo",
        preheader="",
        editor_note="",
        language="en",
        articles=tuple(articles),
        list_title="Demo",
        layout="full",
    )
    rendered = render_issue(content, branding())
    seen = visible_text(rendered.html)
    text = _text_lines(rendered.text)
    sources = requested_urls(rendered.html)
    # Each caption and credit is shown as often as photos carry it: never dropped, and never
    # repeated as body text under its photo.
    expected = Counter(
        value
        for article in articles
        for image in article.images
        for value in (
            image.caption,
            labels_for(article.language).credit + image.credit if image.credit else None,
        )
        if value
    )
    for value, count in expected.items():
        assert seen.count(value) == count, value
        assert text.count(value) == count, value
    for article in articles:
        for image in article.images:
            assert image.url in sources
        for note in article.notes:
            assert note in seen
            assert note in text
        for author in article.authors:
            if author.bio:
                assert author.bio in seen
                assert author.bio in text
    # Site chrome and share buttons of the demo bodies stay out.
    assert "Loading…" not in seen
    assert "Share on Facebook" not in seen
