"""The feed pipeline's stages hand each other what their types say, in order."""

from __future__ import annotations

from distributor.ingest.extract import extract_body, extract_story
from distributor.ingest.normalise import normalise_entry, normalise_feed
from distributor.ingest.pipeline import parse_feed
from distributor.ingest.raw_entries import raw_entries
from distributor.ingest.reading import read_feed

BODY = (
    "<p>BY JANE DOE</p><p>The story.<script>alert(1)</script></p>"
    '<p><a href="javascript:alert(2)" onclick="x()">a link</a></p>'
)
FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>T</title><link>https://example.org/</link><description>d</description>
<item><title>A story</title><link>/stories/1?utm_source=x</link><guid>17</guid>
<pubDate>Wes, 18 Aug 2021 09:00:00</pubDate>
<description>A &lt;b&gt;dek&lt;/b&gt;</description>
<content:encoded><![CDATA[{BODY}]]></content:encoded>
<media:content url="/lead.jpg" medium="image"><media:description>Dusk. Photo: AP</media:description>
</media:content></item>
<item><title></title><link>https://example.org/2</link></item>
</channel></rss>""".encode()


def test_each_stage_gives_the_next_its_input() -> None:
    document = read_feed(FEED, "feed.xml")
    feed = normalise_feed(document, None)
    assert feed.home == "https://example.org/"
    entries = raw_entries(document)
    assert [entry.label for entry in entries] == ["item 1 (17)", "item 2 (https://example.org/2)"]
    raw_media = entries[0].item.media if entries[0].item else []
    assert [media.url for media in raw_media] == ["/lead.jpg"]  # as written

    fields = normalise_entry(entries[0], feed, document.report)
    assert fields is not None
    assert fields.link == "https://example.org/stories/1"
    assert fields.guid == "https://example.org/#guid=17"
    assert [(i.url, i.caption, i.credit) for i in fields.images] == [
        ("https://example.org/lead.jpg", "Dusk.", "AP")
    ]
    (warning,) = fields.warnings  # reported by the driver once the body is read
    assert warning.startswith("published date 'Wes, 18 Aug 2021 09:00:00' has no time zone")
    assert normalise_entry(entries[1], feed, document.report) is None
    assert [p.reason for p in document.report.skipped] == ["no title"]

    story = extract_story(fields.body_markup, fields.link, fields.title)
    assert story.byline_names == ("Jane Doe",)
    # Extraction does not sanitise: the next stage does.
    assert 'href="javascript:alert(2)" onclick="x()"' in story.body_html


def test_the_pipeline_sanitises_what_extraction_leaves() -> None:
    articles, report = parse_feed(FEED, "feed.xml")
    (article,) = articles
    assert article.body_html == extract_body(BODY, article.canonical_url, article.title).body_html
    assert "script" not in article.body_html
    assert "javascript" not in article.body_html
    assert "onclick" not in article.body_html
    assert article.dek == "A dek"
    assert [a.name for a in article.authors] == ["Jane Doe"]
    assert report.items_seen == 2
