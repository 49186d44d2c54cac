"""Public URLs that appear in emails and pages. One place, so every part agrees.

Tokens are opaque signed strings (see :mod:`distributor.domain.tokens`) made of URL-safe
characters only, so these URLs never need escaping in HTML.
"""

from __future__ import annotations

# Token purposes. A "manage" token serves both the one-click unsubscribe and the
# preferences page of one subscriber on one list.
MANAGE_PURPOSE = "manage"
CONFIRM_PURPOSE = "confirm"


def unsubscribe_url(base_url: str, token: str) -> str:
    """RFC 8058 target: GET shows a confirmation page, POST unsubscribes at once."""
    return f"{base_url}/unsubscribe/{token}"


def preferences_url(base_url: str, token: str) -> str:
    """The subscriber's preferences page (lists, language, resubscribe)."""
    return f"{base_url}/preferences/{token}"


def confirm_url(base_url: str, token: str) -> str:
    """Double opt-in confirmation link."""
    return f"{base_url}/confirm/{token}"


def archive_url(base_url: str, web_token: str) -> str:
    """The public web copy of an issue ("view in browser")."""
    return f"{base_url}/archive/{web_token}"


def newsletter_index_url(base_url: str, list_name: str) -> str:
    """The public archive of a public list: its sent issues and a signup form."""
    return f"{base_url}/newsletters/{list_name}"


def newsletter_feed_url(base_url: str, list_name: str) -> str:
    """The Atom feed of a public list's sent issues."""
    return f"{base_url}/newsletters/{list_name}/feed.atom"
