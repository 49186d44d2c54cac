"""IPTC ninjs 3.1 and 2.2 items, and the ninjs feed document that lists them (pure).

ninjs has no author-bio or credit-line property and its schema forbids extra keys, so:
bios travel as ``descriptions`` with role ``authorbio`` (in byline order) and inside the body;
image captions are ``descriptions`` role ``caption``, credits are ``by`` plus a ``creditline``
description; notes are ``descriptions`` role ``note``, repeated in ``edNote`` and the body;
territory rules are an ODRL (RightsML) policy in ``rightsInfo.encodedRights``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from distributor.domain.articles import Article, Image
from distributor.domain.partners import FeedFormat, Visibility
from distributor.rendering.feeds.common import (
    FeedEntry,
    FeedPolicy,
    FeedSpec,
    clean_title,
    feed_language,
    feed_updated,
    full_html,
    image_copyright,
    image_mime_type,
    item_id,
    modified_time,
    published_time,
    rfc3339,
    select_entries,
    story_language,
    summary_text,
)

CONTENT_TYPE = "application/json; charset=utf-8"
SCHEMA_URIS = {
    "3.1": "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#",
    "2.2": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#",
}
ODRL_PROFILE = "http://www.w3.org/ns/odrl/2/"
_PUB_STATUS = {
    Visibility.VISIBLE: "usable",
    Visibility.WITHHELD: "withheld",
    Visibility.CANCELED: "canceled",
}

# ninjs 2.x spells properties in lowercase; 3.x in camelCase. Items are built with 3.x
# names and translated at the end.
_LOWERCASE_2X = {
    "firstCreated": "firstcreated",
    "versionCreated": "versioncreated",
    "embargoedUntil": "embargoed",
    "pubStatus": "pubstatus",
    "copyrightNotice": "copyrightnotice",
    "copyrightHolder": "copyrightholder",
    "usageTerms": "usageterms",
    "edNote": "ednote",
    "rightsInfo": "rightsinfo",
    "altIds": "altids",
    "contentType": "contenttype",
    "langId": "langid",
    "encodedRights": "encodedrights",
    "linkedRights": "linkedrights",
    "contactInfo": "contactinfo",
}


def _lowercase_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_LOWERCASE_2X.get(key, key): _lowercase_keys(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_lowercase_keys(inner) for inner in value]
    return value


def _to_2x(item: dict[str, Any]) -> dict[str, Any]:
    """A 3.x item in 2.x spelling (2.x associations have no ``rel``)."""
    converted: dict[str, Any] = _lowercase_keys(item)
    for association in converted.get("associations", []):
        association.pop("rel", None)
    return converted


def as_uri(url: str) -> str:
    """``url`` with non-ASCII characters percent-encoded (ninjs ``uri`` fields are URIs)."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _rights_policy(article: Article, uri: str) -> str:
    """An ODRL policy (compact JSON) permitting distribution, limited to allowed countries."""
    permission: dict[str, Any] = {"target": uri, "action": "distribute"}
    allow = sorted({code.upper() for code in article.territories_allow})
    deny = sorted({code.upper() for code in article.territories_deny})
    constraints = []
    if allow:
        constraints.append({"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": allow})
    if deny:
        constraints.append({"leftOperand": "spatial", "operator": "isNoneOf", "rightOperand": deny})
    if constraints:
        permission["constraint"] = constraints
    policy = {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set",
        "uid": uri + "#rights" if uri.startswith("http") else uri,
        "permission": [permission],
    }
    return json.dumps(policy, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _picture(article: Article, image: Image, position: int) -> dict[str, Any]:
    picture: dict[str, Any] = {
        "name": f"image-{position}",
        "rel": "lead-image" if image.is_lead else "image",
        "uri": as_uri(image.url),
        "type": "picture",
    }
    descriptions = []
    if image.caption:
        descriptions.append(
            {"role": "caption", "contentType": "text/plain", "value": image.caption}
        )
    if image.credit:
        picture["by"] = image.credit
        descriptions.append(
            {"role": "creditline", "contentType": "text/plain", "value": image.credit}
        )
    if image.alt_text:
        descriptions.append({"role": "alt", "contentType": "text/plain", "value": image.alt_text})
    if descriptions:
        picture["descriptions"] = descriptions
    copyright_line = image_copyright(article, image)
    if copyright_line:
        picture["copyrightNotice"] = copyright_line
    rendition: dict[str, Any] = {
        "name": "original",
        "href": as_uri(image.url),
        "contentType": image_mime_type(image),
    }
    if image.width:
        rendition["width"] = int(image.width)
    if image.height:
        rendition["height"] = int(image.height)
    picture["renditions"] = [rendition]
    return picture


def ninjs_item(
    article: Article,
    spec: FeedSpec,
    policy: FeedPolicy,
    status: Visibility = Visibility.VISIBLE,
) -> dict[str, Any]:
    """One story as a ninjs object of ``policy.ninjs_version`` ("3.1" or "2.2").

    ``version`` is the article's revision, so a correction re-sends the same ``uri`` with a
    higher version. A canceled (withdrawn) story carries only identity and status.
    """
    version = policy.ninjs_version
    if version not in SCHEMA_URIS:
        raise ValueError(f"unsupported ninjs version {version!r}; use 3.1 or 2.2")
    uri = as_uri(item_id(article, spec.tag_authority))
    item: dict[str, Any] = {
        "uri": uri,
        "standard": {"name": "ninjs", "version": version, "schema": SCHEMA_URIS[version]},
        "type": "text",
        "version": str(article.revision),
        "firstCreated": rfc3339(published_time(article)),
        "versionCreated": rfc3339(modified_time(article)),
        "pubStatus": _PUB_STATUS[status],
        "language": story_language(article),
        "headlines": [{"value": clean_title(article.title)}],
        "altIds": [
            {"role": "guid", "value": article.guid},
            {"role": "canonical", "value": article.canonical_url},
        ],
    }
    if status is Visibility.CANCELED:
        return _to_2x(item) if version.startswith("2") else item
    if article.embargo_until is not None:
        item["embargoedUntil"] = rfc3339(article.embargo_until)
    if article.authors:
        item["by"] = article.byline
        people = []
        for author in article.authors:
            person: dict[str, Any] = {"name": author.name, "rel": "author"}
            if author.profile_url:
                person["uri"] = as_uri(author.profile_url)
                person["contactInfo"] = [{"type": "web", "value": author.profile_url}]
            people.append(person)
        item["people"] = people
    descriptions = [
        {"role": "summary", "contentType": "text/plain", "value": summary_text(article)}
    ]
    descriptions.extend(
        {"role": "authorbio", "contentType": "text/plain", "value": author.bio}
        for author in article.authors
        if author.bio
    )
    descriptions.extend(
        {"role": "note", "contentType": "text/plain", "value": note} for note in article.notes
    )
    item["descriptions"] = descriptions
    if article.notes:
        item["edNote"] = " ".join(article.notes)
    item["bodies"] = [
        {
            "role": "main",
            "contentType": "text/html",
            "value": full_html(article, policy, spec.publisher),
        }
    ]
    subjects = [{"name": section, "rel": "section"} for section in article.sections]
    subjects.extend({"name": tag, "rel": "tag"} for tag in article.tags)
    if subjects:
        item["subjects"] = subjects
    rights = article.rights or spec.rights
    if rights:
        item["copyrightNotice"] = rights
    if spec.publisher:
        item["copyrightHolder"] = spec.publisher
    if article.usage_terms:
        item["usageTerms"] = article.usage_terms
    item["rightsInfo"] = {"langId": ODRL_PROFILE, "encodedRights": _rights_policy(article, uri)}
    if article.images:
        item["associations"] = [
            _picture(article, image, position) for position, image in enumerate(article.images, 1)
        ]
    item["renditions"] = [
        {"name": "web", "href": as_uri(article.canonical_url), "contentType": "text/html"}
    ]
    return _to_2x(item) if version.startswith("2") else item


def _entry_item(entry: FeedEntry, spec: FeedSpec, policy: FeedPolicy) -> dict[str, Any]:
    return ninjs_item(entry.article, spec, policy, entry.visibility)


def render_ninjs_item(
    article: Article, spec: FeedSpec, policy: FeedPolicy, status: Visibility
) -> bytes:
    """One ninjs object as compact UTF-8 JSON (the body of a partner push)."""
    return json.dumps(ninjs_item(article, spec, policy, status), ensure_ascii=False).encode("utf-8")


def render_ninjs(spec: FeedSpec, articles: Sequence[Article], policy: FeedPolicy) -> bytes:
    """A ninjs feed: a small JSON envelope (documented in docs/feeds.md) whose ``items`` are
    ninjs objects, each valid against the official schema of ``policy.ninjs_version``."""
    entries = select_entries(articles, FeedFormat.NINJS, policy)
    links: dict[str, str] = {"self": spec.self_url, "alternate": spec.home_url}
    if spec.archive.current_url and spec.archive.is_archive:
        links["current"] = spec.archive.current_url
    if spec.archive.prev_archive_url:
        links["prev-archive"] = spec.archive.prev_archive_url
    if spec.archive.next_archive_url:
        links["next-archive"] = spec.archive.next_archive_url
    document = {
        "title": clean_title(spec.title),
        "id": spec.stable_id,
        "updated": rfc3339(feed_updated(spec, entries)),
        "language": feed_language(spec),
        "ninjs_version": policy.ninjs_version,
        "archive": spec.archive.is_archive,
        "links": links,
        "items": [_entry_item(entry, spec, policy) for entry in entries],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
