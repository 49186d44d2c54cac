"""XML pieces shared by RSS and Atom: namespaces, Media RSS, Distributor extensions (pure)."""

from __future__ import annotations

from lxml import etree

from distributor.domain.articles import Article
from distributor.rendering.feeds.common import (
    DISTRIBUTOR_NS,
    DISTRIBUTOR_PREFIX,
    attribution_line,
    effective_restriction,
    image_copyright,
    image_mime_type,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"  # the trailing slash is part of the name
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# EBU role for photo credits, lowercase as Media RSS validators expect.
CREDIT_ROLE = "photographer"
CREDIT_SCHEME = "urn:ebu"


def qname(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for lxml."""
    return f"{{{namespace}}}{local}"


def sub(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    """Append a child element with optional text and attributes (in a stable order)."""
    element = etree.SubElement(parent, tag)
    for name in sorted(attributes):
        element.set(name, attributes[name])
    if text is not None:
        element.text = text
    return element


def add_media(item: etree._Element, article: Article) -> None:
    """One ``media:content`` per image with its caption, credit and copyright inside it,
    then the story's territory restriction."""
    for image in article.images:
        attributes = {"url": image.url, "type": image_mime_type(image), "medium": "image"}
        if image.width:
            attributes["width"] = str(int(image.width))
        if image.height:
            attributes["height"] = str(int(image.height))
        if image.is_lead:
            attributes["isDefault"] = "true"
        content = sub(item, qname(MEDIA_NS, "content"), **attributes)
        if image.caption:
            sub(content, qname(MEDIA_NS, "description"), image.caption, type="plain")
        if image.credit:
            sub(
                content,
                qname(MEDIA_NS, "credit"),
                image.credit,
                role=CREDIT_ROLE,
                scheme=CREDIT_SCHEME,
            )
        copyright_line = image_copyright(article, image)
        if copyright_line:
            sub(content, qname(MEDIA_NS, "copyright"), copyright_line)
    restriction = effective_restriction(article)
    if restriction is not None:
        relationship, codes = restriction
        sub(
            item,
            qname(MEDIA_NS, "restriction"),
            " ".join(code.lower() for code in codes),
            relationship=relationship,
            type="country",
        )


def add_distributor_extensions(
    item: etree._Element, article: Article, attribution: str | None, publisher: str
) -> None:
    """Bios, notes, usage terms, attribution and revision in Distributor's namespace."""
    for author in article.authors:
        person = sub(item, qname(DISTRIBUTOR_NS, "author"))
        sub(person, qname(DISTRIBUTOR_NS, "name"), author.name)
        if author.profile_url:
            sub(person, qname(DISTRIBUTOR_NS, "uri"), author.profile_url)
        if author.bio:
            sub(person, qname(DISTRIBUTOR_NS, "bio"), author.bio)
    for note in article.notes:
        sub(item, qname(DISTRIBUTOR_NS, "note"), note)
    if article.usage_terms:
        sub(item, qname(DISTRIBUTOR_NS, "usageTerms"), article.usage_terms)
    if attribution:
        sub(
            item,
            qname(DISTRIBUTOR_NS, "attribution"),
            attribution_line(article, attribution, publisher),
        )
    sub(item, qname(DISTRIBUTOR_NS, "revision"), str(article.revision))


def serialize(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration that agrees with the HTTP charset."""
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


NSMAP_PREFIXES = {
    "atom": ATOM_NS,
    "media": MEDIA_NS,
    "dc": DC_NS,
    "fh": HISTORY_NS,
    DISTRIBUTOR_PREFIX: DISTRIBUTOR_NS,
}
