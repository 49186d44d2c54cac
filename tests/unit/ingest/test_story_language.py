"""Each story carries its own language (issue 15, point 4): tags as BCP 47, the item's own
declaration first, then its text, then the channel's; Simplified and Traditional Chinese told
apart by their characters. Includes corpus feeds whose channel language is made wrong."""

from __future__ import annotations

import json
import re

import pytest

from distributor.domain.languages import (
    LanguageTagError,
    language_name,
    language_tag_or_none,
    normalise_language_tag,
    primary_language,
    same_language_for_readers,
)
from distributor.ingest.json_schema import parse_json_document
from distributor.ingest.languages import LanguageSource, decide_language
from distributor.ingest.pipeline import parse_feed
from tests.support.paths import SHARED_DIR

CORPUS = SHARED_DIR / "corpus" / "feeds"

GERMAN = (
    "Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für Wärmepumpen zu "
    "verlängern. Nach Angaben des Wirtschaftsministeriums sollen Haushalte mit geringem "
    "Einkommen einen höheren Zuschuss erhalten als bisher."
)
ENGLISH = (
    "The council said on Wednesday that the ferry between the two harbour towns would run "
    "every hour from next spring, after a campaign by residents who commute to the city."
)
SIMPLIFIED = (
    "河边小镇的冬天来得很早。每天清晨，骑手们在桥下等单，他们说这份工作让家里的生活好了一些，"
    "但是没有人知道明年会怎么样。"
)
TRADITIONAL = (
    "河邊小鎮的冬天來得很早。每天清晨，騎手們在橋下等單，他們說這份工作讓家裡的生活好了一些，"
    "但是沒有人知道明年會怎麼樣。"
)


# ----------------------------------------------------------------------------- tags
@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("zh-HANS", "zh-Hans"),
        ("zh_hant", "zh-Hant"),
        ("en-gb", "en-GB"),
        ("EN_us", "en-US"),
        ("pt-br", "pt-BR"),
        (" de ", "de"),
        ("zh-cn", "zh-CN"),
        ("iw", "he"),  # deprecated code, replaced by the registry's preferred one
        ("zh-hant-tw", "zh-Hant-TW"),
    ],
)
def test_tags_are_written_as_canonical_bcp47(given: str, canonical: str) -> None:
    assert normalise_language_tag(given) == canonical
    assert normalise_language_tag(canonical) == canonical


@pytest.mark.parametrize("bad", ["", "english", "xx-bad", "en-", "und", "e", "zh-" + "x" * 40])
def test_unusable_tags_are_refused_with_an_example(bad: str) -> None:
    with pytest.raises(LanguageTagError, match="such as en, en-GB, pt-BR, zh-Hans or zh-Hant"):
        normalise_language_tag(bad)
    assert language_tag_or_none(bad) is None


def test_same_language_for_readers_compares_language_and_script() -> None:
    assert same_language_for_readers("en-GB", "en")
    assert same_language_for_readers("zh-TW", "zh-Hant")
    assert same_language_for_readers("zh-CN", "zh-Hans")
    assert same_language_for_readers("zh", "zh-Hans")
    assert not same_language_for_readers("zh-Hant", "zh-Hans")
    assert not same_language_for_readers("de", "en")
    assert primary_language("zh-Hant-TW") == "zh"
    assert language_name("zh-Hant") == "Chinese (Traditional)"
    assert language_name("en-GB") == "English (United Kingdom)"


# ------------------------------------------------------------------------ decisions
def test_a_german_story_in_an_english_channel_is_german() -> None:
    decision = decide_language("Neue Förderung\n" + GERMAN, channel_language="en")
    assert (decision.tag, decision.source) == ("de", LanguageSource.TEXT)


def test_chinese_stories_in_an_en_gb_channel_get_their_script() -> None:
    simplified = decide_language(SIMPLIFIED, channel_language="en-GB")
    traditional = decide_language(TRADITIONAL, channel_language="en-GB")
    assert (simplified.tag, simplified.source) == ("zh-Hans", LanguageSource.TEXT)
    assert (traditional.tag, traditional.source) == ("zh-Hant", LanguageSource.TEXT)


def test_text_in_the_channels_language_keeps_the_channels_tag() -> None:
    decision = decide_language(ENGLISH, channel_language="en_gb")
    assert (decision.tag, decision.source) == ("en-GB", LanguageSource.CHANNEL)
    # A Chinese channel whose script the text contradicts: the characters decide.
    assert decide_language(TRADITIONAL, channel_language="zh-CN").tag == "zh-Hant"
    assert decide_language(SIMPLIFIED, channel_language="zh-CN").tag == "zh-CN"
    assert decide_language(SIMPLIFIED, channel_language="zh").tag == "zh-Hans"


def test_a_quotation_at_the_start_does_not_overrule_the_channel() -> None:
    french = (
        "Lorsqu'un phénomène est généralisé, il devient très difficile de le contester. Les "
        "caméras de surveillance se sont multipliées dans les rues de Montréal depuis dix ans, "
        "et personne ne semble plus s'en soucier, ni les élus ni les habitants du quartier."
    )
    text = "Surveiller la surveillance\n" + ENGLISH + " " + ENGLISH + " " + french + " " + french
    assert decide_language(text, channel_language="fr").tag == "fr"
    # Without the French part after it, the English text does overrule the channel.
    assert decide_language("Ferry\n" + ENGLISH * 4, channel_language="fr").tag == "en"


@pytest.mark.parametrize("text", ["Kurz", "Neue Regeln", "Schöne neue Welt der Arbeit", ""])
def test_short_texts_fall_back_to_the_channel(text: str) -> None:
    decision = decide_language(text, channel_language="en-GB")
    assert (decision.tag, decision.source) == ("en-GB", LanguageSource.CHANNEL)


def test_short_chinese_texts_are_chinese_by_their_script_unless_the_channel_is_cjk() -> None:
    assert decide_language("收三盒泰山", channel_language="en-GB").tag == "zh-Hans"
    assert decide_language("世博五卷", channel_language="ja").tag == "ja"  # kanji-only Japanese
    assert decide_language("河邊小鎮", channel_language="zh-CN").tag == "zh-Hant"
    assert decide_language("Apple 发布 iPhone", channel_language="en").tag == "en"


def test_without_a_channel_language_the_text_or_the_script_decides() -> None:
    assert decide_language(GERMAN).tag == "de"
    assert decide_language(TRADITIONAL).tag == "zh-Hant"
    assert decide_language("河边小镇的冬天").tag == "zh-Hans"  # short, but clearly Chinese
    assert decide_language("Short") == decide_language("")
    assert decide_language("Short").source is LanguageSource.DEFAULT


def test_an_explicit_item_language_wins_over_the_text() -> None:
    decision = decide_language(GERMAN, item_language="en-gb", channel_language="de")
    assert (decision.tag, decision.source) == ("en-GB", LanguageSource.ITEM)


def test_unusable_declarations_are_reported_and_ignored() -> None:
    decision = decide_language(GERMAN, item_language="klingon!", channel_language="en")
    assert decision.tag == "de"
    assert decision.problem is not None
    assert "item language 'klingon!' is not a BCP 47 tag" in decision.problem


# ---------------------------------------------------------------------------- feeds
def _rss(channel_language: str | None, *items: str) -> bytes:
    language = f"<language>{channel_language}</language>" if channel_language else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        f"<link>https://cms.example.org/</link><description>d</description>{language}"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _item(slug: str, title: str, body: str, extra: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>https://cms.example.org/{slug}</link>"
        f"<guid>https://cms.example.org/{slug}</guid>{extra}"
        f"<description><![CDATA[<p>{body}</p>]]></description></item>"
    )


def test_rss_items_get_their_own_language() -> None:
    data = _rss(
        "en-gb",
        _item("ferry", "Hourly ferry", ENGLISH),
        _item("heat", "Wärmepumpen", GERMAN),
        _item("river", "河边小镇", SIMPLIFIED),
        _item("taipei", "河邊小鎮", TRADITIONAL),
        _item("declared", "Declared", GERMAN, "<dc:language>fr-CA</dc:language>"),
    )
    articles, report = parse_feed(data, "mixed.rss")
    assert [a.language for a in articles] == ["en-GB", "de", "zh-Hans", "zh-Hant", "fr-CA"]
    assert report.problems == []


def test_an_unusable_channel_language_is_reported_once_and_the_text_decides() -> None:
    data = _rss("english", _item("a", "A", ENGLISH), _item("b", "B", GERMAN))
    articles, report = parse_feed(data, "bad-language.rss")
    assert [a.language for a in articles] == ["en", "de"]
    assert [p.reason for p in report.problems] == [
        "channel language 'english' is not a BCP 47 language tag; each story's language comes "
        "from its own declaration or its text"
    ]


def test_an_unusable_item_language_is_reported_and_the_item_kept() -> None:
    data = _rss("en", _item("a", "A", GERMAN, "<dc:language>not a tag</dc:language>"))
    articles, report = parse_feed(data, "bad-item.rss")
    assert [a.language for a in articles] == ["de"]
    assert "item language 'not a tag' is not a BCP 47 tag" in report.problems[0].reason
    assert report.problems[0].item is not None


def _atom(feed_lang: str, *entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed_lang}"><title>T</title>'
        "<id>urn:test:feed</id><updated>2025-11-01T00:00:00Z</updated>"
        '<link href="https://cms.example.org/"/>' + "".join(entries) + "</feed>"
    ).encode()


def _entry(slug: str, body: str, entry_lang: str = "", content_lang: str = "") -> str:
    entry_attr = f' xml:lang="{entry_lang}"' if entry_lang else ""
    content_attr = f' xml:lang="{content_lang}"' if content_lang else ""
    return (
        f"<entry{entry_attr}><title>Story {slug}</title><id>urn:test:{slug}</id>"
        f'<link href="https://cms.example.org/{slug}"/><updated>2025-11-01T00:00:00Z</updated>'
        f'<content type="html"{content_attr}>&lt;p&gt;{body}&lt;/p&gt;</content></entry>'
    )


def test_atom_xml_lang_on_the_entry_or_its_content_wins_but_the_feeds_does_not() -> None:
    data = _atom(
        "en",
        _entry("inherited", SIMPLIFIED),  # only the feed says "en": the text decides
        _entry("entry", GERMAN, entry_lang="fr"),
        _entry("content", GERMAN, content_lang="de-AT"),
        _entry("english", ENGLISH),
    )
    articles, _report = parse_feed(data, "feed.atom")
    assert [a.language for a in articles] == ["zh-Hans", "fr", "de-AT", "en"]
    # The same with feedparser's reader (no strict tree).
    loose, _ = parse_feed(data, "feed.atom", strict_reader=False)
    assert [a.language for a in loose] == ["zh-Hans", "fr", "de-AT", "en"]


# --------------------------------------------------------------------------- corpus
def _with_channel_language(data: bytes, language: str) -> bytes:
    replacement = f"<language>{language}</language>".encode()
    changed, count = re.subn(rb"<language>[^<]*</language>", replacement, data, count=1)
    assert count == 1
    return changed


@pytest.mark.parametrize(
    "name",
    ["dapenti-2021-zh.xml", "kc0011-2020-zh-gb2312.rss", "oschina-news-2020-zh-broken.xml"],
)
def test_corpus_chinese_feeds_declared_as_en_gb_give_chinese_stories(name: str) -> None:
    data = _with_channel_language((CORPUS / name).read_bytes(), "en-GB")
    articles, _report = parse_feed(data, name)
    assert articles
    languages = [a.language for a in articles]
    assert set(languages) == {"zh-Hans"}, [(a.title, a.language) for a in articles]


def test_corpus_german_feed_declared_as_english_gives_german_stories() -> None:
    name = "golem-de-2018-latin1.xml"
    data = _with_channel_language((CORPUS / name).read_bytes(), "en")
    articles, _report = parse_feed(data, name)
    assert articles
    assert {a.language for a in articles} == {"de"}


def test_corpus_feeds_keep_a_right_channel_language() -> None:
    """No false alarms: every story of a feed that declares its language truly keeps it."""
    checked = 0
    for path in sorted(CORPUS.iterdir()):
        if path.suffix not in (".xml", ".rss", ".atom"):
            continue
        articles, _report = parse_feed(path.read_bytes(), path.name)
        declared = re.search(rb"<language>([^<]+)</language>", path.read_bytes())
        if not declared or not articles:
            continue
        channel = normalise_language_tag(declared.group(1).decode())
        assert {a.language for a in articles} == {channel}, path.name
        checked += 1
    assert checked >= 10


def test_corpus_feeds_without_a_channel_language_get_one_from_their_text() -> None:
    expected = {
        "geekpark-2020-zh.xml": "zh-Hans",
        "jiangxinlingdu-2020-zh-broken.xml": "zh-Hans",
        "lecerclepsy-2018-latin1-nodecl.xml": "fr",
        "livemint-2019.xml": "en",
    }
    for name, language in expected.items():
        articles, _report = parse_feed((CORPUS / name).read_bytes(), name)
        assert articles, name
        assert {a.language for a in articles} == {language}, name


# ----------------------------------------------------------------------------- JSON
def test_json_language_is_normalised_wins_or_is_detected() -> None:
    payload = [
        {"guid": "a", "url": "https://x.example/a", "title": "A", "language": "zh-hant",
         "body_html": f"<p>{SIMPLIFIED}</p>"},
        {"guid": "b", "url": "https://x.example/b", "title": "B", "body_html": f"<p>{GERMAN}</p>"},
        {"guid": "c", "url": "https://x.example/c", "title": "C", "language": "english"},
    ]  # fmt: skip
    articles, report = parse_json_document(json.dumps(payload).encode(), "api")
    assert [a.language for a in articles] == ["zh-Hant", "de"]
    assert len(report.problems) == 1
    assert report.problems[0].reason.startswith("[2].language: ")
    assert "'english' is not a BCP 47 language tag" in report.problems[0].reason
