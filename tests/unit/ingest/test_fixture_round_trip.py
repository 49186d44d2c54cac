"""Our own SEED-STORY-shaped fixtures (English RSS, Chinese Atom, JSON): every credit,
caption, bio and note comes out exactly, and the chrome does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from distributor.ingest.json_schema import parse_json_articles, parse_json_document
from distributor.ingest.pipeline import parse_feed

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"


def _feed(name: str) -> tuple[list, object]:
    return parse_feed((FIXTURES / name).read_bytes(), name, "https://fixture.example.org/feed")


def test_english_rss_round_trip() -> None:
    articles, report = _feed("seed-story-en.rss")
    assert [a.title for a in articles] == [
        "Harvest workers on the salt flats count the cost of a dry year",
        "Two reporters, one river: a correction travels with the story",
    ]
    skipped = {p.item.split(" ")[1]: p.reason for p in report.skipped}  # type: ignore[attr-defined]
    assert skipped == {"3": "no title", "4": "no link (or no absolute http/https link)"}
    salt, river = articles
    assert salt.canonical_url == "https://fixture.example.org/stories/salt-flats"
    assert salt.published_at == datetime(2025, 11, 24, 2, 0, tzinfo=UTC)
    assert salt.language == "en"
    assert salt.tags == ("labour", "climate")
    assert salt.dek == "Salt workers say wages fell by a third as the rains failed."
    assert [(a.name, a.bio) for a in salt.authors] == [
        (
            "Rosa Whitcombe",
            "Rosa Whitcombe is a journalist based in Hong Kong who covers labour and the "
            "environment in southern China. Her reporting has appeared in regional and "
            "international outlets.",
        )
    ]
    assert [(i.url, i.caption, i.credit, i.copyright) for i in salt.images] == [
        ("https://fixture.example.org/media/salt-lead.jpg",
         "The salt flats at low tide, seen from the sea wall.", "Tideline Photo Collective",
         "© Tideline 2025"),
        ("https://fixture.example.org/media/salt-2.jpg",
         "Salt piles wait for lorries that did not come.", "Imran Qadir", None),
        ("https://fixture.example.org/media/salt-1.jpg",
         "Workers rake salt into rows at dawn on the flats near the coast.",
         "Tideline Photo Collective", None),
    ]  # fmt: skip
    assert salt.notes == ("*Names have been changed to ensure the safety of sources",)
    assert salt.sections == ("Stories",)
    for gone in ("Loading", "BY ROSA", "About the author", "Share on X", "Names have been"):
        assert gone not in salt.body_html
    assert "“The salt does not wait for anyone,” says Gao Min*" in salt.body_html
    assert "90 yuan (£9.60)" in salt.body_html
    assert "<figcaption>Workers rake salt" in salt.body_html  # caption line became a figure
    assert [(a.name, a.bio) for a in river.authors] == [
        ("Aled Pryce", "Aled Pryce is a photographer and writer based in Cardiff."),
        ("Wen Shu", "Wen Shu is a Chengdu-based writer who covers water and infrastructure."),
    ]
    assert [(i.caption, i.credit) for i in river.images] == [
        ("The old ferry landing, now a field.", "Aled Pryce/Fixture Agency")
    ]
    assert river.notes == (
        "Editor’s note: An earlier version of this story misstated the length of the river.",
    )


def test_chinese_atom_round_trip() -> None:
    articles, report = _feed("seed-story-zh.atom")
    assert not report.problems
    (bus,) = articles
    assert bus.language == "zh-CN"
    assert bus.canonical_url == "https://fixture.example.org/zh/stories/night-bus"
    assert bus.updated_at == datetime(2025, 11, 23, 0, 15, tzinfo=UTC)
    assert [(a.name, a.bio) for a in bus.authors] == [
        ("许清和", "许清和是常驻重庆的记者，关注城市交通与劳动者。")
    ]
    assert [(i.url, i.caption, i.credit) for i in bus.images] == [
        (
            "https://fixture.example.org/zh/media/bus-1.jpg",
            "夜班公交驶过江边的立交桥。",
            "江岸影像",
        ),
        ("https://fixture.example.org/zh/media/bus-2.jpg", "车厢里只剩下三位乘客。", "罗一舟"),
        ("https://fixture.example.org/zh/media/bus-3.jpg", "终点站的调度室。", "何夕"),
    ]
    assert bus.notes == ("*文中人物均为化名",)
    for gone in ("加载中", "文｜", "关于作者"):
        assert gone not in bus.body_html
    assert "一张月票 80 元（约 £8.50）" in bus.body_html


def test_json_fields_win_over_extraction() -> None:
    payload = {
        "guid": "json-1",
        "url": "https://fixture.example.org/stories/json-1",
        "title": "A title",
        "published_at": "2025-11-24T10:00:00+08:00",
        "authors": [{"name": "Ana Ruiz", "bio": "Given bio."}],
        "images": [{"url": "https://fixture.example.org/a.jpg", "caption": "Given",
                    "credit": "Given Credit"}],
        "notes": ["Given note"],
        "body_html": "<p>Body.</p><figure><img src='/a.jpg'><figcaption>Other. Credit: Other"
                     "</figcaption></figure><p>*Names have been changed</p>"
                     "<h3>About the author</h3><p>Extracted bio.</p>",
    }  # fmt: skip
    (article,), report = parse_json_articles(payload, "test")
    assert not report.problems
    assert article.authors[0].bio == "Given bio."
    assert [(i.caption, i.credit) for i in article.images] == [("Given", "Given Credit")]
    assert article.notes == ("Given note", "*Names have been changed")
    assert "Extracted bio" not in article.body_html


def test_json_errors_name_the_field_and_keep_the_good_items() -> None:
    good = {"guid": "g", "url": "https://x.example/1", "title": "Fine"}
    bad = [
        {"guid": "b1", "url": "/relative", "title": "T"},
        {"guid": "b2", "url": "https://x.example/2", "title": "T", "published_at":
         "2025-11-24T10:00:00"},
        {"guid": "b3", "url": "https://x.example/3", "title": "T", "authors": [{"bio": "x"}]},
        {"guid": "b4", "url": "https://x.example/4", "title": "T", "credits": "typo"},
        "not an object",
    ]  # fmt: skip
    articles, report = parse_json_articles({"articles": [good, *bad]}, "api")
    assert [a.guid for a in articles] == ["g"]
    reasons = [p.reason for p in report.skipped]
    assert reasons[0].startswith("articles[1].url: must be an absolute http")
    assert "articles[2].published_at: must include a time zone" in reasons[1]
    assert "articles[3].authors[0].name: Field required" in reasons[2]
    assert "articles[4].credits: Extra inputs are not permitted" in reasons[3]
    assert reasons[4] == "must be an object"


def test_json_document_must_be_json() -> None:
    import pytest

    from distributor.ingest.report import NotAFeedError

    with pytest.raises(NotAFeedError, match="not valid JSON"):
        parse_json_document(b"{nope", "x.json")
    articles, _ = parse_json_document(json.dumps([]).encode(), "x.json")
    assert articles == []
