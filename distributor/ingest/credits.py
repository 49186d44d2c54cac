"""Splitting a photo caption line into the caption and the credit.

Newsroom CMSs rarely give the credit as a field; it sits at the end of the caption line in a
handful of house forms. :func:`split_caption` recognises them and returns the two parts; the
credit is the party credited, without its label ("Photo by Jane Doe" gives "Jane Doe").

Recognised forms (case-insensitive, at the end of the line), each language's in its table
(``distributor/locale/<locale>/ingest.toml``, read by :mod:`distributor.ingest.forms`; every
language is tried on every line):

- labelled: ``Credit: X``, ``Photo: X``, ``摄影：X``, ``攝影：X``, ``Crédit photo : X``,
  ``تصوير: X``, ``عکس: X`` (full- or half-width colon, optionally inside （…）), and slashed:
  ``圖／X``;
- ``Photo by X``, ``Foto de X`` (before a capital), ``بعدسة X``, ``عکس از X``;
- ``Courtesy of X``, ``Cortesía de X``, ``Avec l'aimable autorisation de X`` (kept whole:
  "courtesy" says how the image was obtained);
- an agency parenthesis: ``(X/Getty Images)``, ``(AP Photo/X)``, ``(Reuters)``, ``(中央社)``;
- copyright: ``© X``, ``(c) X``, ``Copyright X`` and the trailing ``X ©``;
- the pipe form ``说明 | 极客公园制图``.

Pure functions (the form tables, package data, are read once per process).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distributor.domain.text import normalise_space
from distributor.ingest.forms import ingest_forms

_SPACE = re.compile(r"\s+")

_COPYRIGHT_TRAIL = re.compile(r"(?P<credit>[^.!?。！？]+?)\s*©\s*\.?\s*$")
# "说明 | 极客公园制图": a short party after a pipe at the very end of a caption.
_PIPE = re.compile(r"^(?P<caption>.+?)\s*[|｜]\s*(?P<credit>[^|｜。.!?！？,，;；]{1,24})$")

# What each form cannot match without (the patterns search every position of the line, so
# running all of them on a line without a credit is the slow path): a colon for the labelled
# forms, a slash for the slashed ones, one of the hints of the "by", courtesy and copyright
# forms (:class:`distributor.ingest.forms.Hints`), a parenthesis, a pipe.
#
# The labelled forms end their label just before a colon, and start at most
# ``label_reach`` characters before it (an opening bracket, a space, the longest label, a
# space: in a whitespace-normalised line each \s* there is at most one space, and every other
# pattern character matches one character). Their first match is therefore never earlier than
# this far before the line's first colon, and they are searched from there: the same match,
# without trying every earlier position (tested).
_COLONS = (":", "：", "﹕")


def _first_colon(line: str) -> int:
    """Where the first colon (":", "：" or "﹕") of ``line`` is, -1 when it has none."""
    first = -1
    for colon in _COLONS:
        position = line.find(colon)
        if position >= 0 and (first < 0 or position < first):
            first = position
    return first


def _label_reach() -> int:
    return ingest_forms().label_reach


@dataclass(frozen=True, slots=True)
class CaptionParts:
    """A caption line split into its description and its credit (either may be None)."""

    caption: str | None
    credit: str | None


def _clean_caption(text: str) -> str | None:
    text = text.strip().rstrip("—–-|｜:：;；,，،؛(（[【").strip()
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
    forms = ingest_forms()
    lowered = line.lower()
    colon = _first_colon(line)
    labels_from = max(colon - _label_reach(), 0)
    copyright_sign = "©" in line
    for pattern, possible, start in (
        (forms.credit_labelled, colon >= 0, labels_from),
        (forms.credit_slashed, "/" in line or "／" in line, 0),
        (forms.credit_by, forms.credit_by_hints.may_hold(lowered), 0),
        (forms.credit_courtesy, forms.credit_courtesy_hints.may_hold(lowered), 0),
        (forms.agency_paren, "(" in line or "（" in line, 0),
        (forms.copyright_lead, copyright_sign or forms.copyright_hints.may_hold(lowered), 0),
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
