"""Texts carrying the characters that renderers and serialisers tend to lose or mangle:
zero-width joiners and non-joiners, bidi marks, isolates and embeddings, emoji sequences
(ZWJ, variation selectors, flags, tags, skin tones), soft hyphens, word joiners, non-breaking
spaces, combining marks, CJK quotation marks and backslashes. All text is invented for tests.
"""

from __future__ import annotations

# name -> (text carrying the characters, language of the story)
SAMPLES: dict[str, tuple[str, str]] = {
    "ZWNJ, Persian": ("آنچه می\u200cخواهم از نامه\u200cها بدانم", "fa"),
    "ZWJ emoji": ("Coders at night \U0001f469\u200d\U0001f4bb", "en"),
    "emoji family": (
        "Family day \U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
        "en",
    ),
    "rainbow flag, VS16 and ZWJ": ("Pride week \U0001f3f3\ufe0f\u200d\U0001f308", "en"),
    "flag sequence": ("Letters from Tehran \U0001f1ee\U0001f1f7", "en"),
    "subdivision flag, tag characters": (
        "Wales \U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
        "en",
    ),
    "skin tones": ("Thanks \U0001f44d\U0001f3fd and \U0001f44b\U0001f3ff", "en"),
    "LRM and RLM": ("Version \u200e2.0\u200e in \u200fعربي\u200f", "en"),
    "ALM": ("العدد \u061c١٢\u061c اليوم", "ar"),
    "bidi isolates": ("Said \u2067مرحبا\u2069 and \u2066hello\u2069 and \u2068x\u2069", "en"),
    "bidi embeddings and overrides": (
        "\u202bعربي\u202c \u202aabc\u202c \u202dltr\u202c \u202ertl\u202c",
        "en",
    ),
    "word joiner": ("No\u2060break\u2060here", "en"),
    "soft hyphen": ("Donau\u00addampf\u00adschiff\u00adfahrt", "en"),
    "zero-width space": ("長い\u200b言葉\u200bです", "en"),
    "Arabic harakat (combining marks)": ("مُدَرِّسَةٌ فِي القَرْيَةِ", "ar"),
    "decomposed accent": ("Cafe\u0301 de Mexico", "es"),
    "backslash": ("Path C:\\Users\\reporter", "en"),
    "CJK and European quotation marks": (
        "\u300c引號\u300d\u300e書名\u300f \u201c雙引號\u201d\u2018單引號\u2019 "
        "\u00abguillemets\u00bb \u201eAnf\u00fchrung\u201c \u301d\u301e",
        "zh-Hant",
    ),
    # normalise_space makes these one ASCII space in titles and other collapsed fields (by
    # design); they are kept where text is not collapsed.
    "non-breaking spaces": ("\u00ab\u00a0Pourquoi\u202f?\u00a0\u00bb", "fr"),
}

SPACE_SAMPLE = "non-breaking spaces"
