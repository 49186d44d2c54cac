"""The text rules every layer shares, each written once (pure).

- :func:`normalise_space`: runs of whitespace (any Unicode space: newline, tab, NBSP,
  ideographic space) become one ASCII space, and the ends are trimmed. Titles, names, captions,
  notes, bylines and excerpts all go through it.
- :func:`stored_html_text`: the visible text of HTML that ingest stored (sanitised, so already
  parsed as a browser parses it), whitespace normalised. Markup from outside is turned into
  text by :func:`distributor.ingest.sanitise.html_to_text` instead, which parses it as a browser
  does first; on stored HTML the two agree (``tests/unit/test_text.py``).
"""

from __future__ import annotations

import lxml.html


def normalise_space(text: str | None) -> str:
    """Collapse runs of whitespace (newlines, tabs, NBSP) to single spaces and trim."""
    if not text:
        return ""
    # The usual case, a text that is already normal, is kept as it is: " " is the only
    # character both printable and a space to str.split() (tested over every code point), so
    # a printable text with no doubled, leading or trailing " " has nothing to collapse. The
    # test is several times cheaper than splitting into words and joining them again.
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    # str.split() splits on every Unicode space (NBSP, ideographic space).
    return " ".join(text.split())


def stored_html_text(fragment: str) -> str:
    """The visible text of a stored (sanitised) HTML fragment, whitespace normalised."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return normalise_space(root.text_content())
