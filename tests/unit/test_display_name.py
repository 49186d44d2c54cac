"""The SendGrid display-name shortcut gives what the full rewrite gives, for every character."""

from __future__ import annotations

import random
import sys

import pytest

from distributor.adapters.sendgrid import _NAME_FORBIDDEN, display_name


def _rewritten(name: str) -> str | None:
    return " ".join(name.translate(_NAME_FORBIDDEN).split()) or None


@pytest.mark.slow
def test_every_character_alone_and_inside_a_name() -> None:
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        for name in (character, f"Lin{character}Mei", f"{character}Lin", f"Mei{character}"):
            assert display_name(name) == _rewritten(name), (hex(code), name)


def test_random_names() -> None:
    pieces = ["Lin", "Mei", "陈", "思远", " ", "  ", ",", ";", "\t", "\u00a0", "\n", "O'Brien"]
    chooser = random.Random(11)
    for _ in range(20_000):
        name = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 6)))
        assert display_name(name) == _rewritten(name), repr(name)
