"""A feed document (RSS 0.9x/1.0/2.0, Atom) to articles, in one forward pass.

Each stage is one module with a typed input and output; read this function top to bottom:

1. :mod:`~distributor.ingest.reading`: bytes -> ``FeedDocument`` (strict reader, else
   feedparser; not a feed raises :class:`~distributor.ingest.report.NotAFeedError`)
2. :mod:`~distributor.ingest.raw_entries`: -> one ``RawEntry`` per item (the reader's fields
   plus its XML element read as written)
3. :mod:`~distributor.ingest.normalise`: -> ``NormalisedEntry`` (links, title, authors, feed
   images, dates, tags, declared language, GUID), or a skip
4. :mod:`~distributor.ingest.extract`: the body -> ``ExtractedBody`` (parsed as a browser
   does; chrome, byline, bios, notes and captioned images taken out)
5. :mod:`~distributor.ingest.sanitise`: -> ``SanitisedStory`` (allow-listed body, plain dek)
6. :mod:`~distributor.ingest.assemble`: -> :class:`~distributor.domain.articles.Article`

Every item is checked on its own: one without a link or title is skipped with a reason in the
report, one that fails to read is skipped with the error; the rest go on.

Pure: parses bytes in memory, never fetches.
"""

from __future__ import annotations

from distributor.domain.articles import Article
from distributor.ingest.assemble import assemble_article, story_language
from distributor.ingest.extract import extract_story
from distributor.ingest.normalise import normalise_entry, normalise_feed
from distributor.ingest.raw_entries import raw_entries
from distributor.ingest.reading import read_feed
from distributor.ingest.report import IngestReport
from distributor.ingest.sanitise import sanitise_story

EMPTY_FEED_WARNING = "the feed has no items"


def parse_feed(
    data: bytes, source: str, base_url: str | None = None, *, strict_reader: bool = True
) -> tuple[list[Article], IngestReport]:
    """Read a feed document into articles plus a report of what was wrong.

    ``source`` names the document in messages (a URL or file name); ``base_url`` resolves
    relative links (default: the feed's own links). Raises :class:`NotAFeedError` when the
    bytes are not a feed at all. ``strict_reader=False`` always reads with feedparser (the
    equivalence tests compare both readers).
    """
    document = read_feed(data, source, base_url, strict_reader=strict_reader)
    report = document.report
    feed = normalise_feed(document, base_url)
    entries = raw_entries(document)
    report.items_seen = len(entries)
    if not entries:
        report.warn(EMPTY_FEED_WARNING)
    articles: list[Article] = []
    seen_guids: set[str] = set()
    for raw in entries:
        try:
            fields = normalise_entry(raw, feed, report)
            if fields is None:
                continue
            story = extract_story(fields.body_markup, fields.link, fields.title)
            clean = sanitise_story(story.body_html, fields.summary_markup, fields.link)
            # An item's own warnings are reported once its body has been read: one that
            # fails there is reported by its error alone.
            for warning in fields.warnings:
                report.warn(warning, raw.label)
            language = story_language(fields, clean, feed)
            if language.problem:
                report.warn(language.problem, raw.label)
            article = assemble_article(fields, story, clean, language.tag)
        except Exception as exc:  # one strange item must never cost the others
            report.skip(f"could not be read: {type(exc).__name__}: {exc}", raw.label)
            continue
        if article.guid in seen_guids:
            report.skip(f"duplicate guid {article.guid!r} in the same feed", raw.label)
            continue
        seen_guids.add(article.guid)
        articles.append(article)
    return articles, report
