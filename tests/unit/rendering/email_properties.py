"""Helpers that read rendered emails the way a checker would (parse, never string-match HTML)."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

from distributor.domain.articles import Article
from distributor.rendering.email import Branding, IssueContent


def parse(document: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document.encode("utf-8"))


def visible_text(document: str) -> str:
    """All text of the body, whitespace collapsed (what a reader can see or hear)."""
    root = parse(document)
    body = root.find("body")
    assert body is not None
    return re.sub(r"\s+", " ", body.text_content())


def hrefs(document: str) -> list[str]:
    return [str(a.get("href")) for a in parse(document).iter("a") if a.get("href")]


def requested_urls(document: str) -> set[str]:
    """Every URL a mail client would fetch on opening: src, background, CSS url(), imports."""
    root = parse(document)
    urls: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("src", "background", "poster", "data"):
            if element.get(attribute):
                urls.add(str(element.get(attribute)))
        if element.tag == "link" and element.get("href"):
            urls.add(str(element.get("href")))
    for match in re.finditer(r"url\(\s*['\"]?([^'\")]+)", document):
        urls.add(match.group(1))
    for match in re.finditer(r"@import\s+['\"]?([^'\";]+)", document):
        urls.add(match.group(1))
    return urls


def allowed_image_urls(content: IssueContent, branding: Branding) -> set[str]:
    """Images the email may load: lead photos, author avatars, the logo."""
    allowed: set[str] = set()
    for article in content.articles:
        if article.lead_image is not None:
            allowed.add(article.lead_image.url)
        allowed.update(author.avatar_url for author in article.authors if author.avatar_url)
    if branding.logo_url:
        allowed.add(branding.logo_url)
    return allowed


def shown_bios(article: Article) -> list[str]:
    return [author.bio for author in article.authors if author.bio]


def comments(document: str) -> list[str]:
    return [str(node.text) for node in parse(document).iter(etree.Comment)]


def unescape(text: str) -> str:
    return html.unescape(text)
