"""Sanitising article HTML on the way in (nh3, an allow-list).

Everything stored in ``articles.body_html`` has been through :func:`sanitise_html`, so no output
(email, feed, partner push) ever carries executable content; in the feed pipeline
(:mod:`distributor.ingest.pipeline`) that is stage 5, :func:`sanitise_story`. The policy:

- **Kept**: article structure: headings, paragraphs, line breaks, lists, blockquote, pre/code,
  emphasis, figure/figcaption, tables, plain ``div``/``span`` wrappers, ``img`` (src, alt,
  title, width, height), ``a`` (href, title, hreflang).
- **Removed with their content**: script, style, iframe, object, embed, form and its
  controls, noscript, template, svg, math, frames, audio/video players.
- **Removed, text kept**: every other element (unknown tags, ``font``, custom elements).
- **Attributes**: only the ones above plus ``lang``/``dir``. Every event handler (``on*``),
  ``style`` (no CSS expressions), ``class``/``id`` and ``data-*`` go.
- **URLs**: only ``http``, ``https`` and ``mailto`` survive. ``javascript:``, ``vbscript:``,
  ``data:`` (including inline images: email clients block them and they hide payloads) and
  every other scheme are dropped, whatever their encoding (entities, case, whitespace,
  control characters: html5ever decodes them first). Relative URLs are made absolute against
  the article's base URL; without a base they are dropped.
- Links get ``rel="noopener noreferrer"``. A link whose URL was dropped (or that never had
  one) becomes its plain text: an ``<a>`` without ``href`` is no link.
- **Parsing**: nh3 parses with html5ever, the WHATWG algorithm browsers use. Story bodies
  reach it already parsed that way by :mod:`distributor.ingest.parsing` (scripting off,
  foreign content reduced to its text, unclosed raw-text elements closed before the story)
  and cut down by the extraction passes; the sanitiser removes the dangerous elements of that
  tree, never the text a browser shows outside them.

Pure: no I/O.
"""

from __future__ import annotations

import html as html_lib
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree

from distributor.domain.text import normalise_space
from distributor.ingest.parsing import parse_fragment

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
        "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
        "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "time", "tr", "u", "ul", "wbr",
    }
)  # fmt: skip

# Removed together with everything inside them.
REMOVED_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "applet", "form", "input", "button",
        "select", "textarea", "option", "noscript", "template", "svg", "math", "frame",
        "frameset", "noembed", "noframes", "audio", "video", "canvas", "dialog", "head",
        "title", "meta", "link", "base",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "dir"},
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    # No ``cite``: ammonia does not check its scheme, and nobody reads it.
    "del": {"datetime"},
    "ins": {"datetime"},
    "time": {"datetime"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
}

URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_EMPTY_BLOCKS = re.compile(r"<(p|div|span|figure|figcaption)>\s*(?:<br>\s*)*</\1>")
# Control characters, spaces and DEL: removed from URLs kept as data.
_URL_INVISIBLE = re.compile("[\x00-\x20\x7f]")
# What urljoin does something with beyond keeping the path: query, fragment, parameters, and
# the characters urlsplit strips or removes.
_JOIN_SLOW_PATH = re.compile("[?#;\x00-\x20\x7f]")


def _policy() -> dict[str, Any]:
    """The nh3 options of the allow-list above (the relative-URL policy aside)."""
    return {
        "tags": set(ALLOWED_TAGS),
        "clean_content_tags": set(REMOVED_WITH_CONTENT),
        "attributes": ALLOWED_ATTRIBUTES,
        "url_schemes": set(URL_SCHEMES),
        "link_rel": "noopener noreferrer",
        "strip_comments": True,
    }


# nh3 builds its allow-list anew on every ``nh3.clean`` call (about a third of the cost of
# sanitising a typical body); two reusable cleaners with the same policy spare that:
# - without a usable base, relative URLs are denied: the same option as before;
# - with one, relative URLs are resolved by :func:`_rebase`, which takes only the case whose
#   result is certain (a plain root-relative path against a plain http(s) origin: the base's
#   scheme and host followed by the path, as ammonia's ``rewrite_with_base`` gives) and
#   otherwise marks the call, which is then redone with ``nh3.clean`` and that base, exactly
#   as before. The allow-list itself is the same in all three.
class _RebaseState(threading.local):
    origin = ""  # "https://host" of the current call's base
    unsure = False  # a relative URL outside the certain case was seen


_REBASE = _RebaseState()
# A base whose origin the WHATWG URL parser serialises as written: lower-case http(s), no
# user, no port, lower-case ASCII labels without outer hyphens (no IDNA "xn--"), the last
# one starting with a letter (so never read as an IPv4 address), then the path, query,
# fragment or nothing. Other bases take the old path (where nh3 rejects invalid ones).
_PLAIN_BASE = re.compile(
    r"(https?://(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?:[/?#]|$)"
)
# A root-relative path the URL parser keeps as it is: no "//" start (scheme-relative), no dot
# segments, no query or fragment, nothing it would percent-encode, remove or decode.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_~-][A-Za-z0-9/_.~-]*")


def _rebase(url: str) -> str | None:
    """``url`` (relative) joined to the current base when certain; else mark the call."""
    origin = _REBASE.origin
    if origin and "/." not in url and "//" not in url and _PLAIN_PATH.fullmatch(url):
        return origin + url
    _REBASE.unsure = True
    return None


_DENY_RELATIVE = nh3.Cleaner(url_relative="deny", **_policy())
_REBASE_RELATIVE = nh3.Cleaner(url_relative=_rebase, **_policy())


def _clean(markup: str, base_url: str | None) -> str:
    """``markup`` through the allow-list, relative URLs resolved against ``base_url`` (an
    http(s) URL) or, without one, dropped."""
    if not base_url or not is_http_url(base_url):
        return _DENY_RELATIVE.clean(markup)
    plain = _PLAIN_BASE.match(base_url) if "xn--" not in base_url else None
    if plain is None:  # e.g. a port, upper case, IDNA; or not a valid URL (nh3 raises)
        return nh3.clean(markup, url_relative=("rewrite_with_base", base_url), **_policy())
    _REBASE.origin = plain.group(1)
    _REBASE.unsure = False
    try:
        cleaned = _REBASE_RELATIVE.clean(markup)
        unsure = _REBASE.unsure
    finally:
        _REBASE.origin = ""
        _REBASE.unsure = False
    if not unsure:
        return cleaned
    return nh3.clean(markup, url_relative=("rewrite_with_base", base_url), **_policy())


@dataclass(frozen=True, slots=True)
class SanitisedStory:
    """Stage 5 of the feed pipeline's output: what of one story may be stored as it is."""

    body_html: str
    dek: str | None


# A dek is a standfirst, not a second body: a longer summary is cut at a word.
MAX_DEK_CHARS = 600


def sanitise_story(story_markup: str, summary_markup: str, base_url: str) -> SanitisedStory:
    """Stage 5 of the feed pipeline: the extracted story markup through the allow-list (URLs
    resolved against the story's link ``base_url``) and the summary as a plain-text dek."""
    dek = html_to_text(summary_markup) or None
    if dek and len(dek) > MAX_DEK_CHARS:
        dek = dek[: MAX_DEK_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return SanitisedStory(body_html=sanitise_html(story_markup, base_url), dek=dek)


def sanitise_html(markup: str, base_url: str | None = None) -> str:
    """Return ``markup`` reduced to the allow-list, with every URL absolute (see module doc)."""
    if not markup or not markup.strip():
        return ""
    cleaned = _unwrap_dead_links(_clean(markup, base_url))
    # Removing chrome often leaves empty wrappers; two passes catch one level of nesting (a pass
    # that removed nothing leaves nothing for the next).
    for _ in range(2):
        cleaned, removed = _EMPTY_BLOCKS.subn("", cleaned)
        if not removed:
            break
    return cleaned.strip()


# An <a> start tag as html5ever serialises it (every ">" in a value escaped) or its end tag.
_LINK_TAG = re.compile(r"<a(?:\s[^>]*)?>|</a>")
# An <a> start tag without href (a cheap test before the substitution).
_DEAD_LINK = re.compile(r'<a(?=[\s>])(?:(?! href=")[^>])*>')


def _unwrap_dead_links(cleaned: str) -> str:
    """``cleaned`` (sanitiser output) with every ``<a>`` that has no ``href`` replaced by its
    content."""
    if _DEAD_LINK.search(cleaned) is None:
        return cleaned
    dead: list[bool] = []  # one per open <a>: dropped or kept (links nest in tables)

    def replace(match: re.Match[str]) -> str:
        tag = match.group(0)
        if tag == "</a>":
            return "" if dead and dead.pop() else tag
        without_href = ' href="' not in tag
        dead.append(without_href)
        return "" if without_href else tag

    return _LINK_TAG.sub(replace, cleaned)


def is_http_url(url: str | None) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not url:
        return False
    lowered = url.strip().lower()
    return (
        (lowered.startswith(("http://", "https://")))
        and len(lowered.split("/")) > 2
        and bool(lowered.split("/")[2])
    )


def safe_url(url: str | None, base_url: str | None = None) -> str | None:
    """An absolute http(s) URL for ``url`` (resolved against ``base_url``), or None.

    Used for the URLs kept as data (canonical link, image URLs), which never pass through
    :func:`sanitise_html`.
    """
    if not url:
        return None
    # Control characters and whitespace inside a URL are how "java\tscript:" hides.
    candidate = _URL_INVISIBLE.sub("", html_lib.unescape(url))
    if not candidate:
        return None
    if candidate.startswith("//"):
        scheme = (base_url or "https:").split(":", 1)[0] if base_url else "https"
        candidate = f"{scheme}:{candidate}"
    elif base_url and ":" not in candidate.split("/", 1)[0]:
        candidate = join_url(base_url, candidate)
    return candidate if is_http_url(candidate) else None


def join_url(base_url: str, url: str) -> str:
    """``urljoin(base_url, url)``, with its most common case taken directly: a path from the
    root ("/images/1.jpg") with no query, fragment, parameters or dot segments against an
    http(s) base is the base's scheme and host followed by that path (tested against urljoin).
    """
    if url[:1] == "/" and url[1:2] != "/" and "/." not in url and not _JOIN_SLOW_PATH.search(url):
        base = urlsplit(base_url)  # cached by urllib: the same base serves all of an article
        if base.scheme in ("http", "https") and base.netloc:
            return f"{base.scheme}://{base.netloc}{url}"
    return urljoin(base_url, url)


def html_to_text(markup: str | None) -> str:
    """The visible text of an HTML fragment, whitespace-normalised, parsed as a browser parses
    it (:func:`~distributor.ingest.parsing.parse_fragment`; scripts and styles dropped)."""
    if not markup or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        return normalise_space(markup)
    fragment = parse_fragment(markup)
    etree.strip_elements(fragment, *_NOT_DISPLAYED, with_tail=False)
    text: str = etree.tostring(fragment, method="text", encoding="unicode")
    return normalise_space(text)


# What parse_fragment keeps that shows no text (its content is code or data).
_NOT_DISPLAYED = ("script", "style", "iframe", "noembed", "noframes", "title")


def plain_text(value: str | None) -> str:
    """A title or name as plain text: tags removed, entities decoded, whitespace collapsed."""
    if not value:
        return ""
    text = html_to_text(value) if ("<" in value or "&" in value) else value
    return normalise_space(text)
