"""Which language a story is in: its own declaration, else its text, else its channel's.

The order (issue 15, point 4):

1. an explicit item-level language (RSS ``dc:language`` on the item, Atom ``xml:lang`` on the
   entry or its content, our JSON ``language``) wins;
2. otherwise the text decides when it is long enough and the identification is confident
   (py3langid, a Naive Bayes model shipped inside the package, restricted to the languages a
   newsroom is likely to publish in plus the channel's own), so a Chinese story in an ``en-GB``
   channel is ``zh-Hans`` and a German story in an ``en`` feed is ``de``;
3. otherwise the channel's language, else ``en`` (or ``zh`` when the text is mostly Chinese
   characters and there is nothing else to go on).

Chinese is told apart as Simplified or Traditional by its characters (hanzidentifier), giving
``zh-Hans`` or ``zh-Hant``. A text in the channel's language keeps the channel's tag (an
``en-GB`` story stays ``en-GB``). Only a bounded prefix of the plain text is read, so ingest
stays fast; the model is loaded once per process, on first use.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import hanzidentifier  # type: ignore[import-untyped]
from hanzidentifier import helpers as hanzi_helpers

from distributor.domain.languages import (
    DEFAULT_LANGUAGE,
    chinese_tag,
    language_tag_or_none,
    primary_language,
    script_of,
)

# Enough text for a confident answer, little enough to keep ingest fast (the model walks the
# sample byte by byte in Python: about a millisecond per 800 bytes).
SAMPLE_CHARS = 240
# Below this many letters (a Chinese character counts as one) the text is not asked.
MIN_LETTERS = 30
# Confidence (among the candidate languages) needed to overrule a declared channel language,
# and to decide on our own when nothing is declared.
OVERRULE_CONFIDENCE = 0.97
UNDECLARED_CONFIDENCE = 0.80

# Languages a story is identified as, unless the channel declares another one the model knows.
# Close relatives that newsrooms rarely publish in (Cantonese, Wu, Galician...) are left out:
# among a few candidates the model is far more accurate than among all of them.
CANDIDATE_LANGUAGES = frozenset(
    {
        "ar", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr",
        "he", "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nl", "no", "pl",
        "pt", "ro", "ru", "sk", "sl", "sr", "sv", "sw", "th", "tl", "tr", "uk", "ur", "vi",
        "zh",
    }
)  # fmt: skip

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
# Scripts whose texts may be all Chinese characters (Japanese and Korean ones too).
_HAN_SCRIPTS = frozenset({"Hans", "Hant", "Hani", "Jpan", "Kore"})


class LanguageSource(StrEnum):
    """Where a story's language came from."""

    ITEM = "item"  # declared on the item itself
    TEXT = "text"  # identified from the text
    CHANNEL = "channel"  # the feed's (or request's) declared language
    DEFAULT = "default"  # nothing to go on


@dataclass(frozen=True, slots=True)
class LanguageDecision:
    """A story's language, where it came from, and what was wrong on the way (if anything)."""

    tag: str
    source: LanguageSource
    problem: str | None = None


class _Identifier:
    """py3langid's model, loaded once per process (about a second), on first use, and its
    restrictions to the candidate languages (plus a channel's own), made once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._restricted: dict[str | None, Any] = {}

    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from py3langid.langid import (  # type: ignore[import-untyped]
                        MODEL_FILE,
                        LanguageIdentifier,
                    )

                    self._model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._model

    def _for(self, extra: str | None) -> Any:
        full = self.model()
        known = set(full.labels)
        key = extra if extra in known and extra not in CANDIDATE_LANGUAGES else None
        restricted = self._restricted.get(key)
        if restricted is None:
            with self._lock:
                # A shallow copy shares the model's arrays; restricting it slices new ones.
                restricted = copy.copy(full)
                wanted = (CANDIDATE_LANGUAGES | ({key} if key else set())) & known
                restricted.set_languages(sorted(wanted))
                self._restricted[key] = restricted
        return restricted

    def identify(self, text: str, extra: str | None) -> tuple[str, float]:
        """The most likely candidate language of ``text`` and its probability among them."""
        code, confidence = self._for(extra).classify(text)
        return str(code), float(confidence)


_IDENTIFIER = _Identifier()


# A letter: a word character that is neither a digit nor an underscore (what str.isalpha
# accepts, give or take numeric signs like ½ and combining marks: a threshold does not mind),
# counted by the regex engine rather than a Python loop.
_LETTER = re.compile(r"[^\W\d_]")


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


def chinese_script(text: str) -> str | None:
    """``Hans`` or ``Hant`` by ``text``'s characters; None when it has none that tell.

    Characters shared by both systems say nothing; a text that mixes the two (a quoted name,
    a stray character) is what most of its telling characters are.
    """
    kind = hanzidentifier.identify(text)
    if kind == hanzidentifier.SIMPLIFIED:
        return "Hans"
    if kind == hanzidentifier.TRADITIONAL:
        return "Hant"
    if kind != hanzidentifier.MIXED:
        return None
    characters = hanzi_helpers.get_hanzi(text)
    simplified_only = len(characters - hanzi_helpers.TRADITIONAL_CHARACTERS)
    traditional_only = len(characters - hanzi_helpers.SIMPLIFIED_CHARACTERS)
    if simplified_only == traditional_only:
        return None
    return "Hans" if simplified_only > traditional_only else "Hant"


def _chinese(sample: str) -> str:
    """``zh-Hans`` or ``zh-Hant`` for Chinese ``sample``: Simplified when its characters do not
    tell (the likely script of ``zh``, CLDR)."""
    return chinese_tag(chinese_script(sample) or "Hans")


def _by_script(sample: str) -> str | None:
    """``zh-Hans``/``zh-Hant`` for a sample written mostly in Chinese characters (and
    no kana or hangul, which would make it Japanese or Korean), else None."""
    han = len(_HAN.findall(sample))
    if han < 2 or han * 2 < _letters(sample) or _KANA_HANGUL.search(sample):
        return None
    return _chinese(sample)


def _with_chinese_script(tag: str, sample: str) -> str:
    """A Chinese tag whose script agrees with the characters of ``sample``."""
    if primary_language(tag) != "zh":
        return tag
    script = chinese_script(sample)
    if script is None or (script_of(tag) == script and "-" in tag):
        return tag
    return chinese_tag(script)


def _confirmed(text: str, detected: str, channel_primary: str | None) -> bool:
    """Whether the text after the first sample agrees that it is not in the channel's language
    (an English epigraph must not make a French story English); True when there is no more."""
    second = text[SAMPLE_CHARS : SAMPLE_CHARS * 2]
    if _letters(second) < MIN_LETTERS:
        return True
    code, _confidence = _IDENTIFIER.identify(second, channel_primary)
    return primary_language(code) == primary_language(detected)


def decide_language(
    text: str, *, item_language: str | None = None, channel_language: str | None = None
) -> LanguageDecision:
    """The language of a story whose plain text (title first) is ``text``.

    Only the first :data:`SAMPLE_CHARS` characters are identified, and the next as many when
    they would overrule the channel; callers need not pass more than twice that.

    ``item_language`` and ``channel_language`` are tags as written in the source; an unusable
    one is ignored, and said so in :attr:`LanguageDecision.problem`.
    """
    problems: list[str] = []
    if item_language is not None and item_language.strip():
        tag = language_tag_or_none(item_language)
        if tag is not None:
            return LanguageDecision(tag, LanguageSource.ITEM)
        problems.append(f"item language {item_language!r} is not a BCP 47 tag; ignored")
    channel = language_tag_or_none(channel_language)
    if channel_language and channel_language.strip() and channel is None:
        problems.append(f"channel language {channel_language!r} is not a BCP 47 tag; ignored")
    problem = "; ".join(problems) or None
    sample = text[:SAMPLE_CHARS]
    if _letters(sample) >= MIN_LETTERS:
        channel_primary = primary_language(channel) if channel else None
        code, confidence = _IDENTIFIER.identify(sample, channel_primary)
        detected = language_tag_or_none(code)
        if detected is not None:
            if channel is not None and primary_language(detected) == channel_primary:
                tag = _with_chinese_script(channel, sample)
                source = LanguageSource.CHANNEL if tag == channel else LanguageSource.TEXT
                return LanguageDecision(tag, source, problem)
            needed = OVERRULE_CONFIDENCE if channel is not None else UNDECLARED_CONFIDENCE
            if confidence >= needed and (
                channel is None or _confirmed(text, detected, channel_primary)
            ):
                if primary_language(detected) == "zh":
                    detected = _chinese(sample)
                return LanguageDecision(detected, LanguageSource.TEXT, problem)
    by_script = _by_script(sample)
    if channel is not None:
        if by_script is not None and script_of(channel) not in _HAN_SCRIPTS:
            # Too short to identify, but Chinese characters in a Latin (or Cyrillic...)
            # channel are not in the channel's language: the script itself says so.
            return LanguageDecision(by_script, LanguageSource.TEXT, problem)
        tag = _with_chinese_script(channel, sample) if by_script else channel
        source = LanguageSource.CHANNEL if tag == channel else LanguageSource.TEXT
        return LanguageDecision(tag, source, problem)
    if by_script is not None:
        return LanguageDecision(by_script, LanguageSource.TEXT, problem)
    return LanguageDecision(DEFAULT_LANGUAGE, LanguageSource.DEFAULT, problem)


def warm_up() -> None:
    """Load the identification model now, and build the matchers of every language's ingest
    forms (:func:`distributor.ingest.forms.ingest_forms`): a worker calls this once at
    start-up, so its first story is not slower than the others."""
    from distributor.ingest.forms import ingest_forms

    _IDENTIFIER.identify("", None)
    ingest_forms()
