"""Text that ends up in an email header (subject, sender name, list title) is one line (pure).

A line break in a header value would start a new header (``Bcc: …``); Python's email package
refuses such a value at send time, and other paths would pass it on raw. So it is refused where
it is typed, with a message that names the field.
"""

from __future__ import annotations

import re

# CR, LF and the other characters that some software treats as a line break.
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]")


def line_break_problem(field: str, value: str | None) -> str | None:
    """Why ``value`` cannot be the ``field`` of an email, or None when it is one line."""
    if value is None or _LINE_BREAK.search(value) is None:
        return None
    return f"the {field} must be one line: it contains a line break (CR or LF); remove it"
