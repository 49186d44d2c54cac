"""The feed format registry: one record per format, lookups that agree with the records, and
every renderer producing a document of its own media type (schema-valid where the format has an
official schema in the shared schemas folder)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import feedparser
import pytest
from jsonschema import FormatChecker
from jsonschema.validators import validator_for
from lxml import etree
from referencing import Registry, Resource

from distributor.domain.partners import FeedFormat
from distributor.rendering.feeds import (
    FORMATS,
    FeedFormatRecord,
    format_by_extension,
    format_by_media_type,
    format_by_name,
    format_record,
    render_feed,
)
from distributor.rendering.feeds.common import DEFAULT_ATTRIBUTION, FeedPolicy, FeedSpec
from distributor.rendering.feeds.formats import SchemaScope
from tests.factories.feed_stories import BASE_TIME, SITE, chinese_feed_article, english_feed_article
from tests.support.paths import SCHEMAS_DIR
from tests.support.schemas import schema_errors

NOW = BASE_TIME + timedelta(days=30)
SPEC = FeedSpec(
    title="Demo Magazine",
    self_url="https://news.example.org/feeds/public",
    home_url=SITE,
    publisher="Demo Magazine",
    publisher_url=SITE,
    rights="© Demo Magazine",
)
POLICY = FeedPolicy(now=NOW, attribution=DEFAULT_ATTRIBUTION)
STORIES = [english_feed_article(1), english_feed_article(2), chinese_feed_article()]


def _ids(record: FeedFormatRecord) -> str:
    return record.name.value


def _every(attribute: Callable[[FeedFormatRecord], tuple[str, ...]]) -> list[str]:
    return [value for record in FORMATS for value in attribute(record)]


# ------------------------------------------------------------------------------- records


def test_every_format_has_exactly_one_record_in_enum_order() -> None:
    assert [record.name for record in FORMATS] == list(FeedFormat)
    for feed_format in FeedFormat:
        assert format_record(feed_format).name is feed_format


@pytest.mark.parametrize(
    "attribute",
    [
        lambda record: record.names,
        lambda record: (record.extension,),
        lambda record: (record.media_type,),
    ],
    ids=["names and aliases", "extensions", "media types"],
)
def test_names_aliases_extensions_and_media_types_are_unique(
    attribute: Callable[[FeedFormatRecord], tuple[str, ...]],
) -> None:
    values = _every(attribute)
    assert len(values) == len(set(values)), values
    assert all(value == value.strip().lower() and value for value in values), values


def test_extensions_start_with_a_dot() -> None:
    assert all(record.extension.startswith(".") for record in FORMATS)


@pytest.mark.parametrize("record", FORMATS, ids=_ids)
def test_lookups_find_the_record(record: FeedFormatRecord) -> None:
    for name in record.names:
        assert format_by_name(name) is record
        assert format_by_name(name.upper()) is record
    assert format_by_extension(record.extension) is record
    assert format_by_media_type(record.content_type) is record
    assert format_by_media_type(record.media_type.upper()) is record


def test_lookups_answer_none_for_unknown_values() -> None:
    assert format_by_name("newsml") is None
    assert format_by_name("") is None
    assert format_by_extension(".xml") is None
    assert format_by_extension("rss") is None  # extensions are looked up exactly, dot included
    assert format_by_extension(".RSS") is None
    assert format_by_media_type("text/html; charset=utf-8") is None


# ------------------------------------------------------------------------------ rendering


def _rss(body: bytes) -> None:
    assert etree.fromstring(body).tag == "rss"
    assert feedparser.parse(body).version == "rss20"


def _atom(body: bytes) -> None:
    assert etree.fromstring(body).tag == "{http://www.w3.org/2005/Atom}feed"
    assert feedparser.parse(body).version == "atom10"


def _json_feed(body: bytes) -> None:
    assert json.loads(body)["version"] == "https://jsonfeed.org/version/1.1"


def _json(body: bytes) -> None:
    assert isinstance(json.loads(body), dict)


# What a document of each media type must be. A new format's media type needs a line here.
CHECKS: dict[str, Callable[[bytes], None]] = {
    "application/rss+xml": _rss,
    "application/atom+xml": _atom,
    "application/feed+json": _json_feed,
    "application/json": _json,
}


@pytest.mark.parametrize("record", FORMATS, ids=_ids)
def test_each_renderer_produces_a_document_of_its_media_type(record: FeedFormatRecord) -> None:
    assert record.media_type in CHECKS, f"add a check for {record.media_type} to CHECKS"
    assert record.content_type.endswith("; charset=utf-8")
    body = record.render(SPEC, STORIES, POLICY)
    assert body == render_feed(record.name, SPEC, STORIES, POLICY)
    body.decode("utf-8")
    CHECKS[record.media_type](body)


def _validator(schema_file: str) -> Any:
    """A validator for ``schema_file`` that resolves the schemas beside it offline."""
    path = SCHEMAS_DIR / schema_file
    schema = json.loads(path.read_text("utf-8"))
    registry: Registry[Any] = Registry()
    for neighbour in path.parent.glob("*.json"):
        contents = json.loads(neighbour.read_text("utf-8"))
        if neighbour != path and isinstance(contents.get("$id"), str):
            uri = contents["$id"].rstrip("#")
            registry = registry.with_resource(uri, Resource.from_contents(contents))
    return validator_for(schema)(schema, registry=registry, format_checker=FormatChecker())


@pytest.mark.parametrize("record", [r for r in FORMATS if r.schema], ids=_ids)
def test_documents_are_valid_against_the_official_schema(record: FeedFormatRecord) -> None:
    assert record.schema is not None
    assert (SCHEMAS_DIR / record.schema).is_file(), f"{record.schema} not in {SCHEMAS_DIR}"
    validator = _validator(record.schema)
    document = json.loads(record.render(SPEC, STORIES, POLICY))
    instances = document["items"] if record.schema_scope is SchemaScope.ITEMS else [document]
    assert len(instances) >= 1
    for instance in instances:
        assert schema_errors(validator, instance) == []


def test_schemas_cover_the_json_formats() -> None:
    """JSON Feed and ninjs have official schemas, and the registry names them."""
    assert format_record(FeedFormat.JSONFEED).schema
    assert format_record(FeedFormat.NINJS).schema
