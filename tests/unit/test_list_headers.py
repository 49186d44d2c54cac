"""The RFC 2919 List-Id value: name under the newsroom's domain, the title as its phrase."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest

from distributor.domain.list_headers import list_id_header, list_id_namespace


@pytest.mark.parametrize(
    ("host", "namespace"),
    [
        ("news.example.org", "news.example.org"),
        ("News.Example.ORG.", "news.example.org"),
        ("127.0.0.1", "localhost"),
        ("[::1]", "localhost"),
        ("localhost", "localhost"),
        ("intranet", "localhost"),
        (None, "localhost"),
        ("", "localhost"),
    ],
)
def test_namespace_is_the_domain_or_localhost(host: str | None, namespace: str) -> None:
    assert list_id_namespace(host) == namespace


def test_plain_title_is_a_quoted_phrase() -> None:
    assert (
        list_id_header("weekly", "The Weekly Dispatch", "news.example.org")
        == '"The Weekly Dispatch" <weekly.news.example.org>'
    )


def test_quotes_and_backslashes_are_escaped() -> None:
    value = list_id_header("weekly", 'A "B" \\ C', "example.org")
    assert value == '"A \\"B\\" \\\\ C" <weekly.example.org>'


def test_no_title_gives_the_bare_identifier() -> None:
    assert list_id_header("weekly", None, "localhost") == "<weekly.localhost>"
    assert list_id_header("weekly", " \r\n ", "localhost") == "<weekly.localhost>"


def test_control_characters_never_reach_the_header() -> None:
    value = list_id_header("weekly", "Weekly\r\nBcc: someone@example.org", "example.org")
    assert "\r" not in value
    assert "\n" not in value
    assert value == '"Weekly Bcc: someone@example.org" <weekly.example.org>'


def test_non_ascii_title_is_an_encoded_word_that_decodes_back() -> None:
    value = list_id_header("zhoukan", "每周通讯 · 週刊", "example.org")
    assert value.isascii()
    assert value.endswith(" <zhoukan.example.org>")
    phrase = value.rsplit(" <", 1)[0]
    assert str(make_header(decode_header(phrase))) == "每周通讯 · 週刊"
