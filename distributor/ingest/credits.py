"""Splitting a photo caption line into the caption and the credit.

Newsroom CMSs rarely give the credit as a field; it sits at the end of the caption line in a
handful of house forms. :func:`split_caption` recognises them and returns the two parts; the
credit is the party credited, without its label ("Photo by Jane Doe" gives "Jane Doe").

Recognised forms (case-insensitive, at the end of the line):

- labelled: ``Credit: X``, ``Credits: X``, ``Image credit(s): X``, ``Photo credit: X``,
  ``Photo: X``, ``Photos: X``, ``Photograph: X``, ``Picture: X``, ``Image: X``,
  ``Illustration: X``, ``Source: X``;
- ``Photo by X`` / ``Photos by X`` / ``Photograph by X`` / ``Illustration by X`` / ``Image by X``;
- ``Courtesy of X`` / ``Courtesy X`` (kept whole: "courtesy" says how the image was obtained);
- an agency parenthesis: ``(X/Getty Images)``, ``(AP Photo/X)``, ``(Reuters)``;
- copyright: ``© X``, ``(c) X``, ``Copyright X`` and the trailing ``X ©``;
- Chinese: ``图片来源：X``, ``图片：X``, ``摄影：X``, ``图：X``, ``来源：X`` (full- or half-width
  colon, optionally inside （…）), and the pipe form ``说明 | 极客公园制图``.

Pure functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distributor.domain.text import normalise_space

_SPACE = re.compile(r"\s+")

# Where a credit label may start: the beginning, or after a sentence end / separator.
_BOUNDARY = r"(?:^|(?<=[\s.!?;:,。！？；，、|｜(（\[【—–-]))"

_LABELLED = re.compile(
    _BOUNDARY
    + r"[(\[（【]?\s*(?P<label>(?:image|photo|picture|photograph)?\s*credits?|photos?|photograph|"
    r"pictures?|images?|illustration|graphics?|source)\s*[:：]\s*(?P<credit>[^\n]+?)"
    r"\s*[)\]）】]?\s*\.?\s*$",
    re.IGNORECASE,
)
_BY = re.compile(
    _BOUNDARY
    + r"[(\[（]?\s*(?:photos?|photographs?|pictures?|images?|illustrations?|graphics?|video)"
    r"\s+by\s+(?P<credit>[^\n]+?)\s*[)\]）]?\s*\.?\s*$",
    re.IGNORECASE,
)
_COURTESY = re.compile(
    _BOUNDARY + r"[(\[（]?\s*(?P<credit>courtesy(?:\s+of)?\s+[^\n]+?)\s*[)\]）]?\s*\.?\s*$",
    re.IGNORECASE,
)
_AGENCIES = (
    r"getty|reuters|\bap\b|afp|epa|shutterstock|\brex\b|alamy|xinhua|新华社|视觉中国|vcg|"
    r"bloomberg|\bpa\b|anadolu|sopa|nurphoto|imago|corbis|magnum|associated press"
)
# The slash of "(Name/Agency)" and "(AP Photo/Name)"; a slash between two digits is a date or
# a version list ("Windows 7/8/10"), and a parenthesis holding a "。" is a sentence.
_AGENCY_PAREN = re.compile(
    r"[(（](?P<credit>[^()（）。]*(?:(?<!\d)/|/(?!\d)|" + _AGENCIES + r")[^()（）。]*)[)）]"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
_COPYRIGHT_LEAD = re.compile(
    _BOUNDARY + r"(?P<credit>(?:©|\(c\)|copyright\b)\s*[^\s©.][^\n]*?)\s*\.?\s*$", re.IGNORECASE
)
_COPYRIGHT_TRAIL = re.compile(r"(?P<credit>[^.!?。！？]+?)\s*©\s*\.?\s*$")
_CHINESE = re.compile(
    _BOUNDARY + r"[(（【\[]?\s*(?:图片来源|图片提供|图片|摄影师?|图|来源|供图)\s*[:：]\s*"
    r"(?P<credit>[^\n]+?)\s*[)）】\]]?\s*[。.]?\s*$"
)
# "说明 | 极客公园制图": a short party after a pipe at the very end of a caption.
_PIPE = re.compile(r"^(?P<caption>.+?)\s*[|｜]\s*(?P<credit>[^|｜。.!?！？,，;；]{1,24})$")


# What each form cannot match without (the patterns search every position of the line, so
# running all of them on a line without a credit is the slow path): a colon for the labelled
# and Chinese forms, "by", "courtesy", a parenthesis, "©"/"(c)"/"copyright", a pipe. Words are
# looked for in the lower-cased line: every letter the case-insensitive patterns match in them
# lower-cases to itself, except the odd letters below (a line with one of those runs every
# pattern; tested). Keep these in step with the patterns.
_ODD_LETTERS = re.compile("[\u0130\u0131\u017f]")  # İ and ı match "i", ſ matches "s"
_HINT_WORDS = ("by", "courtesy", "(c)", "copyright")  # looked for in the lower-cased line


# The labelled and Chinese forms end their label just before a colon, and start at most this
# many characters before it: an opening bracket, a space, the longest label ("photograph
# credits") and a space (in a whitespace-normalised line each \s* there is at most one space,
# and every pattern character matches one character). Their first match is therefore never
# earlier than this far before the line's first colon, and they are searched from there: the
# same match, without trying every earlier position (tested).
_LABEL_REACH = 21


def _first_colon(line: str) -> int:
    """Where the first ":" or "：" of ``line`` is, -1 when it has none."""
    ascii_colon = line.find(":")
    wide_colon = line.find("：")
    if ascii_colon < 0 or (0 <= wide_colon < ascii_colon):
        return wide_colon
    return ascii_colon


@dataclass(frozen=True, slots=True)
class CaptionParts:
    """A caption line split into its description and its credit (either may be None)."""

    caption: str | None
    credit: str | None


def _clean_caption(text: str) -> str | None:
    text = text.strip().rstrip("—–-|｜:：;；,，(（[【").strip()
    return text or None


def _clean_credit(text: str) -> str | None:
    text = text.strip().strip("()（）[]【】").strip().rstrip(".。").strip()
    return text or None


def split_caption(text: str | None) -> CaptionParts:
    """Split ``text`` ("Caption sentence. Credit: Who") into caption and credit.

    Returns the whole (whitespace-normalised) text as the caption when no credit form is found.
    """
    line = normalise_space(text)
    if not line:
        return CaptionParts(None, None)
    lowered = line.lower()
    odd = _ODD_LETTERS.search(line) is not None
    colon = _first_colon(line)
    labels_from = max(colon - _LABEL_REACH, 0)
    copyright_sign = "©" in line
    for pattern, possible, start in (
        (_LABELLED, colon >= 0, labels_from),
        (_CHINESE, colon >= 0, labels_from),
        (_BY, odd or "by" in lowered, 0),
        (_COURTESY, odd or "courtesy" in lowered, 0),
        (_AGENCY_PAREN, "(" in line or "（" in line, 0),
        (_COPYRIGHT_LEAD, copyright_sign or odd or "(c)" in lowered or "copyright" in lowered, 0),
    ):
        match = pattern.search(line, start) if possible else None
        if match:
            return CaptionParts(
                _clean_caption(line[: match.start()]), _clean_credit(match.group("credit"))
            )
    match = _COPYRIGHT_TRAIL.search(line) if copyright_sign else None
    if match:
        # "Mars 2013, Aly Song, Reuters ©.": the credit is the part after the first comma
        # group when the line starts with a place/date; without commas the whole is the credit.
        head, _, tail = match.group("credit").partition(", ")
        if tail:
            return CaptionParts(_clean_caption(line[: match.start()] + head), _clean_credit(tail))
        return CaptionParts(_clean_caption(line[: match.start()]), _clean_credit(head))
    match = _PIPE.match(line) if ("|" in line or "｜" in line) else None
    if match:
        return CaptionParts(_clean_caption(match.group("caption")), _clean_credit(match["credit"]))
    return CaptionParts(line, None)


def is_credit_line(text: str | None) -> bool:
    """True when ``text`` is nothing but a credit ("Credit: X", "Photo by X", "图片来源：X")."""
    parts = split_caption(text)
    return parts.credit is not None and parts.caption is None
