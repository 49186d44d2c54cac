"""The one address rule: what every entry point (readers, imports, desk accounts, test sends,
the CLI, MAIL_FROM) accepts, what it refuses and with which words, and the stored form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from distributor.config import Settings
from distributor.domain.addresses import canonical_email, email_problem, normalise_email


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org",
        "first.last+news@mail.example.co.uk",
        "o'brien@example.ie",
        "under_score@sub-domain.example.com",
        "x@example.museum",
        "  spaced@example.org  ",
        "zhao@例子.中国",
        "mueller@bücher.example",
        "a@xn--bcher-kva.example",
    ],
)
def test_good_addresses_pass(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("no-at-sign", "exactly one @"),
        ("two@@example.org", "exactly one @"),
        ("News <news@example.org>", "before @"),
        ("@example.org", "before @"),
        ("name@", "example.org"),
        ("name@localhost", "example.org"),
        ("name@example..org", "example.org"),
        ("name@-example.org", "example.org"),
        ("name@exa mple.org", "example.org"),
        (".lead@example.org", "misplaced dot"),
        ("trail.@example.org", "misplaced dot"),
        ("a..b@example.org", "misplaced dot"),
        ("李@example.org", "Latin letters"),
        ("müller@example.org", "Latin letters"),
        ("spa ce@example.org", "before @"),
        ("line@x.example\r\nBcc: victim@example.org", "exactly one @"),
        ("x@1.2.3.4", "not a number"),
        ("x" * 65 + "@example.org", "before @"),
        ("x" * 250 + "@example.org", "longer than 254"),
    ],
)
def test_bad_addresses_say_what_is_wrong(address: str, fragment: str) -> None:
    problem = email_problem(address)
    assert problem is not None
    assert fragment in problem


def test_a_local_host_is_accepted_only_when_asked() -> None:
    assert email_problem("newsletter@localhost") is not None
    assert email_problem("newsletter@localhost", single_label_domain=True) is None
    assert email_problem("x@1.2.3.4", single_label_domain=True) is not None


def test_ascii_only_refuses_an_internationalised_domain_but_not_its_punycode() -> None:
    problem = email_problem("zhao@例子.中国", ascii_only=True)
    assert problem is not None
    assert "ASCII" in problem
    assert email_problem("zhao@xn--fsqu00a.xn--fiqs8s", ascii_only=True) is None


def test_stored_form_is_trimmed_lower_case_with_an_ascii_domain() -> None:
    assert canonical_email(" Ada@Example.ORG ") == "ada@example.org"
    assert canonical_email("zhao@例子.中国") == "zhao@xn--fsqu00a.xn--fiqs8s"
    assert canonical_email("Zhao@例子.中国") == canonical_email(canonical_email("zhao@例子.中国"))
    assert normalise_email("  Ed@Example.org\n") == "ed@example.org"


@pytest.mark.parametrize("value", ["newsletter@localhost", "news@news.example.org"])
def test_mail_from_takes_plain_addresses(value: str) -> None:
    settings = Settings(MAIL_FROM=value)
    assert value == settings.MAIL_FROM


@pytest.mark.parametrize(
    "value",
    [
        "not-an-address",
        "News <news@x.example>",
        " news@x.example",
        "news@x.example\r\nBcc: victim@example.org",
        "news@例子.中国",
        ".news@x.example",
    ],
)
def test_mail_from_refuses_anything_a_header_could_not_carry(value: str) -> None:
    with pytest.raises(ValidationError, match="MAIL_FROM must be a plain ASCII address"):
        Settings(MAIL_FROM=value)
