"""Emails and feeds show each story's language as canonical BCP 47 (issue 15, point 4): the
email's and each story's ``lang``, RSS ``language``/``dc:language``, Atom ``xml:lang``, JSON
Feed and ninjs ``language`` (validated against the official schemas)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from distributor.rendering.email import font_stack_for, render_issue
from distributor.rendering.feeds.atom import render_atom
from distributor.rendering.feeds.common import DEFAULT_ATTRIBUTION, FeedPolicy, FeedSpec
from distributor.rendering.feeds.jsonfeed import render_jsonfeed
from distributor.rendering.feeds.ninjs import render_ninjs
from distributor.rendering.feeds.rss import render_rss
from distributor.rendering.labels import labels_for
from tests.factories.email_stories import branding, chinese_article, english_article, issue_content
from tests.factories.feed_stories import BASE_TIME, SITE, chinese_feed_article, english_feed_article
from tests.support.schemas import jsonfeed_validator, ninjs_validator, schema_errors
from tests.unit.rendering.email_properties import parse, visible_text

TRADITIONAL_TITLE = "河邊小鎮的冬天"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC_LANGUAGE = "{http://purl.org/dc/elements/1.1/}language"
ATOM = "{http://www.w3.org/2005/Atom}"


# ---------------------------------------------------------------------------- email
def _mixed_issue() -> tuple[str, str]:
    english = replace(english_article(0), language="en-gb")  # stored before normalisation
    simplified = chinese_article(1)
    traditional = replace(chinese_article(2), title=TRADITIONAL_TITLE, language="zh-TW")
    content = replace(issue_content(1), articles=(english, simplified, traditional))
    rendered = render_issue(content, branding())
    return rendered.html, rendered.text


def _story_blocks(html: str) -> list[etree._Element]:
    root = parse(html)
    return [div for div in root.iter("div") if div.get("lang") and div.find("h2") is not None]


def test_the_email_and_every_story_carry_their_language() -> None:
    html, _text = _mixed_issue()
    root = parse(html)
    assert root.get("lang") == "en"
    stories = _story_blocks(html)
    assert [div.get("lang") for div in stories] == ["en-GB", "zh-Hans", "zh-TW"]
    assert all(div.get("dir") == "ltr" for div in stories)


def test_each_story_has_its_own_fixed_words_and_no_fake_cjk_italics() -> None:
    html, text = _mixed_issue()
    stories = _story_blocks(html)
    english, simplified, traditional = (visible_text(etree.tostring(s).decode()) for s in stories)
    assert "Continue reading" in english
    assert "继续阅读" in simplified
    assert "繼續閱讀" in traditional
    for word in ("继续阅读", "繼續閱讀", "Continue reading"):
        assert word in text
    for story in stories[1:]:
        notes = [p for p in story.iter("p") if "border-left" in (p.get("style") or "")]
        assert notes
        assert all("italic" not in (p.get("style") or "") for p in notes)
    assert "關於作者" in visible_text(html)  # the Traditional story's bio heading


def test_traditional_chinese_gets_traditional_fonts_first() -> None:
    stack = branding().font_stack
    for tag in ("zh-Hant", "zh-TW", "zh-HK", "zh-Hant-TW"):
        fonts = [font.strip() for font in font_stack_for(stack, tag).split(",")]
        assert fonts.index("'Noto Serif CJK TC'") < fonts.index("'Noto Serif CJK SC'"), tag
        assert fonts[0] == "Georgia"  # Latin fonts keep drawing Latin letters
    for tag in ("zh-Hans", "zh", "zh-CN", "en"):
        assert font_stack_for(stack, tag) == stack
    html, _text = _mixed_issue()
    traditional = _story_blocks(html)[2]
    assert "Noto Serif CJK TC" in (traditional.get("style") or "")
    assert "Noto Serif CJK TC" not in (_story_blocks(html)[1].get("style") or "")


@pytest.mark.parametrize(("tag", "word"), [("zh-Hant", "繼續閱讀"), ("zh-TW", "繼續閱讀"),
                                          ("zh-HK", "繼續閱讀"), ("zh-Hans", "继续阅读"),
                                          ("zh-CN", "继续阅读"), ("zh", "继续阅读")])  # fmt: skip
def test_chinese_labels_follow_the_script(tag: str, word: str) -> None:
    assert labels_for(tag).continue_reading == word


def test_a_traditional_chinese_issue_is_marked_and_set_in_traditional_fonts() -> None:
    content = replace(issue_content(1, "zh-Hans"), language="zh-hant")
    rendered = render_issue(content, branding())
    root = parse(rendered.html)
    assert root.get("lang") == "zh-Hant"
    assert "Noto Serif CJK TC" in rendered.html
    assert "繼續閱讀" not in rendered.html  # the stories themselves are zh-Hans
    assert "继续阅读" in rendered.html


# ---------------------------------------------------------------------------- feeds
SPEC = FeedSpec(
    title="Demo Magazine",
    self_url="https://news.example.org/feeds/public.xml",
    home_url=SITE,
    publisher="Demo Magazine",
    publisher_url=SITE,
    language="en-gb",
)


def _policy() -> FeedPolicy:
    return FeedPolicy(now=BASE_TIME + timedelta(days=30), attribution=DEFAULT_ATTRIBUTION)


def _stories() -> list:  # type: ignore[type-arg]
    return [
        english_feed_article(1, language="en_GB"),
        chinese_feed_article(101, language="zh-HANS"),
        chinese_feed_article(102, title=TRADITIONAL_TITLE, language="zh-Hant"),
        english_feed_article(2, title="Wärmepumpen", language="de"),
    ]


EXPECTED = {
    f"{SITE}/stories/night-shifts-1": "en-GB",
    f"{SITE}/zh/stories/101": "zh-Hans",
    f"{SITE}/zh/stories/102": "zh-Hant",
    f"{SITE}/stories/night-shifts-2": "de",
}


def test_rss_channel_and_items_say_their_language() -> None:
    root = etree.fromstring(render_rss(SPEC, _stories(), _policy()))
    assert root.findtext("channel/language") == "en-GB"
    shown = {item.findtext("link"): item.findtext(DC_LANGUAGE) for item in root.iter("item")}
    assert shown == EXPECTED


def test_atom_feed_and_entries_say_their_language() -> None:
    root = etree.fromstring(render_atom(SPEC, _stories(), _policy()))
    assert root.get(XML_LANG) == "en-GB"
    shown = {
        entry.find(f"{ATOM}link[@rel='alternate']").get("href"): entry.get(XML_LANG)  # type: ignore[union-attr]
        for entry in root.iter(f"{ATOM}entry")
    }
    assert shown == EXPECTED


def test_json_feed_items_say_their_language_and_validate() -> None:
    document = json.loads(render_jsonfeed(SPEC, _stories(), _policy()))
    assert schema_errors(jsonfeed_validator(), document) == []
    assert document["language"] == "en-GB"
    assert {item["url"]: item["language"] for item in document["items"]} == EXPECTED


@pytest.mark.parametrize("version", ["3.1", "2.2"])
def test_ninjs_items_say_their_language_and_validate(version: str) -> None:
    policy = replace(_policy(), ninjs_version=version)
    document = json.loads(render_ninjs(SPEC, _stories(), policy))
    validator = ninjs_validator(version)
    for item in document["items"]:
        assert schema_errors(validator, item) == []
    canonical = {
        next(
            alt["value"]
            for alt in item.get("altIds") or item["altids"]  # the 2.2 schema's spelling
            if alt["role"] == "canonical"
        ): item["language"]
        for item in document["items"]
    }
    assert canonical == EXPECTED
    assert document["language"] == "en-GB"
