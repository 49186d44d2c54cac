"""Our own JSON article format (documented in docs/ingest-json-schema.md).

Accepted shapes: one article object, an array of them, or ``{"articles": [...]}``. Unknown
fields are rejected (a typo must not silently drop a credit), every time needs a zone, URLs
must be absolute http(s). Each article is validated on its own: a bad one is reported with
the path of the bad field ("articles[2].authors[0].name: Field required") and the rest go in.

The body goes through the same extraction as feed bodies (figures, bios, notes, chrome), but
fields win: a bio given in ``authors[].bio`` beats one found in the body, and given images and
notes come first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from distributor.domain.articles import Article, Author, Image
from distributor.domain.languages import LanguageTagError, normalise_language_tag
from distributor.ingest.extract import assign_bios, extract_body
from distributor.ingest.languages import SAMPLE_CHARS, decide_language
from distributor.ingest.report import IngestReport, NotAFeedError
from distributor.ingest.sanitise import html_to_text, plain_text, safe_url

Text = Annotated[str, Field(max_length=100_000)]


def _absolute(value: str | None) -> str | None:
    if value is None:
        return None
    url = safe_url(value)
    if url is None:
        raise ValueError("must be an absolute http:// or https:// URL")
    return url


def _language_tag(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_language_tag(value)
    except LanguageTagError as error:
        raise ValueError(str(error)) from None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2025-11-24T10:00:00+08:00 or ...Z")
    return value


class AuthorIn(BaseModel):
    """An author as sent to us."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=300)]
    bio: Text | None = None
    avatar_url: str | None = None
    profile_url: str | None = None
    email: Annotated[str, Field(max_length=320)] | None = None

    _urls = field_validator("avatar_url", "profile_url")(_absolute)


class ImageIn(BaseModel):
    """An image as sent to us."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str
    caption: Text | None = None
    credit: Annotated[str, Field(max_length=1000)] | None = None
    alt: Text | None = None
    width: Annotated[int, Field(gt=0, lt=100_000)] | None = None
    height: Annotated[int, Field(gt=0, lt=100_000)] | None = None
    mime_type: Annotated[str, Field(max_length=100)] | None = None
    copyright: Annotated[str, Field(max_length=1000)] | None = None
    is_lead: bool = False

    _url = field_validator("url")(_absolute)


class ArticleIn(BaseModel):
    """An article as sent to us (see docs/ingest-json-schema.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    guid: Annotated[str, Field(min_length=1, max_length=1000)]
    url: str
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    dek: Text | None = None
    body_html: Annotated[str, Field(max_length=2_000_000)] = ""
    language: Annotated[str, Field(max_length=100)] | None = None
    sections: list[Annotated[str, Field(max_length=200)]] = []
    tags: list[Annotated[str, Field(max_length=200)]] = []
    authors: list[AuthorIn] = []
    images: list[ImageIn] = []
    notes: list[Text] = []
    published_at: datetime | None = None
    updated_at: datetime | None = None
    embargo_until: datetime | None = None
    rights: Text | None = None
    usage_terms: Text | None = None
    territories_allow: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]] = []
    territories_deny: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]] = []

    _url = field_validator("url")(_absolute)
    _language = field_validator("language")(_language_tag)
    _times = field_validator("published_at", "updated_at", "embargo_until")(_aware)

    def to_article(self) -> Article:
        """The domain article: body extracted and sanitised, given fields winning."""
        title = plain_text(self.title)
        extracted = extract_body(self.body_html, self.url, title)
        authors = tuple(
            Author(
                name=plain_text(a.name),
                bio=a.bio or None,
                avatar_url=a.avatar_url,
                profile_url=a.profile_url,
                email=a.email,
            )
            for a in self.authors
        ) or tuple(Author(name=name) for name in extracted.byline_names)
        authors = assign_bios(authors, extracted.bios)
        given = [
            Image(
                url=str(i.url),
                caption=i.caption,
                credit=i.credit,
                alt=i.alt,
                width=i.width,
                height=i.height,
                mime_type=i.mime_type,
                copyright=i.copyright,
                is_lead=i.is_lead,
            )
            for i in self.images
        ]
        given_urls = {image.url for image in given}
        images = tuple(given + [i for i in extracted.images if i.url not in given_urls])
        notes = tuple(
            dict.fromkeys([*(n.strip() for n in self.notes if n.strip()), *extracted.notes])
        )
        # The given language wins; without one, the text decides (see ingest.languages).
        text = title + "\n" + html_to_text(extracted.body_html[: SAMPLE_CHARS * 5])
        return Article(
            guid=self.guid,
            title=title,
            canonical_url=str(self.url),
            body_html=extracted.body_html,
            dek=plain_text(self.dek) or None,
            language=decide_language(text, item_language=self.language).tag,
            sections=tuple(dict.fromkeys([*self.sections, *extracted.sections])),
            tags=tuple(dict.fromkeys(self.tags)),
            authors=authors,
            images=images,
            notes=notes,
            published_at=self.published_at,
            updated_at=self.updated_at,
            embargo_until=self.embargo_until,
            rights=self.rights,
            usage_terms=self.usage_terms,
            territories_allow=tuple(code.upper() for code in self.territories_allow),
            territories_deny=tuple(code.upper() for code in self.territories_deny),
        )


def describe_errors(error: ValidationError, prefix: str) -> list[str]:
    """Pydantic errors as "prefix.field[0].name: message" lines."""
    lines = []
    for item in error.errors():
        path = prefix
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return lines


def items_of(payload: Any) -> tuple[list[Any], str]:
    """The list of article objects in ``payload`` and the path prefix to name them by."""
    if isinstance(payload, dict) and "articles" in payload:
        items = payload["articles"]
        if not isinstance(items, list):
            raise NotAFeedError('"articles" must be an array of article objects')
        return items, "articles"
    if isinstance(payload, list):
        return payload, ""
    if isinstance(payload, dict):
        return [payload], ""
    raise NotAFeedError('expected an article object, an array of them, or {"articles": [...]}')


def parse_json_articles(payload: Any, source: str) -> tuple[list[Article], IngestReport]:
    """Validate ``payload`` (already decoded JSON) item by item into articles plus a report."""
    report = IngestReport(source=source)
    items, prefix = items_of(payload)
    report.items_seen = len(items)
    articles: list[Article] = []
    for index, item in enumerate(items):
        label = f"{prefix}[{index}]"
        if not isinstance(item, dict):
            report.skip("must be an object", label)
            continue
        try:
            model = ArticleIn.model_validate(item)
        except ValidationError as exc:
            report.skip("; ".join(describe_errors(exc, label)), label)
            continue
        try:
            articles.append(model.to_article())
        except Exception as exc:  # extraction must never lose the other items
            report.skip(f"could not be read: {type(exc).__name__}: {exc}", label)
    return articles, report


def parse_json_document(data: bytes, source: str) -> tuple[list[Article], IngestReport]:
    """Decode bytes as JSON (UTF-8) and validate them; bad JSON raises NotAFeedError."""
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAFeedError(f"{source}: not valid JSON ({exc})") from None
    return parse_json_articles(payload, source)
