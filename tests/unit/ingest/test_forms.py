"""The form tables (distributor/locale/<locale>/ingest.toml) and the matchers built from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hanzidentifier import helpers as hanzi

from distributor.i18n import LOCALE_DIR, SHIPPED_LANGUAGES
from distributor.ingest.credits import split_caption
from distributor.ingest.forms import (
    ODD_LOWERED,
    SCHEMA,
    FormsError,
    Hints,
    build_forms,
    form_pattern,
    ingest_forms,
    parse_table,
    read_tables,
)

TABLES = read_tables()
FORMS = ingest_forms()


def _locale_dir(tag: str) -> str:
    return tag.replace("-", "_")


# ------------------------------------------------------------------ the shipped tables
def test_every_shipped_language_has_a_table() -> None:
    sources = {table.source for table in TABLES}
    for tag in SHIPPED_LANGUAGES:
        assert f"{_locale_dir(tag)}/ingest.toml" in sources
        assert (LOCALE_DIR / _locale_dir(tag) / "ingest.toml").is_file()


def test_every_table_has_credit_byline_bio_and_note_forms() -> None:
    for table in TABLES:
        assert table.get("credit", "labels"), table.source
        assert table.get("byline", "by") or table.get("byline", "labels"), table.source
        assert table.get("bio", "headings"), table.source
        assert table.get("note", "labels") or table.get("note", "starts"), table.source
        assert table.get("note", "phrases"), table.source


def test_the_matchers_are_built_once_per_process() -> None:
    assert ingest_forms() is ingest_forms()


def test_the_en_table_documents_the_format() -> None:
    head = (LOCALE_DIR / "en" / "ingest.toml").read_text(encoding="utf-8").split("\n[credit]")[0]
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in head
        for key in keys:
            assert key in head, (section, key)


def test_no_persian_table_form_uses_arabic_yeh_or_kaf() -> None:
    fa = next(table for table in TABLES if table.source.startswith("fa/"))
    for keys in fa.sections.values():
        for forms in keys.values():
            for form in forms:
                assert "ي" not in form, form
                assert "ك" not in form, form


# ------------------------------------------------------------------ malformed tables
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[credit\nlabels = []", r"xx/ingest\.toml: not valid TOML"),
        ("[credits]\nlabels = ['Photo']", r"xx/ingest\.toml: unknown section \[credits\]"),
        ("[credit]\nlabel = ['Photo']", r"xx/ingest\.toml: \[credit\] label: unknown key"),
        ("[credit]\nlabels = 'Photo'", r"xx/ingest\.toml: \[credit\] labels: must be a list"),
        ("[bio]\nheadings = ['About', 3]", r"xx/ingest\.toml: \[bio\] headings\[1\]: must be a"),
        ("[note]\nphrases = ['']", r"xx/ingest\.toml: \[note\] phrases\[0\]: must be a non-empty"),
        ("[note]\nphrases = [' names']", r"\[note\] phrases\[0\]: ' names' has extra spaces"),
        ("credit = 1", r"xx/ingest\.toml: credit must be a table"),
    ],
)
def test_a_malformed_table_names_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(FormsError, match=message):
        parse_table(text, "xx/ingest.toml")


def test_reading_a_folder_names_the_broken_table(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ingest.toml").write_text("[bio]\nheadings = ['About the author']\n")
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "ingest.toml").write_text("[byline]\nby = ['Von', 7]\n")
    with pytest.raises(FormsError, match=r"^xx/ingest\.toml: \[byline\] by\[1\]"):
        read_tables(tmp_path)


# ------------------------------------------------------------------ a new language
def test_adding_a_language_is_adding_its_table(tmp_path: Path) -> None:
    for table in TABLES:
        folder = tmp_path / table.source.split("/")[0]
        folder.mkdir()
        (folder / "ingest.toml").write_bytes((LOCALE_DIR / table.source).read_bytes())
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "ingest.toml").write_text(
        "[credit]\nlabels = ['Foto', 'Bild']\nby = ['Fotografiert von']\n"
        "[byline]\nby = ['Von']\n[bio]\nheadings = ['Über die Autorin', 'Über den Autor']\n"
        "[note]\nphrases = ['Namen wurden geändert']\n",
        encoding="utf-8",
    )
    forms = build_forms(read_tables(tmp_path))
    assert forms.credit_labelled.search("Der Hafen. Bild: Anna Schmidt")
    assert forms.credit_by.search("Der Hafen. Fotografiert von Anna Schmidt")
    assert forms.byline.match("Von Anna Schmidt")
    assert forms.bio_heading.match("Über die Autorin")
    assert forms.note_phrases.search("*Namen wurden geändert.", "*namen wurden geändert.")
    # The shipped forms are still there.
    assert forms.credit_labelled.search("河边。攝影：王小明")
    assert not FORMS.bio_heading.match("Über die Autorin")


# ------------------------------------------------------------------ how a form matches
def _full(form: str, text: str, *, loose: bool = False) -> bool:
    return re.fullmatch(form_pattern(form, loose_spaces=loose), text, re.IGNORECASE) is not None


def test_form_matching_rules() -> None:
    assert _full("Editor's note", "EDITOR’S NOTE")
    assert _full("Editor's note", "Editors note")  # the apostrophe may be left out
    assert _full("Editor's note", "Editor's  note")
    assert not _full("Editor's note", "Editor'snote")
    assert _full("Photo credit", "Photocredit", loose=True)
    assert _full("درباره‌ی نویسنده", "درباره‌ی نویسنده")
    assert _full("درباره‌ی نویسنده", "درباره ی نویسنده")  # a space for the ZWNJ
    assert _full("درباره‌ی نویسنده", "دربارهی نویسنده")  # nothing for the ZWNJ
    assert _full("درباره‌ی نویسنده", "درباره‌ي نويسنده")  # Arabic yeh
    assert _full("عکس", "عكس")  # Arabic kaf
    assert not _full("الأسماء", "الاسماء")  # hamza forms are listed, not folded


@pytest.mark.parametrize(
    ("line", "caption", "credit"),
    [
        ("Le port. Crédit photo\u00a0: Léa Martin", "Le port.", "Léa Martin"),
        ("Le port. Crédit photo\u202f: Léa Martin", "Le port.", "Léa Martin"),
        ("河邊的漁船。圖／中央社", "河邊的漁船。", "中央社"),
        ("河边的渔船（摄影：罗一舟）", "河边的渔船", "罗一舟"),
        ("الميناء عند الفجر. تصوير: أحمد علي", "الميناء عند الفجر.", "أحمد علي"),
        ("الميناء عند الفجر، بعدسة أحمد علي", "الميناء عند الفجر", "أحمد علي"),
        ("بندر در سحر. عکس: علی رضایی", "بندر در سحر.", "علی رضایی"),
        ("Las salinas. Foto de EFE", "Las salinas.", "EFE"),
        ("Las salinas. Foto: EFE.", "Las salinas.", "EFE"),
    ],
)
def test_split_caption_in_every_language(line: str, caption: str, credit: str) -> None:
    parts = split_caption(line)
    assert (parts.caption, parts.credit) == (caption, credit)


# ------------------------------------------------------------------ the cheap tests
def _hints_and_forms() -> list[tuple[Hints, list[str], bool]]:
    """Each set of hints with the forms it stands for, and whether their spaces are loose."""

    def every(section: str, key: str) -> list[str]:
        return [form for table in TABLES for form in table.get(section, key)]

    return [
        (FORMS.credit_by_hints, every("credit", "by") + every("credit", "by_name"), False),
        (FORMS.credit_courtesy_hints, every("credit", "courtesy"), False),
        (FORMS.copyright_hints, every("credit", "copyright"), False),
        (FORMS.bio_hints, every("bio", "headings"), False),
        (FORMS.note_phrases.hints, every("note", "phrases"), False),
    ]


def _spellings(form: str) -> list[str]:
    """Texts a form's pattern matches: as written, in other cases, with its apostrophes and
    ZWNJs left out or replaced by spaces, in Arabic letters."""
    texts = {form, form.upper(), form.title(), form.lower()}
    texts |= {t.replace("'", "’") for t in texts} | {t.replace("'", "") for t in texts}
    texts |= {t.replace("\u200c", " ") for t in texts} | {t.replace("\u200c", "") for t in texts}
    texts |= {t.replace("ی", "ي").replace("ک", "ك") for t in texts}
    return sorted(texts)


def test_every_form_passes_its_cheap_test() -> None:
    checked = 0
    for hints, forms, loose in _hints_and_forms():
        pattern = re.compile(
            "|".join(form_pattern(f, loose_spaces=loose) for f in forms), re.IGNORECASE
        )
        for form in forms:
            for text in _spellings(form):
                if not pattern.search(text):
                    continue  # a spelling the form does not allow (title case of "l'auteur")
                for line in (text, f"Some words before. {text} and after"):
                    assert hints.may_hold(line.lower()), (form, line)
                    checked += 1
    assert checked > 1000


def test_phrase_index_finds_what_the_whole_pattern_finds() -> None:
    phrases = FORMS.note_phrases
    texts = [
        f"{before}{spelling}{after}"
        for table in TABLES
        for form in table.get("note", "phrases")
        for spelling in _spellings(form)
        for before, after in (("", ""), ("*", "."), ("Li said so; ", " to protect them"))
    ]
    texts += ["She asked that her real name not be used.", "The name has been chang", "化名"]
    found = 0
    for text in texts:
        expected = phrases.every.search(text) is not None
        assert phrases.search(text, text.lower()) == expected, text
        found += expected
    assert found > 300


def test_every_note_start_passes_the_first_character_test() -> None:
    for table in TABLES:
        for form in (*table.get("note", "labels"), *table.get("note", "starts")):
            for text in _spellings(form):
                line = f"{text}: more"
                if FORMS.note_start.match(line):
                    assert line[0] in FORMS.note_first, form


@pytest.mark.slow
def test_the_hints_know_every_letter_the_patterns_fold() -> None:
    """A case-insensitive pattern matches a few letters that do not lower-case to the letter
    of the form ("ſ" for "s", "ı" for "i"); a text holding one of them runs the patterns."""
    every_character = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    letters = {
        ch
        for hints, _forms, _loose in _hints_and_forms()
        for word in hints.words
        for ch in word
        if ch.isalpha()
    }
    for letter in sorted(letters):
        for matched in set(re.findall(re.escape(letter), every_character, re.IGNORECASE)):
            lowered = matched.lower()
            assert lowered == letter.lower() or any(o in lowered for o in ODD_LOWERED), (
                letter,
                matched,
            )
    starts = {
        form[0] for table in TABLES for form in (*table.get("note", "labels"),
                                                  *table.get("note", "starts"))
    }  # fmt: skip
    for first in sorted(starts):
        pattern = form_pattern(first)
        for matched in set(re.findall(pattern, every_character, re.IGNORECASE)):
            assert matched in FORMS.note_first, (first, matched)


def test_a_note_label_may_start_with_an_apostrophe_that_is_left_out() -> None:
    table = parse_table('[note]\nlabels = ["\'Tis noted"]\n', "xx/ingest.toml")
    forms = build_forms([table])
    for text in ("’Tis noted: a", "Tis noted: a", "'tis noted: a"):
        assert text[0] in forms.note_first, text
        assert forms.note_start.match(text), text


def test_the_chinese_tables_are_written_in_their_own_script() -> None:
    simplified_only = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(
        hanzi.TRADITIONAL_CHARACTERS
    )
    traditional_only = frozenset(hanzi.TRADITIONAL_CHARACTERS) - frozenset(
        hanzi.SIMPLIFIED_CHARACTERS
    )
    assert {"图", "摄"} <= simplified_only  # the check checks something
    assert {"圖", "攝"} <= traditional_only
    for source, wrong in (("zh_Hant", simplified_only), ("zh_Hans", traditional_only)):
        table = next(t for t in TABLES if t.source.startswith(f"{source}/"))
        for keys in table.sections.values():
            for forms in keys.values():
                for form in forms:
                    assert not set(form) & wrong, (source, form)
