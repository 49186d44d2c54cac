"""The pure cell rules behind every CSV we write (OWASP's list of formula triggers)."""

from __future__ import annotations

import pytest

from distributor.domain.spreadsheets import restore_cell, safe_cell, safe_row


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=", '=HYPERLINK("x")']
)
def test_formula_cells_get_a_quote_and_come_back(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert restore_cell(safe_cell(value)) == value


@pytest.mark.parametrize("value", ["", "Mei Lin", "reader@example.org", "'quoted", "'", "1-2"])
def test_other_cells_are_left_alone(value: str) -> None:
    assert safe_cell(value) == value
    assert restore_cell(value) == value


def test_a_row_is_made_safe_cell_by_cell() -> None:
    assert safe_row(["a@example.org", "=x", ""]) == ["a@example.org", "'=x", ""]
