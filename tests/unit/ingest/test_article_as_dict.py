"""Article.as_dict (used for content hashes and revision snapshots) equals dataclasses.asdict."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from distributor.ingest.pipeline import parse_feed
from distributor.ingest.report import NotAFeedError
from tests.support.paths import SHARED_DIR

CORPUS = SHARED_DIR / "corpus" / "feeds"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _feed_files() -> list[Path]:
    return [
        path
        for folder in (CORPUS, FIXTURES)
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.suffix in (".xml", ".rss", ".atom")
    ]


@pytest.mark.parametrize("path", _feed_files(), ids=lambda p: p.name)
def test_as_dict_matches_dataclasses_asdict(path: Path) -> None:
    try:
        articles, _ = parse_feed(path.read_bytes(), path.name)
    except NotAFeedError:
        return
    for article in articles:
        assert article.as_dict() == asdict(article)
        assert type(article.as_dict()["images"]) is type(asdict(article)["images"])


def test_as_dict_keeps_leaf_tuples_and_converts_nested_ones() -> None:
    """The shortcut for tuples of immutable leaves (returned as they are) and the general
    path (nested dataclasses, lists) both give what ``asdict`` gives."""
    from datetime import UTC, datetime

    from distributor.domain.articles import Article, Author, Image, _plain

    article = Article(
        guid="g",
        title="t",
        canonical_url="https://example.org/a",
        sections=("World", "Asia"),
        tags=(),
        authors=(Author("Jane Doe", bio="b"), Author("Li Wei")),
        images=(Image("https://example.org/i.jpg", width=10, is_lead=True),),
        notes=("*Names changed",),
        published_at=datetime(2025, 1, 1, tzinfo=UTC),
        extra={"k": "v"},
    )
    data = article.as_dict()
    assert data == asdict(article)
    assert data["sections"] is article.sections  # immutable leaves: no copy needed
    assert data["authors"] == ({**asdict(article.authors[0])}, {**asdict(article.authors[1])})
    assert data["extra"] is not article.extra  # a mutable dict is still copied
    mixed = ("a", Author("X"), ["b", Image("https://example.org/j.jpg")])
    assert _plain(mixed) == (
        "a",
        asdict(Author("X")),
        ["b", asdict(Image("https://example.org/j.jpg"))],
    )
    assert _plain((1, 2.5, None, True, "s")) == (1, 2.5, None, True, "s")
