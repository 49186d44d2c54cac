"""Translated words: gettext catalogues (Babel) for every language Distributor ships.

Every text Distributor writes itself (email labels and footer, the confirmation, welcome and
notification emails, the public pages, the desk) is a gettext message. The catalogues live in
``distributor/locale/<locale>/LC_MESSAGES/<domain>.po``, one domain per audience:

- ``email``: what a reader gets by email (issue labels, footer, confirmation, welcome);
- ``public``: the public pages (signup, confirm, unsubscribe, preferences, archive, errors);
- ``desk``: the editors' desk and the notifications it sends to editors.

``make setup`` compiles them (``pybabel compile``); a catalogue whose ``.mo`` is missing or
older than its ``.po`` is compiled in memory when first used, so a checkout always speaks
every shipped language.

Adding a language is one catalogue (``make i18n-init LANG=xx``) and one line in
:data:`SHIPPED_LANGUAGES`.

Which catalogue is in force is a context variable (:func:`use_language`), so concurrent
requests and renders in other languages never see each other's words; templates call the same
functions through Jinja's i18n extension (:func:`install_in`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from distributor.domain.languages import (
    DEFAULT_LANGUAGE,
    language_tag_or_none,
    primary_language,
    script_of,
)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# BCP 47 tags of the languages shipped, the source language first. One line per language.
SHIPPED_LANGUAGES: tuple[str, ...] = (
    "en",
    "zh-Hans",
    "zh-Hant",
    "es",
    "fr",
    "ar",
    "fa",
)

DOMAINS: tuple[str, ...] = ("email", "public", "desk")

_RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ku", "ckb"})


def locale_id(tag: str) -> str:
    """The catalogue folder (Babel/POSIX form) of a shipped tag: ``zh-Hant`` -> ``zh_Hant``."""
    return tag.replace("-", "_")


def babel_locale(tag: str) -> Locale:
    """The Babel :class:`Locale` for a shipped tag (for dates, numbers, plural rules)."""
    return Locale.parse(locale_id(shipped_language(tag)))


@lru_cache(maxsize=512)
def shipped_language(tag: str | None) -> str:
    """The shipped language a reader of ``tag`` reads best, else English.

    ``zh-TW``, ``zh-HK`` and ``zh-Hant-TW`` give ``zh-Hant``; ``zh``, ``zh-CN`` and ``zh-SG``
    give ``zh-Hans``; ``es-MX`` gives ``es``; ``fa-IR`` gives ``fa``; ``de`` gives ``en``.
    """
    canonical = language_tag_or_none(tag)
    if canonical is None:
        return DEFAULT_LANGUAGE
    language = primary_language(canonical)
    if language == "zh":
        return "zh-Hant" if script_of(canonical) == "Hant" else "zh-Hans"
    for shipped in SHIPPED_LANGUAGES:
        if primary_language(shipped) == language:
            return shipped
    return DEFAULT_LANGUAGE


def is_shipped(tag: str | None) -> bool:
    """True when ``tag`` names a shipped language exactly or by region (``es-MX``)."""
    canonical = language_tag_or_none(tag)
    if canonical is None:
        return False
    return primary_language(canonical) == primary_language(shipped_language(canonical))


def text_direction(tag: str | None) -> str:
    """``rtl`` for right-to-left languages (Arabic, Persian, Hebrew...), else ``ltr``."""
    canonical = language_tag_or_none(tag)
    if canonical is None:
        return "ltr"
    if script_of(canonical) in ("Arab", "Hebr", "Thaa", "Syrc", "Nkoo"):
        return "rtl"
    return "rtl" if primary_language(canonical) in _RIGHT_TO_LEFT else "ltr"


def _load_domain(folder: Path, domain: str, locale: str) -> Translations | None:
    po_path = folder / f"{domain}.po"
    mo_path = folder / f"{domain}.mo"
    if mo_path.is_file() and (
        not po_path.is_file() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as handle:
            return Translations(handle, domain=domain)
    if not po_path.is_file():
        return None
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as pybabel compile does
    buffer.seek(0)
    return Translations(buffer, domain=domain)


@lru_cache(maxsize=32)
def translations_for(tag: str | None) -> Translations:
    """Every domain's catalogue for the shipped language closest to ``tag``, merged."""
    shipped = shipped_language(tag)
    locale = locale_id(shipped)
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged: Translations | None = None
    for domain in DOMAINS:
        loaded = _load_domain(folder, domain, locale)
        if loaded is None:
            continue
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    if merged is None:
        merged = Translations(io.BytesIO(_EMPTY_MO))
    merged.language_tag = shipped  # type: ignore[attr-defined]
    return merged


def _empty_mo() -> bytes:
    from babel.messages.catalog import Catalog

    buffer = io.BytesIO()
    write_mo(buffer, Catalog(locale="en"))
    return buffer.getvalue()


_EMPTY_MO = _empty_mo()


@lru_cache(maxsize=64)
def catalogue_for(tag: str | None, domain: str | None) -> Translations:
    """The ``domain`` catalogue of the language closest to ``tag``; a message it lacks is
    looked up in the other domains. With no domain, the merged catalogue.

    Each audience reads its own domain first, so a message written the same way for two
    audiences ("Subscribe to %(title)s" on the desk and on the public page) can be translated
    differently for each.
    """
    merged = translations_for(tag)
    if domain is None:
        return merged
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}: use one of {', '.join(DOMAINS)}")
    shipped = shipped_language(tag)
    locale = locale_id(shipped)
    own = _load_domain(LOCALE_DIR / locale / "LC_MESSAGES", domain, locale)
    if own is None:
        return merged
    own.add_fallback(merged)
    own.language_tag = shipped  # type: ignore[attr-defined]
    return own


_current: ContextVar[str] = ContextVar("distributor_language", default=DEFAULT_LANGUAGE)
_current_domain: ContextVar[str | None] = ContextVar("distributor_domain", default=None)


def current_language() -> str:
    """The shipped language in force here (see :func:`use_language`)."""
    return _current.get()


@contextmanager
def use_language(tag: str | None, domain: str | None = None) -> Iterator[str]:
    """Within the block, gettext (Python and templates) speaks the language closest to ``tag``,
    reading the ``domain`` catalogue first (``public``, ``desk`` or ``email``) when given."""
    token = _current.set(shipped_language(tag))
    domain_token = _current_domain.set(domain) if domain is not None else None
    try:
        yield _current.get()
    finally:
        if domain_token is not None:
            _current_domain.reset(domain_token)
        _current.reset(token)


def _in_force(domain: str | None = None) -> Translations:
    return catalogue_for(_current.get(), domain or _current_domain.get())


def gettext(message: str) -> str:
    """``message`` in the language in force."""
    return _in_force().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` (the language's own plural rules)."""
    return _in_force().ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the language in force, told apart by ``context``."""
    return str(_in_force().pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    """:func:`ngettext` told apart by ``context``."""
    return str(_in_force().npgettext(context, singular, plural, count))


# ``_`` is the conventional name extraction looks for.
_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name gettext extraction knows
    """Mark ``message`` for translation without translating it here (it is translated where
    it is shown, in the language in force there)."""
    return message


def gettext_in(tag: str | None, message: str, domain: str | None = None) -> str:
    """``message`` in the language closest to ``tag`` (``domain`` first), whatever is in force."""
    return catalogue_for(tag, domain).gettext(message)


def ngettext_in(
    tag: str | None, singular: str, plural: str, count: int, domain: str | None = None
) -> str:
    """:func:`ngettext` in the language closest to ``tag``."""
    return catalogue_for(tag, domain).ngettext(singular, plural, count)


def install_in(environment: jinja2.Environment, domain: str | None = None) -> None:
    """Give ``environment`` Jinja's i18n extension bound to the language in force.

    Templates write ``{% trans %}...{% endtrans %}`` or ``{{ _('...') }}``; the words come
    from the catalogue chosen by :func:`use_language` at render time, ``domain`` first (the
    audience of the environment's templates).
    """

    def template_gettext(message: str) -> str:
        return _in_force(domain).gettext(message)

    def template_ngettext(singular: str, plural: str, count: int) -> str:
        return _in_force(domain).ngettext(singular, plural, count)

    def template_pgettext(context: str, message: str) -> str:
        return str(_in_force(domain).pgettext(context, message))

    def template_npgettext(context: str, singular: str, plural: str, count: int) -> str:
        return str(_in_force(domain).npgettext(context, singular, plural, count))

    environment.add_extension("jinja2.ext.i18n")
    install: Any = environment.install_gettext_callables  # type: ignore[attr-defined]
    install(
        gettext=template_gettext,
        ngettext=template_ngettext,
        pgettext=template_pgettext,
        npgettext=template_npgettext,
        newstyle=True,
    )
    environment.globals["current_language"] = current_language
    environment.globals["text_direction"] = text_direction


# Digits of the numbering systems the shipped locales use by default (CLDR): Babel writes a
# locale's separators but Latin digits.
_DIGITS = {
    "arab": "٠١٢٣٤٥٦٧٨٩",
    "arabext": "۰۱۲۳۴۵۶۷۸۹",
}


def native_digits(text: str, tag: str | None = None) -> str:
    """``text`` with its digits in the script the language writes by default (``۱۲`` in fa)."""
    digits = _DIGITS.get(babel_locale(tag or current_language()).default_numbering_system)
    if digits is None:
        return text
    return text.translate(str.maketrans("0123456789", digits))


def format_number(number: int, tag: str | None = None) -> str:
    """``number`` as the language writes it (separators and digits: ``۱٬۲۳۴`` in fa)."""
    language = tag or current_language()
    written = format_decimal(number, locale=babel_locale(language), numbering_system="default")
    return native_digits(written, language)


def format_day(moment: date | datetime, tag: str | None = None) -> str:
    """The date of ``moment`` in the language (``5 janvier 2026``, ``2026年1月5日``)."""
    language = tag or current_language()
    return native_digits(format_date(moment, "long", locale=babel_locale(language)), language)


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:32]):
        pieces = [piece.strip() for piece in part.split(";")]
        tag = pieces[0]
        if not tag or tag == "*":
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            if parameter.lower().startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(weighted)]


def from_accept_language(header: str | None) -> str | None:
    """The first shipped language the ``Accept-Language`` header asks for, else None."""
    for tag in parse_accept_language(header):
        if is_shipped(tag):
            return shipped_language(tag)
    return None


def choose_language(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first candidate that names a shipped language, else the header's, else English."""
    for candidate in candidates:
        if candidate and is_shipped(candidate):
            return shipped_language(candidate)
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE


def language_choices() -> list[tuple[str, str]]:
    """(tag, the language's own name) for every shipped language, for a language menu."""
    choices = []
    for tag in SHIPPED_LANGUAGES:
        locale = Locale.parse(locale_id(tag))
        name = locale.get_display_name(locale) or tag
        if tag in ("zh-Hans", "zh-Hant"):
            name = "简体中文" if tag == "zh-Hans" else "繁體中文"
        choices.append((tag, name))
    return choices
