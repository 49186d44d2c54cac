"""Excerpts: opening paragraphs only, cut by a script-fair word count."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from distributor.rendering.excerpts import (
    ELLIPSIS,
    article_excerpt,
    body_paragraphs,
    make_excerpt,
)
from tests.factories.email_stories import EN_NOTE, chinese_article, english_article

CJK = re.compile(r"[\u4e00-\u9fff]")


def word_count(paragraphs: tuple[str, ...]) -> int:
    return sum(len(paragraph.replace(ELLIPSIS, " ").split()) for paragraph in paragraphs)


@pytest.mark.parametrize("words", [5, 20, 60, 150])
def test_english_excerpt_has_at_most_the_configured_words(words: int) -> None:
    excerpt = article_excerpt(english_article(0), words)
    assert 0 < word_count(excerpt) <= words
    assert word_count(excerpt) >= words - 25  # whole paragraphs are not skipped to save words


@pytest.mark.parametrize("words", [5, 20, 60])
def test_chinese_excerpt_counts_two_characters_per_word(words: int) -> None:
    excerpt = article_excerpt(chinese_article(0), words)
    characters = sum(len(CJK.findall(paragraph)) for paragraph in excerpt)
    assert 0 < characters <= 2 * words
    assert characters >= 2 * words * 0.6


def test_cut_excerpt_ends_with_an_ellipsis_and_no_dangling_comma() -> None:
    excerpt = make_excerpt(["One two three four, five six seven eight."], 4)
    assert excerpt == ("One two three four" + ELLIPSIS,)
    chinese = make_excerpt(["一二三四，五六七八。"], 2)
    assert chinese == ("一二三四" + ELLIPSIS,)


def test_short_text_is_kept_whole_without_ellipsis() -> None:
    assert make_excerpt(["Short paragraph.", "Another."], 50) == ("Short paragraph.", "Another.")
    assert make_excerpt(["One two three.", "Four five."], 3) == ("One two three.",)


def test_captions_credits_notes_and_bio_are_not_excerpted() -> None:
    article = english_article(0)
    paragraphs = body_paragraphs(article)
    assert paragraphs, "the body has running text"
    joined = " ".join(paragraphs)
    assert "Credit:" not in joined
    assert "Riders wait for orders under the bridge" not in joined
    assert "must not be excerpted" not in joined
    with_note = replace(
        article, body_html=article.body_html.replace("<h3>About", f"<p>{EN_NOTE}</p><h3>About")
    )
    assert EN_NOTE not in " ".join(body_paragraphs(with_note))


def test_bare_credit_paragraph_after_an_inline_photo_is_skipped() -> None:
    article = replace(
        english_article(0),
        body_html='<p><img src="https://x.org/a.jpg"></p><p>Credit: A Collective</p>'
        "<p>图片来源：某合作社</p><p>The story starts here.</p>",
    )
    assert body_paragraphs(article) == ["The story starts here."]


def test_dek_is_used_when_there_is_no_body_text() -> None:
    article = replace(english_article(0), body_html="", dek="A standfirst of several words.")
    assert article_excerpt(article, 60) == ("A standfirst of several words.",)
    empty = replace(article, dek=None)
    assert article_excerpt(empty, 60) == ()


def test_body_without_paragraph_tags_still_gives_an_excerpt() -> None:
    article = replace(english_article(0), body_html="Plain text body <em>with</em> emphasis")
    assert article_excerpt(article, 60) == ("Plain text body with emphasis",)


def test_broken_html_does_not_crash() -> None:
    for body in ("<p>Unclosed <b>bold", "<<<>>>", "<p></p>", "\x00"):
        article = replace(english_article(0), body_html=body)
        assert isinstance(article_excerpt(article, 10), tuple)
