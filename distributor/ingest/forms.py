"""The words stories use around their text, in every shipped language, as data.

A newsroom CMS writes credits, bylines, bio headings and notes in the story's language:
"Photo: Jane Doe", "攝影：王小明", "تصوير: أحمد علي"; "By Jane Doe", "Por Ana Ruiz", "بقلم سارة";
"About the author", "關於作者", "À propos de l'autrice", "عن الكاتبة"; "*Names have been
changed", "應受訪者要求，文中人名皆為化名", "Les prénoms ont été modifiés". Those forms are
not in the extractor's code but in one table per language beside its catalogue,
``distributor/locale/<locale>/ingest.toml``; :func:`ingest_forms` reads every table once per
process and builds the matchers the extraction passes use. All languages are tried on every
story (a story's declared language may be wrong); each form is specific enough to its language
for that to be safe. Adding a language is adding its table.

Table format (every key is optional; each value is a list of strings, one form each, written as
a reader sees it, without the colon or separator that follows it):

- ``[credit]`` the credit at the end of a caption line: ``labels`` (then a colon and the
  credit: "Photo" in "Photo: Jane Doe"), ``slashed`` (then "/" or "／": "圖" in "圖／中央社"),
  ``by`` (then a space and the credit: "Photo by"), ``by_name`` (as ``by``, only when the
  credit starts with a capital letter or a digit: "Foto de Ana", not "Foto de la playa"),
  ``courtesy`` (kept in the credit: "Courtesy of the family"), ``agencies`` (a closing
  parenthesis naming one is a credit: "(Reuters)"; a name in ASCII letters must start a word,
  and one of three letters or fewer must be a whole word), ``copyright`` ("©", "Copyright");
- ``[byline]`` among the first blocks of a body: ``by``/``by_name`` (then a space and the
  names: "By Jane Doe", "Por Ana Ruiz"), ``labels`` (then a colon: "作者：张三"), ``slashed``
  (then "|", "｜", "/" or "／": "文／張三"), ``joiners`` (words between two names: "and", "y");
- ``[bio]`` ``headings``: a heading before an author's bio ("About the author"), or the start
  of a paragraph "About the author: …";
- ``[note]`` notes that travel with the story: ``labels`` (at the start of a paragraph, then a
  colon: "Editor's note"), ``starts`` (at the start, nothing needed after: "编者按"),
  ``phrases`` (anywhere in a short paragraph: "names have been changed"), ``end_labels`` (at
  the start of one of the last paragraphs, then a colon: "Note");
- ``[reprint]`` the credit block ending a reprinted story ("本文作者：X / 作者简介：Y / 原文链接：
  Z"), line labels each followed by a colon: ``authors``, ``bios``, ``links`` (these also
  start a new line when run in) and ``sources``.

How a form matches: case is ignored; a space matches one or more spaces (in ``labels``,
``slashed`` and reprint labels also none: "Photo credit" matches "Photocredit:"); an
apostrophe (' ’ ʼ) matches any of them or none; a ZWNJ (U+200C) matches a ZWNJ, a space or
nothing; the Arabic-script letter variants ی ي ى and ک ك match each other (Persian typed on an
Arabic keyboard; hamza forms of alef are distinct letters: list both spellings when both are
usual); a colon is ":", "：" or "﹕", with or without a space before it (French typography).

A malformed table (TOML syntax, an unknown section or key, a value that is not a list of
non-empty strings) raises :class:`FormsError` naming the file and the key.

The extractor runs cheap substring tests before its regexes (:meth:`Hints.may_hold`); the
hints are derived here from the forms, so they always agree with the patterns (tested).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
TABLE_NAME = "ingest.toml"

# Section -> the keys it may hold.
SCHEMA: dict[str, tuple[str, ...]] = {
    "credit": ("labels", "slashed", "by", "by_name", "courtesy", "agencies", "copyright"),
    "byline": ("by", "by_name", "labels", "slashed", "joiners"),
    "bio": ("headings",),
    "note": ("labels", "starts", "phrases", "end_labels"),
    "reprint": ("authors", "bios", "links", "sources"),
}

COLON = "[:：﹕]"
# What may follow a byline's "slashed" label, and a caption credit's.
BYLINE_SLASH = "[|｜/／]"
CREDIT_SLASH = "[/／]"
# A capital letter or digit (for ``by_name`` forms), case-sensitively.
CAPITAL = (
    "(?-i:[A-Z0-9\u00c0-\u00d6\u00d8-\u00de\u0100\u0102\u0104\u0106\u0108\u010c\u010e\u0110"
    "\u0112\u0118\u011a\u0141\u0143\u0147\u0150\u0152\u0158\u015a\u0160\u0164\u016a\u016e"
    "\u0170\u0178\u0179\u017b\u017d])"
)

_APOSTROPHES = "'’ʼ"
_ZWNJ = "\u200c"
# Letters written more than one way in Arabic script, each matching the others.
_VARIANTS = ("یيى", "کك")
_VARIANT_CLASS = {letter: f"[{group}]" for group in _VARIANTS for letter in group}
_SPECIAL = frozenset(_APOSTROPHES + _ZWNJ)

# Letters a case-insensitive pattern matches although they do not lower-case to the letter of
# the form, as they appear in a lower-cased text: "ı" and "ſ" (matched by "i" and "s") and the
# combining dot of "İ".lower(). A text holding one runs the patterns whatever its hints say
# (tested over every code point for every letter of every hint).
ODD_LOWERED = ("ı", "ſ", "\u0307")
# The upper- and lower-case forms do not give these (first letters of anchored forms).
_ODD_EQUIVALENTS = {"i": "İı", "s": "ſ", "k": "\u212a", "å": "\u212b"}


class FormsError(ValueError):
    """A form table that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class FormTable:
    """One language's table, checked: section -> key -> forms."""

    source: str
    sections: Mapping[str, Mapping[str, tuple[str, ...]]]

    def get(self, section: str, key: str) -> tuple[str, ...]:
        return self.sections.get(section, {}).get(key, ())


def parse_table(text: str, source: str) -> FormTable:
    """Check one table's TOML ``text`` (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormsError(f"{source}: not valid TOML: {exc}") from exc
    sections: dict[str, dict[str, tuple[str, ...]]] = {}
    for section, keys in data.items():
        if section not in SCHEMA:
            known = ", ".join(SCHEMA)
            raise FormsError(f"{source}: unknown section [{section}] (known: {known})")
        if not isinstance(keys, dict):
            raise FormsError(f"{source}: {section} must be a table ([{section}])")
        checked: dict[str, tuple[str, ...]] = {}
        for key, value in keys.items():
            where = f"{source}: [{section}] {key}"
            if key not in SCHEMA[section]:
                raise FormsError(f"{where}: unknown key (known: {', '.join(SCHEMA[section])})")
            if not isinstance(value, list):
                raise FormsError(f"{where}: must be a list of strings")
            forms: list[str] = []
            for index, form in enumerate(value):
                if not isinstance(form, str) or not form.strip():
                    raise FormsError(f"{where}[{index}]: must be a non-empty string")
                if form != form.strip() or "  " in form:
                    raise FormsError(f"{where}[{index}]: {form!r} has extra spaces")
                forms.append(form)
            checked[key] = tuple(forms)
        sections[section] = checked
    return FormTable(source, sections)


def read_tables(directory: Path = LOCALE_DIR) -> list[FormTable]:
    """Every ``<locale>/ingest.toml`` under ``directory``, by locale name."""
    tables = []
    for path in sorted(directory.glob(f"*/{TABLE_NAME}")):
        source = f"{path.parent.name}/{TABLE_NAME}"
        tables.append(parse_table(path.read_text(encoding="utf-8"), source))
    return tables


# ------------------------------------------------------------------ building patterns
def form_pattern(form: str, *, loose_spaces: bool = False) -> str:
    """The regex source matching ``form`` as the module doc says (no flags, no anchors)."""
    parts: list[str] = []
    for character in form:
        if character == " ":
            parts.append(r"\s*" if loose_spaces else r"\s+")
        elif character in _APOSTROPHES:
            parts.append("['’ʼ]?")
        elif character == _ZWNJ:
            parts.append(r"(?:\u200c|\s)?")
        elif character in _VARIANT_CLASS:
            parts.append(_VARIANT_CLASS[character])
        else:
            parts.append(re.escape(character))
    return "".join(parts)


def alternation(forms: Iterable[str], *, loose_spaces: bool = False) -> str:
    """``(?:a|b|…)`` of the forms, longest first (so a form is never cut short by a shorter
    one it starts with); ``(?!)`` (never matches) when there are none."""
    unique = sorted({f.casefold(): f for f in forms}.values(), key=lambda f: (-len(f), f))
    if not unique:
        return "(?!)"
    return "(?:" + "|".join(form_pattern(f, loose_spaces=loose_spaces) for f in unique) + ")"


def _agency_pattern(name: str) -> str:
    core = form_pattern(name)
    if name.isascii() and name[:1].isalnum():
        core = r"\b" + core
        if len(name) <= 3 and name[-1:].isalnum():
            core += r"\b"
    return core


def _pieces(form: str, *, loose_spaces: bool, words: bool) -> list[str]:
    """Pieces of ``form``, lower-cased, each of which every text the form's pattern matches
    holds as it is (once lower-cased): runs of whole words of the form without a character
    that may be left out (a space in ``loose_spaces`` forms, or any space when ``words``, an
    apostrophe, a ZWNJ) and with at most one Arabic-script letter variant."""
    pieces: list[str] = []
    separator = "[" + re.escape("".join(_SPECIAL)) + ("]| " if loose_spaces or words else "]")
    for run in re.split(separator, form.lower()):
        run_words = run.split(" ")
        for first in range(len(run_words)):
            for last in range(first + 1, len(run_words) + 1):
                piece = _one_variant_at_most(" ".join(run_words[first:last]))
                if piece:
                    pieces.append(piece)
    return pieces


def _one_variant_at_most(piece: str) -> str:
    """``piece``, or its longest stretch holding one Arabic-script letter variant at most (a
    hint is looked for in each spelling: two variants would make nine)."""
    variants = [index for index, character in enumerate(piece) if character in _VARIANT_CLASS]
    if len(variants) <= 1:
        return piece
    bounds = [-1, *variants, len(piece)]
    stretches = (piece[bounds[i] + 1 : bounds[i + 2]] for i in range(len(bounds) - 2))
    return max(stretches, key=len)


def _spellings(piece: str) -> list[str]:
    spellings = [""]
    for character in piece:
        group = next((g for g in _VARIANTS if character in g), character)
        spellings = [spelling + letter for spelling in spellings for letter in group]
    return spellings


def _long_enough(piece: str) -> bool:
    """Long enough to be rare in a story's text: 2 Chinese characters, 5 Arabic-script
    letters, else 12 characters."""
    if any("\u3400" <= c <= "\u9fff" for c in piece):
        return len(piece) >= 2
    if any("\u0600" <= c <= "\u06ff" for c in piece):
        return len(piece) >= 5
    return len(piece) >= 12


@dataclass(frozen=True, slots=True)
class Hints:
    """Substrings one of which a text must hold (lower-cased) for some form to match it, and
    for each, the forms that hold it (so a text is matched against those forms only)."""

    words: tuple[str, ...]
    always: bool = False  # a form with nothing to look for: every text may match
    forms_of: tuple[tuple[int, ...], ...] = ()  # for each word, the indexes of its forms

    @classmethod
    def of(cls, forms: Iterable[str], *, loose_spaces: bool = False, words: bool = False) -> Hints:
        """The hints of ``forms``; ``words``: one word of each (fewer hints, found more often:
        for patterns cheap enough to run on a false alarm)."""
        # Few hints are fewer tests per text: a piece several forms share ("been changed")
        # stands for them all (greedy: the piece most forms hold first, the longest on a tie).
        candidates: list[set[str]] = []
        for form in forms:
            pieces = _pieces(form, loose_spaces=loose_spaces, words=words)
            if not pieces:
                return cls((), always=True)
            chinese = {
                piece[start:end]
                for piece in pieces
                if _CJK.search(piece)
                for start in range(len(piece))
                for end in range(start + 2, len(piece) + 1)
                if _CJK.fullmatch(piece[start:end])
            }
            if chinese:
                # Chinese is written without spaces: any two characters of it will do ("作者"
                # stands for "关于作者", "作者简介", "關於作者"...).
                candidates.append(chinese)
                continue
            if words:
                # One word each: the last (a heading ends with its noun: "About the author",
                # "Sobre el autor", "عن الكاتبة", "درباره‌ی نویسنده").
                candidates.append({pieces[-1]})
                continue
            long = {p for p in pieces if _long_enough(p)}
            candidates.append(long or {max(pieces, key=len)})
        chosen: dict[str, set[int]] = {}
        uncovered = list(range(len(candidates)))
        while uncovered:
            counts: dict[str, int] = {}
            for index in uncovered:
                for piece in candidates[index]:
                    counts[piece] = counts.get(piece, 0) + 1
            best = max(counts, key=lambda p: (counts[p], len(p), p))
            covered = {i for i in uncovered if best in candidates[i]}
            for spelling in _spellings(best):
                chosen.setdefault(spelling, set()).update(covered)
            uncovered = [i for i in uncovered if i not in covered]
        # A hint holding another is found whenever the other is: keep the shorter (with the
        # forms of both).
        kept: dict[str, set[int]] = {}
        for word, indexes in chosen.items():
            shorter = [o for o in chosen if o != word and o in word]
            for target in shorter or [word]:
                if not any(o != target and o in target for o in chosen):
                    kept.setdefault(target, set()).update(indexes)
        ordered = sorted(kept)
        return cls(tuple(ordered), forms_of=tuple(tuple(sorted(kept[w])) for w in ordered))

    def may_hold(self, lowered: str) -> bool:
        """False when no form can match the text whose ``.lower()`` is ``lowered``."""
        if self.always:
            return True
        for word in self.words:
            if word in lowered:
                return True
        return has_odd_letters(lowered)

    def for_scripts(self, scripts: frozenset[str]) -> Hints:
        """These hints for a story written in ``scripts`` (see :func:`scripts_of`): the words
        in another script are left out (a text cannot hold them)."""
        if self.always:
            return self
        keep = [index for index, word in enumerate(self.words) if _scripts_of_word(word) <= scripts]
        return Hints(
            tuple(self.words[index] for index in keep),
            forms_of=tuple(self.forms_of[index] for index in keep) if self.forms_of else (),
        )


# Scripts whose hints are left out of stories without a character of them (a cheap scan of
# the whole story spares testing every paragraph for them).
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
SCRIPT_SETS = tuple(
    frozenset(s) for s in ((), ("cjk",), ("arabic",), ("cjk", "arabic"))
)  # fmt: skip


def scripts_of(text: str) -> frozenset[str]:
    """Which of the scripts that have hints of their own ``text`` holds a character of."""
    cjk = _CJK.search(text) is not None
    arabic = _ARABIC.search(text) is not None
    return SCRIPT_SETS[cjk + 2 * arabic]


def _scripts_of_word(word: str) -> frozenset[str]:
    return scripts_of(word)


def has_odd_letters(lowered: str) -> bool:
    """Whether ``lowered`` holds a letter of :data:`ODD_LOWERED`."""
    for odd in ODD_LOWERED:  # noqa: SIM110 - a loop is cheaper than any() for a few
        if odd in lowered:
            return True
    return False


@dataclass(frozen=True, slots=True)
class PhraseIndex:
    """Phrases found anywhere in a text: one pattern of all of them (for a text with an odd
    letter, or to read), and one per hint, of the phrases holding that hint. A text is
    searched only with the patterns of the hints it holds: far cheaper than searching every
    position of it for every phrase."""

    hints: Hints
    every: re.Pattern[str]
    by_hint: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, phrases: list[str], flags: re.RegexFlag) -> PhraseIndex:
        hints = Hints.of(phrases)
        return cls(
            hints,
            re.compile(alternation(phrases), flags),
            tuple(
                re.compile(alternation([phrases[i] for i in indexes]), flags)
                for indexes in hints.forms_of
            ),
        )

    def search(self, text: str, lowered: str) -> bool:
        """Whether a phrase is in ``text`` (``lowered`` is ``text.lower()``)."""
        hints = self.hints
        if hints.always or has_odd_letters(lowered):
            return self.every.search(text) is not None
        for index, word in enumerate(hints.words):
            if word in lowered and self.by_hint[index].search(text):
                return True
        return False

    def for_scripts(self, scripts: frozenset[str]) -> PhraseIndex:
        """This index for a story written in ``scripts`` (see :meth:`Hints.for_scripts`)."""
        hints = self.hints.for_scripts(scripts)
        if hints.always:
            return self
        by_hint = dict(zip(self.hints.words, self.by_hint, strict=True))
        return PhraseIndex(hints, self.every, tuple(by_hint[word] for word in hints.words))


def first_characters(forms: Iterable[str]) -> frozenset[str]:
    """Every character a text matched (case-insensitively) by one of ``forms`` may start with
    (a form starting with an apostrophe or a ZWNJ, which may be left out, may also start with
    what follows it); texts are whitespace-normalised."""
    found: set[str] = set()
    for form in forms:
        for position, first in enumerate(form):
            if first in _APOSTROPHES:
                found.update(_APOSTROPHES)
            elif first == _ZWNJ:
                found.add(_ZWNJ)  # (or a space: never the start of a whitespace-normalised text)
            group = next((g for g in _VARIANTS if first in g), first)
            for character in group:
                found.update({character, character.lower(), character.upper()})
                found.update(_ODD_EQUIVALENTS.get(character.lower(), ""))
            if (first not in _APOSTROPHES and first != _ZWNJ) or position == len(form) - 1:
                break
    return frozenset(c for c in found if len(c) == 1)


# A credit label may start at the beginning, or after a sentence end or a separator.
CREDIT_BOUNDARY = r"(?:^|(?<=[\s.!?;:,。！？；，、|｜(（\[【—–\-،؛؟۔]))"
_CREDIT_END = r"\s*[)\]）】]?\s*[.。]?\s*$"


@dataclass(frozen=True, slots=True)
class IngestForms:
    """The matchers built from every table (see the module doc for what each form is)."""

    # caption credits (distributor.ingest.credits)
    credit_labelled: re.Pattern[str]
    label_reach: int  # how far before its colon a labelled credit may start
    credit_slashed: re.Pattern[str]
    credit_by: re.Pattern[str]
    credit_by_hints: Hints
    credit_courtesy: re.Pattern[str]
    credit_courtesy_hints: Hints
    agency_paren: re.Pattern[str]
    copyright_lead: re.Pattern[str]
    copyright_hints: Hints
    # bylines
    byline: re.Pattern[str]
    byline_labelled: re.Pattern[str]
    name_split: re.Pattern[str]
    # bios
    bio_heading: re.Pattern[str]
    bio_inline: re.Pattern[str]
    bio_hints: Hints
    bio_hints_by_scripts: dict[frozenset[str], Hints]
    # notes: a label or start at the start, or a phrase anywhere
    note_start: re.Pattern[str]
    note_first: frozenset[str]
    note_phrases: PhraseIndex
    note_phrases_by_scripts: dict[frozenset[str], PhraseIndex]
    end_note: re.Pattern[str]
    # the reprint credit block
    reprint_line: re.Pattern[str]
    reprint_run_in: re.Pattern[str]
    reprint_hints: Hints


def build_forms(tables: Iterable[FormTable]) -> IngestForms:
    """The matchers of ``tables`` (pure)."""
    tables = list(tables)

    def every(section: str, key: str) -> list[str]:
        return [form for table in tables for form in table.get(section, key)]

    flags = re.IGNORECASE
    labels = every("credit", "labels")
    slashed = every("credit", "slashed")
    by = every("credit", "by")
    by_name = every("credit", "by_name")
    courtesy = every("credit", "courtesy")
    copyright_forms = every("credit", "copyright")
    open_bracket = r"[(\[（【]?\s*"
    credit_labelled = re.compile(
        CREDIT_BOUNDARY + open_bracket + "(?P<label>" + alternation(labels, loose_spaces=True)
        + r")\s*" + COLON + r"\s*(?P<credit>[^\n]+?)" + _CREDIT_END,
        flags,
    )  # fmt: skip
    credit_slashed = re.compile(
        CREDIT_BOUNDARY + open_bracket + "(?P<label>" + alternation(slashed, loose_spaces=True)
        + r")\s*" + CREDIT_SLASH + r"\s*(?P<credit>[^\n/／]+?)" + _CREDIT_END,
        flags,
    )  # fmt: skip
    by_forms = [alternation(by) + r"\s+"]
    if by_name:
        by_forms.append(alternation(by_name) + r"\s+(?=" + CAPITAL + ")")
    credit_by = re.compile(
        CREDIT_BOUNDARY + r"[(\[（]?\s*(?:" + "|".join(by_forms) + r")(?P<credit>[^\n]+?)"
        r"\s*[)\]）]?\s*[.。]?\s*$",
        flags,
    )
    credit_courtesy = re.compile(
        CREDIT_BOUNDARY + r"[(\[（]?\s*(?P<credit>" + alternation(courtesy) + r"\s+[^\n]+?)"
        r"\s*[)\]）]?\s*[.。]?\s*$",
        flags,
    )
    agencies = "|".join(
        _agency_pattern(name)
        for name in sorted(set(every("credit", "agencies")), key=lambda n: (-len(n), n))
    )
    # The slash of "(Name/Agency)" and "(AP Photo/Name)"; a slash between two digits is a date
    # or a version list ("Windows 7/8/10"), and a parenthesis holding a "。" is a sentence.
    agency_paren = re.compile(
        r"[(（](?P<credit>[^()（）。]*(?:(?<!\d)/|/(?!\d)" + (f"|{agencies}" if agencies else "")
        + r")[^()（）。]*)[)）]\s*\.?\s*$",
        flags,
    )  # fmt: skip
    copyright_alternatives = "|".join(
        form_pattern(form) + (r"\b" if form[-1:].isalnum() else "")
        for form in sorted(set(copyright_forms), key=lambda f: (-len(f), f))
    )
    copyright_lead = re.compile(
        CREDIT_BOUNDARY + r"(?P<credit>(?:" + (copyright_alternatives or "(?!)")
        + r")\s*[^\s©.][^\n]*?)\s*\.?\s*$",
        flags,
    )  # fmt: skip

    byline_by = [alternation(every("byline", "by"))]
    if every("byline", "by_name"):
        byline_by.append(alternation(every("byline", "by_name")) + r"(?=\s+" + CAPITAL + ")")
    byline = re.compile(r"^(?:" + "|".join(byline_by) + r")\s+(?P<names>[^\n]{2,200})$", flags)
    byline_labelled = re.compile(
        r"^(?:" + alternation(every("byline", "labels"), loose_spaces=True) + r"\s*" + COLON
        + "|" + alternation(every("byline", "slashed"), loose_spaces=True) + r"\s*"
        + BYLINE_SLASH + r")\s*(?P<names>\S.{0,60})$",
        flags,
    )  # fmt: skip
    joiners = every("byline", "joiners")
    words = [j for j in joiners if j[:1].isalnum()]
    signs = [j for j in joiners if not j[:1].isalnum()]
    name_split = re.compile(
        r"\s*(?:,|;|、|，|،|؛"
        + "".join("|" + form_pattern(sign) for sign in signs)
        + "".join(
            f"|(?<![^\\s,;]){'(?-i:' + word + ')' if len(word) == 1 else form_pattern(word)}"
            r"(?![^\s,;])"
            for word in sorted(set(words), key=lambda w: (-len(w), w))
        )
        + r")\s*",
        flags,
    )  # fmt: skip

    headings = every("bio", "headings")
    bio_heading = re.compile(r"^" + alternation(headings) + r"\s*[:：﹕.]?$", flags)
    bio_inline = re.compile(
        r"^" + alternation(headings) + r"\s*" + COLON + r"\s*(?P<bio>\S.*)$",
        flags | re.DOTALL,
    )

    note_labels = every("note", "labels")
    note_starts = every("note", "starts")
    phrases = every("note", "phrases")
    note_start = re.compile(
        r"^(?:" + alternation(note_labels) + r"\s*" + COLON + "|" + alternation(note_starts)
        + ")",
        flags,
    )  # fmt: skip
    end_note = re.compile(
        r"^(?:[*＊]+\s*\S|" + alternation(every("note", "end_labels")) + r"\s*" + COLON + ")",
        flags,
    )

    authors = every("reprint", "authors")
    bios = every("reprint", "bios")
    links = every("reprint", "links")
    sources = every("reprint", "sources")
    reprint_line = re.compile(
        r"^(?:(?P<author>" + alternation(authors, loose_spaces=True) + ")|(?P<bio>"
        + alternation(bios, loose_spaces=True) + ")|(?P<other>"
        + alternation([*links, *sources], loose_spaces=True) + r"))\s*" + COLON
        + r"\s*(?P<value>.*)$",
        flags,
    )  # fmt: skip
    reprint_run_in = re.compile(
        r"\s*(" + alternation([*bios, *links], loose_spaces=True) + r")\s*" + COLON, flags
    )
    reprint_hints = Hints.of([*authors, *bios], loose_spaces=True)
    bio_hints = Hints.of(headings, words=True)
    note_phrases = PhraseIndex.of(phrases, flags)

    return IngestForms(
        credit_labelled=credit_labelled,
        # An opening bracket, a space, the longest label (each pattern character matches one
        # character of a whitespace-normalised line) and a space.
        label_reach=max((len(label) for label in labels), default=0) + 3,
        credit_slashed=credit_slashed,
        credit_by=credit_by,
        credit_by_hints=Hints.of([*by, *by_name]),
        credit_courtesy=credit_courtesy,
        credit_courtesy_hints=Hints.of(courtesy),
        agency_paren=agency_paren,
        copyright_lead=copyright_lead,
        copyright_hints=Hints.of(copyright_forms),
        byline=byline,
        byline_labelled=byline_labelled,
        name_split=name_split,
        bio_heading=bio_heading,
        bio_inline=bio_inline,
        bio_hints=bio_hints,
        bio_hints_by_scripts={scripts: bio_hints.for_scripts(scripts) for scripts in SCRIPT_SETS},
        note_start=note_start,
        note_first=first_characters([*note_labels, *note_starts]),
        note_phrases=note_phrases,
        note_phrases_by_scripts={
            scripts: note_phrases.for_scripts(scripts) for scripts in SCRIPT_SETS
        },
        end_note=end_note,
        reprint_line=reprint_line,
        reprint_run_in=reprint_run_in,
        reprint_hints=reprint_hints,
    )


@cache
def ingest_forms() -> IngestForms:
    """The matchers of every shipped table, built once per process."""
    return build_forms(read_tables(LOCALE_DIR))
