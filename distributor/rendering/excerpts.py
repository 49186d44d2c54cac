"""Excerpts of stories for the newsletter: the opening paragraphs, cut to a length (pure).

Length is counted in "words" that are fair across scripts: a Latin-script word counts as one,
a CJK character as half (Chinese has no spaces, and two characters carry about as much as one
English word). Inline photo captions, credit lines and source notes are left out: the email
shows the lead photo's caption and the notes separately and in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import lxml.html
from lxml import etree

from distributor.domain.articles import Article
from distributor.domain.text import normalise_space

ELLIPSIS = "…"

# CJK ideographs, kana, hangul and full-width punctuation: one "half word" each.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
# Punctuation that reads badly right before an ellipsis.
_TRAILING_PUNCTUATION = ",;:、，；：—–-([{（【《“‘\"' "
CREDIT_LINE = re.compile(
    r"^\s*(credit|photo|photo by|image|courtesy of|©|图片来源|摄影|图)\s*[:：]?", re.IGNORECASE
)
_SKIPPED_CONTAINERS = frozenset({"figure", "figcaption", "aside", "table", "nav", "footer"})
STOP_HEADINGS = frozenset({"about the author", "关于作者", "關於作者", "作者简介", "作者簡介"})
HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})


def _is_cjk(token: str) -> bool:
    return len(token) == 1 and re.match(f"[{_CJK}]", token) is not None


def inside_skipped_container(element: etree._Element) -> bool:
    """True when ``element`` sits in a figure, aside, table, nav or footer (not running text)."""
    parent = element.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag.lower() in _SKIPPED_CONTAINERS:
            return True
        parent = parent.getparent()
    return False


def iter_body_paragraphs(article: Article) -> Iterator[str]:
    """The story's running text as plain paragraphs, without captions, credits or notes.

    A generator, so an excerpt only pays for the paragraphs it uses.
    """
    if not article.body_html.strip():
        return
    try:
        root = lxml.html.fragment_fromstring(article.body_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return
    skip = {normalise_space(image.caption) for image in article.images if image.caption}
    skip.update(normalise_space(note) for note in article.notes)
    found = False
    for element in root.iter("p", "blockquote", "li", *HEADINGS):
        tag = str(element.tag).lower()
        if tag in HEADINGS:
            if normalise_space(element.text_content()).lower() in STOP_HEADINGS:
                break
            continue
        if tag != "p" and element.find(".//p") is not None:
            continue  # its paragraphs are visited on their own
        if inside_skipped_container(element):
            continue
        text = normalise_space(element.text_content())
        if not text or text.strip("*· ") == "" or text in skip or CREDIT_LINE.match(text):
            continue
        found = True
        yield text
    if not found:
        text = normalise_space(root.text_content())
        if text:
            yield text


def body_paragraphs(article: Article) -> list[str]:
    """All running-text paragraphs of the story (see :func:`iter_body_paragraphs`)."""
    return list(iter_body_paragraphs(article))


def _cut(text: str, budget: int) -> tuple[str, int, bool]:
    """Cut ``text`` after ``budget`` half-words; return (text, half-words used, truncated)."""
    used = 0
    end = 0
    for match in _TOKEN.finditer(text):
        cost = 1 if _is_cjk(match.group()) else 2
        if used + cost > budget:
            cut = text[:end].rstrip(_TRAILING_PUNCTUATION)
            return cut + ELLIPSIS, used, True
        used += cost
        end = match.end()
    return text, used, False


def make_excerpt(paragraphs: Iterable[str], words: int) -> tuple[str, ...]:
    """The first ``words`` words (a CJK character counts as half a word) as paragraphs.

    The last paragraph ends with an ellipsis when it was cut in the middle.
    """
    budget = max(words, 1) * 2
    out: list[str] = []
    for paragraph in paragraphs:
        if budget <= 0:
            break  # whole paragraphs end naturally; "Continue reading" says there is more
        text, used, truncated = _cut(paragraph, budget)
        if text.strip(ELLIPSIS):
            out.append(text)
        budget -= used
        if truncated:
            break
    return tuple(out)


def article_excerpt(article: Article, words: int) -> tuple[str, ...]:
    """The email excerpt of ``article``: its opening text, else its dek."""
    excerpt = make_excerpt(iter_body_paragraphs(article), words)
    if not excerpt and article.dek:
        excerpt = make_excerpt([normalise_space(article.dek)], words)
    return excerpt
