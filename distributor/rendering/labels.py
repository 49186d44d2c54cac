"""Fixed words of the newsletter ("Continue reading", "Unsubscribe"...) per language.

The words are gettext messages of the ``email`` domain (``distributor/locale/*/LC_MESSAGES/
email.po``). They are looked up once per shipped language and kept in an :class:`EmailLabels`
(see :func:`labels_for`), so rendering an issue reads attributes, never the catalogue, and
nothing here runs per recipient.

Besides the words, the labels carry what the layout needs to know about the language: its
direction and the physical side text starts on (``start``/``end``, for ``align`` and mirrored
paddings), whether notes may be set in italics (never for CJK or Arabic script: browsers draw a
slanted copy of the glyphs), the marks that quote a publication's title (CLDR, 《》 for
Chinese titles) and the arrow that points "onwards" in the reading direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel.lists import format_list

from distributor.domain.languages import (
    LanguageTagError,
    normalise_language_tag,
    primary_language,
)
from distributor.i18n import babel_locale, catalogue_for, shipped_language
from distributor.i18n import text_direction as _text_direction

# Placeholders of the templated labels (kept in every translation, see test_catalogues).
NAMES = "%(names)s"
CREDIT = "%(credit)s"
NAME = "%(name)s"

# Languages whose script has no italics of its own: emphasis there is weight or colour.
_NO_ITALICS = frozenset({"zh", "ja", "ko", "ar", "fa", "ur", "he", "th"})
_CJK = frozenset({"zh", "ja", "ko"})

# How a publication's title is quoted (CLDR quotation marks; Chinese titles take 《》). English
# sets titles in italics in print; in an email (and its plain-text twin) it leaves them bare.
_TITLE_MARKS = {
    "en": ("", ""),
    "zh": ("《", "》"),
    "es": ("«", "»"),
    "fr": ("«\u202f", "\u202f»"),
    "ar": ("”", "“"),
    "fa": ("«", "»"),
}


@dataclass(frozen=True, slots=True)
class EmailLabels:
    """Words the email template needs, in one language, and how that language is laid out."""

    by: str  # before the names of a byline ("By "); see ``byline_format``
    continue_reading: str
    credit: str  # before a photo's credit ("Credit: "); see ``credit_format``
    about_the_author: str
    from_the_editor: str
    greeting_before: str  # the greeting is before + first name + after
    greeting_after: str
    fallback_first_name: str
    why_received: str  # "%(list)s" and "%(publisher)s" are filled in
    unsubscribe: str
    manage_preferences: str
    view_in_browser: str
    name_separator: str
    colon: str  # between a label and its value ("Unsubscribe: URL")
    last_name_separator: str
    italic_notes: bool
    # Added with the catalogues:
    language: str = "en"  # the shipped language these words are in
    byline_format: str = "By %(names)s"
    credit_format: str = "Credit: %(credit)s"
    dir: str = "ltr"
    start: str = "left"  # the side lines start on: "right" in right-to-left languages
    end: str = "right"
    title_open: str = ""
    title_close: str = ""
    arrow: str = "\u2192"  # "onwards" in the reading direction (← in right-to-left text)
    cjk: bool = False

    def byline(self, names: list[str]) -> str:
        """ "By A, B and C" in this language ("" without names)."""
        if not names:
            return ""
        return self.byline_format % {"names": join_names(names, self)}

    def credit_line(self, credit: str) -> str:
        """ "Credit: X" in this language."""
        return self.credit_format % {"credit": credit}

    def title(self, title: str) -> str:
        """A publication's title quoted as this language quotes titles (《每周通讯》)."""
        return f"{self.title_open}{title}{self.title_close}"


def _split(template: str, placeholder: str) -> tuple[str, str]:
    before, found, after = template.partition(placeholder)
    if not found:  # a broken translation: keep the value visible after the words
        return template + " ", ""
    return before, after


@lru_cache(maxsize=16)
def _labels_of_shipped(language: str) -> EmailLabels:
    catalogue = catalogue_for(language, "email")
    _ = catalogue.gettext
    primary = primary_language(language)
    direction = _text_direction(language)
    byline_format = _("By %(names)s")
    credit_format = _("Credit: %(credit)s")
    greeting = _("Dear %(name)s,")
    greeting_before, greeting_after = _split(greeting, NAME)
    list_pattern = babel_locale(language).list_patterns.get("standard", {})
    title_open, title_close = _TITLE_MARKS.get(primary, ("", ""))
    return EmailLabels(
        by=_split(byline_format, NAMES)[0],
        continue_reading=_("Continue reading"),
        credit=_split(credit_format, CREDIT)[0],
        about_the_author=_("About the author"),
        from_the_editor=_("From the editor"),
        greeting_before=greeting_before,
        greeting_after=greeting_after,
        # TRANSLATORS: the greeting's name when a reader gave none ("Dear reader,").
        fallback_first_name=str(catalogue.pgettext("greeting", "reader")),
        why_received=_(
            "You are receiving this email because you subscribed to %(list)s from %(publisher)s."
        ),
        unsubscribe=_("Unsubscribe"),
        manage_preferences=_("Manage preferences"),
        view_in_browser=_("View in browser"),
        name_separator=_pattern_glue(list_pattern.get("middle", "{0}, {1}")),
        # TRANSLATORS: between a label and its value, as in "Unsubscribe: https://...".
        colon=str(catalogue.pgettext("label and value", ": ")),
        last_name_separator=_pattern_glue(list_pattern.get("end", "{0} and {1}")),
        italic_notes=primary not in _NO_ITALICS,
        language=language,
        byline_format=byline_format,
        credit_format=credit_format,
        dir=direction,
        start="right" if direction == "rtl" else "left",
        end="left" if direction == "rtl" else "right",
        title_open=title_open,
        title_close=title_close,
        arrow="\u2190" if direction == "rtl" else "\u2192",
        cjk=primary in _CJK,
    )


def _pattern_glue(pattern: str) -> str:
    # CLDR list patterns look like "{0}, {1}" or "{0} and {1}": the words between the names.
    return pattern.replace("{0}", "", 1).replace("{1}", "", 1)


def check_language_tag(language: str) -> str:
    """``language`` as canonical BCP 47 (``zh-hans`` -> ``zh-Hans``), else ValueError."""
    try:
        return normalise_language_tag(language or "")
    except LanguageTagError as error:
        raise ValueError(
            f"language must be a BCP 47 tag such as 'en' or 'zh-Hans' (got {language!r}): {error}"
        ) from None


def primary_subtag(language: str) -> str:
    """The language part of a tag, lower-cased (``zh-Hans`` -> ``zh``)."""
    return primary_language(language)


def text_direction(language: str) -> str:
    """``rtl`` for right-to-left scripts, else ``ltr``."""
    return _text_direction(language)


def labels_for(language: str) -> EmailLabels:
    """Labels in the shipped language closest to ``language`` (``zh-TW`` -> Traditional
    Chinese, ``es-MX`` -> Spanish); languages not shipped get English. Cached per language."""
    return _labels_of_shipped(shipped_language(language))


def join_names(names: list[str], labels: EmailLabels) -> str:
    """Names joined for a byline as the language joins a list ("A, B and C" / "甲、乙和丙")."""
    if len(names) <= 1:
        return "".join(names)
    return format_list(names, locale=babel_locale(labels.language))
