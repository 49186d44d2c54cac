"""The strict lxml reader and feedparser give the same articles, field by field.

For every feed we have (the shared corpus, the same files re-encoded as plain UTF-8 so the
strict reader takes them, the fixtures, a generated SEED-shaped feed and small documents
written to hit feedparser's odd rules), ``parse_feed`` with the strict reader must equal
``parse_feed(..., strict_reader=False)``: same articles (``Article.as_dict()``) and same report.
"""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import feedparser.mixin
import pytest

from distributor.ingest.pipeline import parse_feed
from distributor.ingest.strict_reader import FEEDPARSER_HANDLED, read_strictly
from tests.conftest import SHARED_DIR

# Exhaustive or process-spawning: left out of `make test-fast`.
pytestmark = pytest.mark.slow

CORPUS = SHARED_DIR / "corpus" / "feeds"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
DESK_FEED = Path(__file__).resolve().parents[2] / "browser" / "desk_feed.xml"
BASE = "https://fixture.example.org/feeds/main.xml"

RSS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    'xmlns:x="http://example.org/unknown"><channel><title>T</title>'
    "<link>https://news.example.org/</link><description>d</description>"
)
ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'

# Small documents for the rules that the real feeds do not all exercise.
EDGE_CASES: dict[str, str] = {
    "rss-odd-items": RSS_HEAD
    + "<language>en_GB</language><copyright>© Channel</copyright>"
    + "<image><url>https://news.example.org/logo.png</url><title>T</title>"
    + "<link>https://news.example.org/</link></image>"
    # guid as link, relative link, a second description that becomes the content
    + '<item><title>One &amp; two</title><guid isPermaLink="true">/stories/1</guid>'
    + "<description>First &lt;b&gt;dek&lt;/b&gt;</description>"
    + "<description><![CDATA[<p>Body with <a href='/x?a=1&b=2'>link</a> & more</p>]]>"
    + "</description><dc:creator>Jane Doe</dc:creator><dc:creator>Li Wei</dc:creator>"
    + "<category domain='https://news.example.org/t'>World</category><dc:subject>Asia"
    + "</dc:subject><media:keywords>one, two,,three</media:keywords></item>"
    # no title but a media:title; description then media:description (content)
    + "<item><link>https://news.example.org/stories/2?utm_source=x&amp;id=2</link>"
    + '<media:content url="https://img.example.org/2.jpg" medium="image">'
    + "<media:title>Photo title</media:title><media:description>A caption. Photo: AP"
    + "</media:description></media:content><description>Dek</description>"
    + "<pubDate>Wes, 18 Aug 2021 09:00:00 +0800</pubDate></item>"
    # media:title before the title; author with e-mail; feedburner origLink; an item image
    + "<item><media:title>Not this</media:title><title>Three</title>"
    + "<link>https://news.example.org/3</link><author>jane@example.org (Jane Roe)</author>"
    + "<feedburner:origLink>https://origin.example.org/3</feedburner:origLink>"
    + "<image>https://img.example.org/3.jpg</image><source url='https://s.example.org'>"
    + "Source</source><x:extra a='1'>ignored</x:extra><comments>/c/3</comments>"
    + "<content:encoded><![CDATA[<p>CafÃ© text with \u0093quotes\u0094 and"
    + " a bare & ampersand</p>]]></content:encoded><dc:date>2021-08-18</dc:date>"
    + "<guid isPermaLink='false'>3</guid></item>"
    # an item image with a title, a permalink guid after the link, xml:lang on content
    + "<item><title>Four</title><link>https://news.example.org/4</link>"
    + "<image><url>https://img.example.org/4.jpg</url><title>Image title</title></image>"
    + "<title>Four again</title><guid>https://news.example.org/4#g</guid>"
    + '<content:encoded xml:lang="zh_CN">&lt;p&gt;中文正文&lt;/p&gt;</content:encoded>'
    + "<author>Only@example.org</author></item>"
    # skipped items: no title, no link
    + "<item><description>No title</description><link>https://news.example.org/5</link>"
    + "</item><item><title>No link</title><guid isPermaLink='false'>6</guid></item>"
    + "</channel></rss>",
    "atom-odd-entries": ATOM_HEAD
    + ' xml:lang="fr"><title>A</title><id>tag:example.org,2020:feed</id>'
    + "<author><name>Feed Author</name></author><rights>Feed rights</rights>"
    + "<updated>2020-01-01T00:00:00Z</updated>"
    # id before link, html summary then text content, category term/label
    + "<entry><id>https://blog.example.org/1</id><title type='html'>A &amp;lt;b&amp;gt;"
    + "</title><summary type='html'>&lt;p&gt;Summary&lt;/p&gt;</summary>"
    + "<content type='text'>Plain content</content><link rel='self' href='/self/1'/>"
    + "<category term='tech' label='Tech'/><category scheme='s'>Inner</category>"
    + "<published>2020-01-02T10:00:00+02:00</published><updated>2020-01-03</updated>"
    + "</entry>"
    # link alternate after id; two summaries (the second is the content); authors
    + "<entry><link href='https://blog.example.org/2' rel='alternate' type='text/html'/>"
    + "<id>urn:uuid:2</id><title>Two</title><summary>First</summary>"
    + "<summary type='html'>&lt;p&gt;Second&lt;/p&gt;</summary>"
    + "<author><name>Ann Example</name><email>ann@example.org</email>"
    + "<uri>/ann</uri></author><author><name>Bo</name></author>"
    + "<rights type='html'>&lt;b&gt;Entry&lt;/b&gt; rights</rights></entry>"
    # html content with xml:lang, no author: the feed author is inherited
    + "<entry xml:lang=''><title>Three</title><id>3</id>"
    + "<link href='https://blog.example.org/3'/>"
    + "<content type='html' xml:lang='de'>&lt;p&gt;Inhalt&lt;/p&gt;</content></entry>"
    # elements without attributes take the language of the entry, not of the feed
    + "<entry xml:lang='de'><title>Vier</title><id>4</id><link href='https://blog.example.org/4'/>"
    + "<content>Inhalt ohne Attribute</content></entry>"
    + "</feed>",
}
# Documents the strict reader must leave to feedparser.
DECLINED: dict[str, bytes] = {
    "xml-base": (
        ATOM_HEAD + ' xml:base="https://a.example.org/"><title>A</title><entry><title>x'
        "</title><link href='y'/><id>1</id></entry></feed>"
    ).encode(),
    "doctype": (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss version="2.0">'
        b"<channel><title>T&nbsp;</title></channel></rss>"
    ),
    "xhtml-content": (
        ATOM_HEAD + "><title>A</title><entry><title>x</title><id>1</id>"
        "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>Hi</div></content>"
        "</entry></feed>"
    ).encode(),
    "latin-1": (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Caf\xe9'
        "</title></channel></rss>"
    ).encode("latin-1"),
    "broken": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>',
    "rdf": (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><channel><title>T</title></channel></rdf:RDF>'
    ),
    "markup-in-title": (
        RSS_HEAD + "<item><title>A <b>bold</b> title</title>"
        "<link>https://n.example.org/1</link></item></channel></rss>"
    ).encode(),
}


def _seed_feed(items: int = 12) -> bytes:
    paragraphs = "".join(
        f"<p>“Quote {n},” said Chen Lin*, who earns 500 yuan (£53) a week.</p>" for n in range(8)
    )
    body = (
        '<div class="loading">Loading…</div><p>Stories</p><p>BY JANE DOE</p>'
        + paragraphs
        + '<p><img src="/images/1.jpg"></p><p>Workers wait outside. Credit: Collective</p>'
        + "<p>*Names have been changed to ensure the safety of sources</p>"
        + "<h3>About the author</h3><p>Jane Doe is a reporter based in Taipei.</p>"
    )
    entries = "".join(
        f"<item><title>Story {i}</title><link>https://magazine.example.org/s/{i}</link>"
        f'<guid isPermaLink="false">seed-{i}</guid><pubDate>Sat, 01 Nov 2025 08:{i:02d}:00'
        f" +0000</pubDate><dc:creator>Jane Doe</dc:creator><description>Dek {i}"
        f"</description><content:encoded><![CDATA[{body}]]></content:encoded>"
        f'<media:content url="https://magazine.example.org/lead/{i}.jpg" medium="image">'
        "<media:description>A lead photo.</media:description><media:credit role="
        '"photographer">Lead Photographer</media:credit></media:content></item>'
        for i in range(items)
    )
    return (RSS_HEAD + entries + "</channel></rss>").encode()


def _as_utf8(data: bytes) -> bytes:
    """The document re-encoded as UTF-8 with a plain declaration (what feedparser decoded)."""
    encoding = feedparser.parse(data, response_headers={"content-type": "application/xml"}).get(
        "encoding"
    )
    text = data.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff").lstrip()
    text = re.sub(r"^<\?xml[^>]*\?>", "", text).lstrip()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def _documents() -> dict[str, bytes]:
    documents: dict[str, bytes] = {}
    if CORPUS.is_dir():
        for path in sorted(CORPUS.iterdir()):
            if path.suffix in (".xml", ".rss", ".atom"):
                documents[path.name] = path.read_bytes()
                documents[f"utf8:{path.name}"] = _as_utf8(path.read_bytes())
    for path in sorted(FIXTURES.iterdir()):
        documents[path.name] = path.read_bytes()
    documents[DESK_FEED.name] = DESK_FEED.read_bytes()
    documents["seed-generated"] = _seed_feed()
    documents.update({name: text.encode("utf-8") for name, text in EDGE_CASES.items()})
    return documents


DOCUMENTS = _documents()
# The strict reader must take these (else the comparison would prove nothing).
MUST_ACCEPT = {
    "guardian-us-2018.rss", "macworld-2017.rss", "rue89-2013.xml", "dapenti-2021-zh.xml",
    "heise-developer-2016.atom", "seed-story-en.rss", "seed-story-zh.atom", "seed-generated",
    "utf8:aktuality-sk-2021.rss", "utf8:geekpark-2020-zh.xml", "utf8:golem-de-2018-latin1.xml",
    "utf8:huffpost-canada-2017.xml", "utf8:kc0011-2020-zh-gb2312.rss",
    "utf8:lecerclepsy-2018-latin1-nodecl.xml", "utf8:livemint-2019.xml",
    "utf8:manrepeller-2020.xml", "utf8:techcrunch-2011.xml",
    "utf8:washingtonpost-wellness-2012.xml", *EDGE_CASES,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("base_url", [None, BASE])
def test_strict_reader_gives_what_feedparser_gives(name: str, base_url: str | None) -> None:
    data = DOCUMENTS[name]
    accepted = read_strictly(data, base_url) is not None
    if name in MUST_ACCEPT:
        assert accepted, f"{name} should be read by the strict reader"
    if not accepted:
        return
    expected, expected_report = parse_feed(data, name, base_url, strict_reader=False)
    articles, report = parse_feed(data, name, base_url)
    assert report.as_dict() == expected_report.as_dict()
    assert [a.as_dict() for a in articles] == [a.as_dict() for a in expected]


def test_the_edge_cases_produce_articles() -> None:
    for name in EDGE_CASES:
        articles, _ = parse_feed(DOCUMENTS[name], name, BASE)
        assert len(articles) >= 3


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_documents_the_strict_reader_does_not_model_go_to_feedparser(name: str) -> None:
    assert read_strictly(DECLINED[name]) is None


def test_every_feedparser_element_handler_is_known() -> None:
    """A feedparser upgrade that gives meaning to a new element must be reviewed here."""
    handlers = {
        attribute.split("_", 2)[2]
        for attribute in dir(feedparser.mixin._FeedParserMixin)
        if attribute.startswith(("_start_", "_end_"))
    }
    assert handlers == FEEDPARSER_HANDLED
