"""Chromium as the oracle: every sentence a browser shows of a story body is in what we store.

Each body is parsed in real headless Chromium with ``DOMParser`` (a document with no browsing
context, so scripting is off and ``<noscript>`` content is markup, the view we store; see
distributor/ingest/parsing.py). Its nodes are moved into a live page so that ``innerText``
reads what is rendered: ``<noscript>`` is shown as a plain wrapper (the page itself runs
scripts, which would hide it), and what we strip on purpose is removed first (the lists
below). Every sentence of that text must be in the stored body, or moved out of it on purpose:
into an image caption, credit or alt text, a bio, a note, the byline or the section label, or be
the headline repeated. Many bodies go to the page in one ``evaluate`` call.

Run over generated broken markup and over every item of every feed in the shared corpus.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from distributor.ingest import pipeline
from distributor.ingest.extract import ExtractedBody, extract_body, extract_story
from distributor.ingest.pipeline import parse_feed
from distributor.ingest.sanitise import html_to_text
from tests.conftest import SHARED_DIR

pytestmark = pytest.mark.browser

CORPUS = SHARED_DIR / "corpus" / "feeds"
BASE = "https://news.example.org/stories/1"

# ---- What we strip on purpose, removed in the browser before its text is read.
# Site chrome boxes, by class or id (share buttons, newsletter sign-ups, related stories, ads,
# loading placeholders, comments): their text is not the story.
CHROME_CLASS = (
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|newsletter|subscribe|signup|sign-up|"
    r"advert|advertisement|ads?|adsbygoogle|promo|sponsor(?:ed)?|related|jp-relatedposts|"
    r"loading|loader|spinner|skeleton|comments?|print-button|tags-list|breadcrumbs?|"
    r"more-from|read-more|recommended|outbrain|taboola|vdb_player)(?:$|[\s_-])"
)
# Elements removed with their content: forms and their controls (in a story they are sign-up
# boxes), embedded players and their fallback text.
STRIPPED_ELEMENTS = (
    "form", "button", "input", "select", "textarea", "option", "object", "embed", "applet",
    "audio", "video", "canvas", "dialog",
)  # fmt: skip
# Blocks of site chrome recognised by their whole text.
CHROME_SENTENCES = re.compile(
    r"^(?:loading\W*|加载中\W*|please wait\W*|share(?: this(?: story| article)?)?"
    r"(?: on \w+)?|tweet|email|print|copy link|follow us.*|advertisement|"
    r"sign up (?:for|to) .*newsletter.*|subscribe to .*newsletter.*|continue reading\W*|"
    r"read (?:the )?full (?:article|story)\W*|read more\W*|previously on \w+\W*|"
    r"the post .+ appeared first on .+|"
    # bio headings (the bio itself is kept, in the author's bio)
    r"about the (?:authors?|writers?|reporters?|contributors?|journalists?|photographer)\W*|"
    r"关于作者\W*|作者简介\W*)$",
    re.IGNORECASE,
)
# Labels dropped when a line is moved: a byline ("By Jane Doe" is stored as the author
# "Jane Doe"), the Chinese credit block ("本文作者：X"), a caption's "Credit:".
MOVED_LABEL = re.compile(
    r"^(?:by|words by|written by|文\s*[|｜/]|撰文\s*[|｜:：]|作者\s*[:：]|本文作者\s*[:：]|"
    r"作者简介\s*[:：]|about the author\s*[:：])\s*",
    re.IGNORECASE,
)

_VISIBLE_TEXT = """
([fragments, chromeClass, stripped]) => {
  const host = document.getElementById("host");
  const chrome = new RegExp(chromeClass, "i");
  const parser = new DOMParser();
  return fragments.map((markup) => {
    const parsed = parser.parseFromString("<!DOCTYPE html><body>" + markup, "text/html");
    const nodes = Array.from(parsed.body.childNodes);  // a copy: moving them empties the list
    host.replaceChildren(...nodes);
    for (const element of Array.from(host.querySelectorAll("noscript"))) {
      const wrapper = document.createElement("span");
      wrapper.append(...element.childNodes);
      element.replaceWith(wrapper);
    }
    for (const element of Array.from(host.querySelectorAll(stripped.join(",")))) {
      element.remove();
    }
    for (const element of Array.from(host.querySelectorAll("[class], [id]"))) {
      const name = element.localName;
      const marks = `${element.getAttribute("class") || ""} ${element.getAttribute("id") || ""}`;
      if (name !== "img" && name !== "figure" && chrome.test(marks.trim())) element.remove();
    }
    return host.innerText;
  });
}
"""


def _visible_texts(chromium: Path, bodies: list[str]) -> list[str]:
    from playwright.sync_api import sync_playwright

    from distributor.adapters.browser_screenshots import CHROMIUM_ARGS

    texts: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", lambda route: route.abort())
            page.set_content('<!DOCTYPE html><html><body><div id="host"></div></body></html>')
            for start in range(0, len(bodies), 100):
                batch = bodies[start : start + 100]
                found: list[str] = page.evaluate(
                    _VISIBLE_TEXT, [batch, CHROME_CLASS, list(STRIPPED_ELEMENTS)]
                )
                texts.extend(found)
        finally:
            browser.close()
    return texts


def _sentences(text: str) -> Iterator[str]:
    for line in re.split(r"[\n\t]+", text):
        if CHROME_SENTENCES.match(line.strip()):
            continue
        for piece in re.split(r"(?<=[.!?。！？])\s+|(?=(?:作者简介|原文链接|链接)\s*[:：])", line):
            sentence = piece.strip()
            if re.search(r"\w", sentence):
                yield sentence


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u00a0", " ")).casefold()


def _stored(extracted: ExtractedBody, title: str) -> str:
    """Everything the story keeps: the body and what was moved out of it."""
    parts = [html_to_text(extracted.body_html), title]
    for image in extracted.images:
        parts += [image.caption or "", image.credit or "", image.alt or ""]
    parts += [bio.text for bio in extracted.bios]
    parts += [*extracted.notes, *extracted.byline_names, *extracted.sections]
    return "\n".join(_key(part) for part in parts)


def _lost(visible: str, extracted: ExtractedBody, title: str) -> list[str]:
    stored = _stored(extracted, title)
    lost = []
    for sentence in _sentences(visible):
        if CHROME_SENTENCES.match(sentence) or _key(sentence) in stored:
            continue
        unlabelled = MOVED_LABEL.sub("", sentence)
        if unlabelled != sentence and _key(unlabelled) in stored:
            continue
        lost.append(sentence)
    return lost


# ---------------------------------------------------------------------------- generated
_TOKENS = [
    "<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<i>", "<em>", "<span>", "</span>",
    "<ul>", "<li>", "</ul>", "<blockquote>", "<h2>", "</h2>", "<table>", "<tr>", "<td>",
    "</td>", "</tr>", "</table>", "<th>", "<caption>", "<pre>", "<br>", "<hr>", "<font>",
    '<a href="javascript:alert(1)">', '<a href="/ok">', "</a>", '<a href="data:text/html,x">',
    "<noscript>", "</noscript>", "<template>", "</template>", "<svg>", "</svg>",
    "<svg><text>", "</text>", "<math>", "</math>", "<mi>", "<script>", "</script>",
    "<style>", "</style>", '<iframe src="x">', "</iframe>", "<select>", "<option>",
    "<object>", "</object>", "<xmp>", "</xmp>", "<title>", "<dl>", "<dt>", "<dd>",
    "<figure>", "<figcaption>", "</figure>", "<!--", "-->", "<![CDATA[", "]]>", "</body>",
    "<html>", "<frameset>", "<plaintext>", '<div class="x">', "<section>", "</section>",
]  # fmt: skip


def _generated_bodies(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bodies = []
    for number in range(count):
        parts: list[str] = []
        for sentence in range(rng.randint(1, 14)):
            parts.extend(rng.choice(_TOKENS) for _ in range(rng.randint(0, 3)))
            parts.append(f" Sentence {sentence} of body {number} goes here. ")
        parts.extend(rng.choice(_TOKENS) for _ in range(rng.randint(0, 2)))
        bodies.append("".join(parts))
    return bodies


def test_generated_broken_markup_keeps_every_sentence_chromium_shows(chromium_path: Path) -> None:
    bodies = _generated_bodies(600, seed=15)
    visible = _visible_texts(chromium_path, bodies)
    shown = 0
    failures = []
    for body, text in zip(bodies, visible, strict=True):
        extracted = extract_body(body, BASE, "Title")
        shown += sum(1 for _ in _sentences(text))
        lost = _lost(text, extracted, "Title")
        if lost:
            failures.append((body, lost, extracted.body_html))
    assert shown > 1000, "the generated bodies show sentences in Chromium"
    assert not failures, failures[:5]


# ---------------------------------------------------------------------------- corpus
def _corpus_items(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, str, ExtractedBody]]:
    """(feed, raw body, title, extracted) for every item the ingest reads from the corpus: the
    real :func:`extract_story` is called by the real feed pipeline, and each body it is given
    recorded with what the pipeline stores of it (the story after sanitising)."""
    calls: list[tuple[str, Any, str, ExtractedBody]] = []
    current = {"feed": ""}

    def recording(
        markup: str | None, base_url: str | None = None, title: str | None = None
    ) -> ExtractedBody:
        calls.append(
            (current["feed"], markup or "", title or "", extract_body(markup, base_url, title))
        )
        return extract_story(markup, base_url, title)

    monkeypatch.setattr(pipeline, "extract_story", recording)
    for path in sorted(CORPUS.iterdir()):
        if path.suffix in (".md",) or not path.is_file():
            continue
        current["feed"] = path.name
        parse_feed(path.read_bytes(), path.name)
    return calls


def test_every_corpus_sentence_chromium_shows_is_kept(
    chromium_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _corpus_items(monkeypatch)
    assert len(items) > 400, "every corpus item is read"
    visible = _visible_texts(chromium_path, [markup for _, markup, _, _ in items])
    shown = 0
    failures = []
    for (feed, _, title, extracted), text in zip(items, visible, strict=True):
        shown += sum(1 for _ in _sentences(text))
        lost = _lost(text, extracted, title)
        if lost:
            failures.append((feed, title, lost))
    assert shown > 5000, "the corpus bodies show sentences in Chromium"
    assert not failures, failures[:10]
