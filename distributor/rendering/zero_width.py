"""Keep invisible and combining characters intact through the MJML renderer (pure).

mjml-python (the MRML engine) writes every attribute value it outputs as a *Rust string
literal* (``format!("{name}={value:?}")``): the value is quoted and escaped with Rust's ``Debug``
rules, not HTML's. Text between tags is copied as it is, but in an attribute value

* every character Rust does not call printable, or that extends a grapheme, becomes the text
  ``\\u{...}``: zero-width non-joiner and joiner (Persian ``می‌خواهم``, emoji such as 👩‍💻),
  LRM/RLM/ALM, bidi embeddings and isolates, word joiner, soft hyphen, every non-breaking
  space, variation selectors (🏳️‍🌈) and every combining mark (Arabic harakat, Devanagari and
  Thai vowel signs...);
* a backslash is doubled, a newline or tab becomes ``\\n``/``\\t`` and a double quote becomes
  ``\\"`` (which ends the attribute early).

The renderer leaves ASCII character references in attribute values alone, so :func:`protect`
writes those characters as numeric character references (``&#x200c;``) in the MJML source
before it is rendered; an HTML reader decodes them to the same characters. Only attribute
values are touched (text between tags is never mangled, and Persian body text keeps its
compact UTF-8), plus the ``<mj-title>``, which MRML copies into the body's ``aria-label``.
Style sheets (``<mj-style>``, ``<style>``) are left as they are: character references mean
nothing there.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that print in Python's view but that Rust escapes too: the Hangul fillers and the
# halfwidth katakana sound marks (found by rendering every code point through mjml-python; a
# test does so again, so a renderer with other tables is noticed).
_ALSO_MANGLED = frozenset("\u115f\u1160\u3164\uffa0\uff9e\uff9f")
# Python's isprintable() is False for Unicode's "Other" and "Separator" categories, as Rust's
# is; Rust also escapes every grapheme extender, which marks (M*) cover.
_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


def is_mangled(character: str) -> bool:
    """Whether the MJML renderer would not write ``character`` as itself in an attribute."""
    if character.isascii():
        return character in '\\"' or not character.isprintable()
    return (
        not character.isprintable()
        or unicodedata.category(character) in _MARK_CATEGORIES
        or character in _ALSO_MANGLED
    )


def _written(code_point: int) -> str:
    """How the character ``code_point`` is written in an attribute value for the renderer."""
    character = chr(code_point)
    if not is_mangled(character):
        return character
    if (code_point < 0x20 and character not in "\t\n\r") or 0x7F <= code_point <= 0x9F:
        # Control characters have no reference (HTML reads &#x80;-&#x9f; as Windows-1252
        # letters) and mean nothing in a title or alt text: they are left out.
        return ""
    return f"&#x{code_point:x};"


class _References(dict[int, str]):
    """A ``str.translate`` table: each character -> how it is written (decided on first
    sight, then remembered)."""

    def __missing__(self, code_point: int) -> str:
        value = self[code_point] = _written(code_point)
        return value


_REFERENCES = _References()

# Characters the renderer keeps, so that a tag made only of them is passed over by one regular
# expression scan (no Python per tag): printable ASCII but "<", ">" and "\" (quotes and "="
# are the tag's own), what the renderer keeps of Latin, Greek, Cyrillic, Hebrew and Arabic,
# general punctuation, CJK symbols and kana and the fullwidth forms (sorted out once, here),
# and the CJK ideographs, which have no mark, format character or gap (a test checks).
_SORTED_BLOCKS = ((0x00A0, 0x06FF), (0x2000, 0x206F), (0x3000, 0x30FF), (0xFF00, 0xFFEF))
_WHOLE_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def _kept_ranges() -> list[tuple[int, int]]:
    ranges = list(_WHOLE_BLOCKS)
    for first, last in _SORTED_BLOCKS:
        start: int | None = None
        for code_point in range(first, last + 1):
            if is_mangled(chr(code_point)):
                if start is not None:
                    ranges.append((start, code_point - 1))
                start = None
            elif start is None:
                start = code_point
        if start is not None:
            ranges.append((start, last))
    return ranges


KEPT_RANGES: tuple[tuple[int, int], ...] = tuple(sorted(_kept_ranges()))
_KEPT = r"\x20-\x3b\x3d\x3f-\x5b\x5d-\x7e" + "".join(
    f"\\u{first:04x}-\\u{last:04x}" for first, last in KEPT_RANGES
)
# A tag with a character the renderer would mangle (a newline between attributes too: only
# the quoted values inside are changed). Attribute values are autoescaped by the templates, so
# they hold no "<", ">" nor a quote of their own kind.
_MANGLED_TAG = re.compile(f"<[{_KEPT}]*+[^<>{_KEPT}][^<>]*>")
_QUOTED_VALUE = re.compile(r"\"[^\"]*\"|'[^']*'")
# Style sheets are left as they are: a character reference means nothing in CSS.
_STYLE_SHEET = re.compile(r"<(?:mj-)?style\b.*?</(?:mj-)?style>", re.S)
_TITLE = "<mj-title>"


def _protect_value(match: re.Match[str]) -> str:
    value = match.group()
    return value[0] + value[1:-1].translate(_REFERENCES) + value[-1]


def _protect_tag(match: re.Match[str]) -> str:
    return _QUOTED_VALUE.sub(_protect_value, match.group())


def _protect_tags(source: str) -> str:
    return _MANGLED_TAG.sub(_protect_tag, source)


def _protect_title(source: str) -> str:
    # MRML copies the title's text into the body's aria-label attribute.
    start = source.find(_TITLE)
    if start < 0:
        return source
    start += len(_TITLE)
    end = source.find("<", start)
    if end < 0:
        end = len(source)
    return source[:start] + source[start:end].translate(_REFERENCES) + source[end:]


def protect(source: str) -> str:
    """``source`` (MJML) with every character the renderer would mangle in an attribute value
    (or the title) written as a numeric character reference; the rest is unchanged."""
    if _MANGLED_TAG.search(source) is not None:  # else (most issues) one scan is all
        parts: list[str] = []
        position = 0
        for sheet in _STYLE_SHEET.finditer(source):
            parts.append(_protect_tags(source[position : sheet.start()]))
            parts.append(sheet.group())
            position = sheet.end()
        parts.append(_protect_tags(source[position:]))
        source = "".join(parts)
    return _protect_title(source)
