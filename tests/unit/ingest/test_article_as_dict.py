"""Article.as_dict (used for content hashes and revision snapshots) equals dataclasses.asdict."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from distributor.ingest.feeds import parse_feed
from distributor.ingest.report import NotAFeedError

CORPUS = Path("/work/shared/corpus/feeds")
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
