"""Every shipped language has a complete, well-formed catalogue for every message the source uses.

The messages are extracted here from the code and templates (the same mapping files
``make i18n-extract`` reads), so a new ``_("...")`` or ``{% trans %}`` fails this test until
each shipped language translates it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from hanzidentifier import helpers as hanzi

from distributor import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [tag for tag in i18n.SHIPPED_LANGUAGES if tag != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
# Characters written only in Simplified Chinese (never in Traditional text).
SIMPLIFIED_ONLY = frozenset(hanzi.SIMPLIFIED_CHARACTERS) - frozenset(hanzi.TRADITIONAL_CHARACTERS)


@cache
def used_messages(domain: str) -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> where it is used, extracted from the source as pybabel does."""
    with (i18n.LOCALE_DIR / f"{domain}.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[tuple[str | None, str], str] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context, msgid), filename)
    return found


def catalogue(tag: str, domain: str) -> Catalog:
    path = i18n.LOCALE_DIR / i18n.locale_id(tag) / "LC_MESSAGES" / f"{domain}.po"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run make i18n-init LANG=..."
    with path.open("rb") as handle:
        return read_po(handle, locale=i18n.locale_id(tag), domain=domain)


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("tag", TRANSLATED)
def test_every_message_the_source_uses_is_translated(tag: str, domain: str) -> None:
    catalog = catalogue(tag, domain)
    problems = []
    for (context, msgid), where in used_messages(domain).items():
        message = catalog.get(msgid, context=context)
        label = f"{msgid!r} (used in {where})"
        if message is None:
            problems.append(f"missing: {label}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {label}")
        else:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                problems.append(f"untranslated: {label}")
    assert not problems, f"{tag} {domain}.po:\n" + "\n".join(problems)


def placeholders(text: str) -> set[str]:
    return {name for match in PLACEHOLDER.finditer(text) for name in match.groups() if name}


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("tag", TRANSLATED)
def test_translations_keep_every_placeholder(tag: str, domain: str) -> None:
    problems = []
    for message in catalogue(tag, domain):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = {
            name for match in PLACEHOLDER.finditer(ids[-1]) for name in match.groups() if name
        }
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            got = {
                name for match in PLACEHOLDER.finditer(string) for name in match.groups() if name
            }
            if got != wanted and not (got < wanted and len(ids) > 1):
                problems.append(f"{ids[0]!r}: placeholders {sorted(got)} != {sorted(wanted)}")
    assert not problems, f"{tag} {domain}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_traditional_chinese_uses_no_simplified_only_characters(domain: str) -> None:
    problems = []
    for message in catalogue("zh-Hant", domain):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            simplified = sorted({char for char in string or "" if char in SIMPLIFIED_ONLY})
            if simplified:
                problems.append(f"{message.id!r}: {''.join(simplified)} in {string!r}")
    assert not problems, "Simplified-only characters in zh_Hant:\n" + "\n".join(problems)


def test_the_simplified_only_list_knows_common_simplified_forms() -> None:
    # Guards the check above: these are Simplified-only, their Traditional forms are not.
    assert {"订", "阅", "读", "关", "这", "图"} <= SIMPLIFIED_ONLY
    assert not {"訂", "閱", "讀", "關", "這", "圖"} & SIMPLIFIED_ONLY


def test_every_shipped_language_resolves_to_its_own_catalogue() -> None:
    for tag in i18n.SHIPPED_LANGUAGES:
        assert i18n.shipped_language(tag) == tag
        assert i18n.translations_for(tag).language_tag == tag  # type: ignore[attr-defined]


def _mapped(relative: str) -> bool:
    from babel.util import pathmatch

    for domain in i18n.DOMAINS:
        with (i18n.LOCALE_DIR / f"{domain}.cfg").open(encoding="utf-8") as handle:
            method_map, _options = parse_mapping_cfg(handle)
        if any(pathmatch(pattern, relative) for pattern, _method in method_map):
            return True
    return False


def test_every_file_that_marks_messages_belongs_to_a_domain() -> None:
    marking = re.compile(r"(?:^|[^\w.])(?:_|N_|ngettext|pgettext|npgettext)\(\s*['\"]", re.M)
    unmapped = []
    for folder, suffix in (("distributor", "*.py"), ("templates", "*.j2")):
        for path in sorted((ROOT / folder).rglob(suffix)):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "distributor/i18n.py" or not marking.search(path.read_text("utf-8")):
                continue
            if not _mapped(relative):
                unmapped.append(relative)
    assert not unmapped, "add these to a distributor/locale/<domain>.cfg: " + ", ".join(unmapped)
