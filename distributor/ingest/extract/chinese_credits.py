"""The trailing reprint credit block ("本文作者：X / 作者简介：Y / 链接：Z"); its labels are
each language's ``[reprint]`` table (:mod:`distributor.ingest.forms`)."""

from __future__ import annotations

import re

from lxml import etree

from distributor.domain.text import normalise_space
from distributor.ingest.extract.bios import (
    BioBlock,
)
from distributor.ingest.extract.markup import (
    BLOCK_TAGS,
    _remove,
    _text,
)
from distributor.ingest.forms import ingest_forms


def _take_chinese_credit_block(
    blocks: list[etree._Element],
) -> tuple[list[str], list[BioBlock], list[str]]:
    """The reprint block "本文作者：X<br>作者简介：Y<br>链接：Z" at the end of a body."""
    forms = ingest_forms()
    for block in reversed(blocks[-4:]):
        # A block holding no author or bio label's hint cannot be the credit.
        if block.getparent() is None or not forms.reprint_hints.may_hold(_text(block).lower()):
            continue
        lines = [
            normalise_space(line)
            for line in re.split(r"\n", _block_lines(block))
            if normalise_space(line)
        ]
        found = [(forms.reprint_line.match(line), line) for line in lines]
        if not any(m and (m.group("author") or m.group("bio")) for m, _ in found):
            continue
        names: list[str] = []
        bios: list[BioBlock] = []
        notes: list[str] = []
        for match, line in found:
            if match and match.group("author"):
                names.append(match.group("value").strip())
            elif match and match.group("bio"):
                bios.append(BioBlock(match.group("value").strip(), names[0] if names else None))
            else:
                notes.append(line)
        _remove(block)
        return names, bios, notes
    return [], [], []


def _block_lines(block: etree._Element) -> str:
    """Text of a block with <br> as newlines, and "作者简介：" starting its own line."""
    pieces: list[str] = []
    for node in block.iter():
        if node.tag == "br" or (
            isinstance(node.tag, str) and node.tag in BLOCK_TAGS and node is not block
        ):
            pieces.append("\n")
        if node is not block and node.tag == "br" and node.tail:
            pieces.append(node.tail)
            continue
        if isinstance(node.tag, str) and node.text and node.tag != "br":
            pieces.append(node.text)
        if node is not block and node.tail and node.tag != "br":
            pieces.append(node.tail)
    text = "".join(pieces)
    return ingest_forms().reprint_run_in.sub(r"\n\1：", text)
