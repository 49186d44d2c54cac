"""Language tags: the one place where a tag is checked and written as BCP 47 (pure).

Every tag that enters Distributor (a feed's channel or item language, the JSON API, a list's
language, a partner's selection, a reader's preference, the CLI) goes through
:func:`normalise_language_tag`, so the stored and published form is the canonical one:
``zh-Hans`` not ``zh-HANS``, ``en-GB`` not ``en_gb``, ``he`` not the deprecated ``iw``.

Two tags name "the same language for a reader" when their language and their script agree once
the likely script is filled in (CLDR likely subtags): ``en-GB`` and ``en`` do, ``zh-TW`` and
``zh-Hant`` do, ``zh-Hant`` and ``zh-Hans`` do not (a reader of one may not read the other).
"""

from __future__ import annotations

from functools import lru_cache

import langcodes

# The database column holds 35 characters (RFC 5646 section 4.4.1 asks for at least that).
MAX_TAG_LENGTH = 35
DEFAULT_LANGUAGE = "en"


class LanguageTagError(ValueError):
    """A value that is not a usable BCP 47 language tag; the message says what to write."""


@lru_cache(maxsize=1024)
def normalise_language_tag(value: str) -> str:
    """The canonical BCP 47 form of ``value`` (``zh_hans`` -> ``zh-Hans``, ``EN-gb`` -> ``en-GB``).

    Raises :class:`LanguageTagError` when ``value`` is not a registered language tag or says
    nothing about the language (``und``).
    """
    text = (value or "").strip().replace("_", "-")
    example = "use a tag such as en, en-GB, pt-BR, zh-Hans or zh-Hant"
    if not text:
        raise LanguageTagError(f"the language is empty: {example}")
    if len(text) > MAX_TAG_LENGTH:
        raise LanguageTagError(
            f"language {value!r} is longer than {MAX_TAG_LENGTH} characters: {example}"
        )
    try:
        tag = langcodes.standardize_tag(text)
        valid = langcodes.tag_is_valid(tag)
    except (ValueError, LookupError):
        valid = False
    if not valid:
        raise LanguageTagError(f"language {value!r} is not a BCP 47 language tag: {example}")
    if langcodes.Language.get(tag).language in (None, "und"):
        raise LanguageTagError(f"language {value!r} does not name a language: {example}")
    return str(tag)


def language_tag_or_none(value: str | None) -> str | None:
    """:func:`normalise_language_tag` of ``value``, or None when it is missing or unusable."""
    if value is None or not value.strip():
        return None
    try:
        return normalise_language_tag(value)
    except LanguageTagError:
        return None


def language_tag_problem(value: str) -> str | None:
    """Why ``value`` is not a usable language tag, or None when it is."""
    try:
        normalise_language_tag(value)
    except LanguageTagError as error:
        return str(error)
    return None


@lru_cache(maxsize=1024)
def _language_and_script(tag: str) -> tuple[str, str | None]:
    try:
        language = langcodes.Language.get(tag.replace("_", "-"))
        likely = language.maximize()
    except (ValueError, LookupError):
        return (tag or "").replace("_", "-").split("-", 1)[0].strip().lower(), None
    return (language.language or "und"), likely.script


def primary_language(tag: str) -> str:
    """The language subtag of ``tag``, lower-cased (``zh-Hans`` -> ``zh``, ``en-GB`` -> ``en``)."""
    return _language_and_script(tag)[0]


def script_of(tag: str) -> str | None:
    """The script ``tag`` is written in, given or likely (``zh-TW`` -> ``Hant``)."""
    return _language_and_script(tag)[1]


def same_language_for_readers(first: str, second: str) -> bool:
    """True when a reader of ``first`` reads ``second``: same language, same (likely) script."""
    return _language_and_script(first) == _language_and_script(second)


def chinese_tag(script: str | None) -> str:
    """``zh-Hans`` or ``zh-Hant`` for a known script, else ``zh``."""
    return f"zh-{script}" if script in ("Hans", "Hant") else "zh"


@lru_cache(maxsize=256)
def language_name(tag: str) -> str:
    """A name for ``tag`` in English for the desk ("Chinese (Traditional)"), else the tag."""
    try:
        name = langcodes.Language.get(tag).display_name()
    except (ValueError, LookupError):
        return tag
    return str(name) if name and not name.startswith("Unknown") else tag
