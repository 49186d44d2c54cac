"""Render once, personalise per recipient: locally and as SendGrid substitutions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from distributor.domain.links import archive_url, preferences_url, unsubscribe_url
from distributor.domain.tokens import make_token
from distributor.rendering.email import (
    FIRST_NAME,
    FIRST_NAME_HTML,
    PLACEHOLDERS,
    PREFERENCES_URL,
    UNSUBSCRIBE_URL,
    WEB_URL,
    Recipient,
    fallback_first_name,
    personalise,
    render_issue,
    render_web_archive,
    substitutions_for,
)
from tests.factories.email_stories import branding, english_article, issue_content
from tests.unit.rendering.email_properties import hrefs, parse, visible_text

BASE = "https://news.example.org"


def recipient(first_name: str | None = "Ada", subscriber_id: int = 1) -> Recipient:
    token = make_token("secret", "manage", subscriber_id, 3, issued_at=1_700_000_000)
    return Recipient(
        email=f"reader{subscriber_id}@example.org",
        first_name=first_name,
        unsubscribe_url=unsubscribe_url(BASE, token),
        preferences_url=preferences_url(BASE, token),
        web_url=archive_url(BASE, "webtoken"),
    )


def sendgrid_substitute(body: str, substitutions: dict[str, str]) -> str:
    """What SendGrid does with ``substitutions``: replace each key, in the body as sent."""
    for key, value in substitutions.items():
        body = body.replace(key, value)
    return body


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_substitutions_give_the_same_copy_as_local_personalisation(language: str) -> None:
    rendered = render_issue(issue_content(6, language), branding())
    fallback = fallback_first_name(language)
    for person in (recipient("Ada"), recipient(None, 2), recipient("O'Brien & <Sons>", 3)):
        substitutions = substitutions_for(person, fallback)
        assert set(substitutions) == set(PLACEHOLDERS)
        assert all(isinstance(value, str) for value in substitutions.values())
        html, text = personalise(rendered, person, fallback)
        assert sendgrid_substitute(rendered.html, substitutions) == html
        assert sendgrid_substitute(rendered.text, substitutions) == text


def test_first_name_is_escaped_in_html_and_raw_in_text() -> None:
    rendered = render_issue(issue_content(1), branding())
    name = '<b>Zoë</b> & "Co"'
    html, text = personalise(rendered, recipient(name), "reader")
    assert f"Dear {name}," in text
    assert f"Dear {name}," in visible_text(html)  # shown literally, not interpreted
    assert not list(parse(html).iter("b"))


def test_missing_or_blank_first_name_uses_the_fallback() -> None:
    rendered = render_issue(issue_content(1, "zh-Hans"), branding())
    for name in (None, "", "   "):
        html, text = personalise(rendered, recipient(name), "读者")
        assert "亲爱的读者：" in text
        assert "亲爱的读者：" in visible_text(html)


def test_each_recipient_gets_only_their_own_links() -> None:
    rendered = render_issue(issue_content(2), branding())
    first, second = recipient("A", 1), recipient("B", 2)
    html_one, text_one = personalise(rendered, first, "reader")
    html_two, _ = personalise(rendered, second, "reader")
    assert first.unsubscribe_url in hrefs(html_one)
    assert first.unsubscribe_url in text_one
    assert second.unsubscribe_url not in html_one
    assert first.unsubscribe_url not in html_two


@pytest.mark.parametrize(
    "bad_url",
    [
        "javascript:alert(1)",
        "https://x.org/u?a=1&b=2",
        'https://x.org/"onmouseover',
        "relative/path",
        "https://x.org/a b",
    ],
)
def test_unsafe_recipient_urls_are_refused(bad_url: str) -> None:
    with pytest.raises(ValueError, match="unsubscribe_url"):
        substitutions_for(replace(recipient(), unsubscribe_url=bad_url), "reader")


def test_story_text_shaped_like_a_placeholder_is_never_substituted() -> None:
    article = replace(
        english_article(0),
        title="Why -unsubscribe_url- and -first_name- appear in this headline",
        notes=("Note about -web_url- and -first_name_html-.",),
    )
    content = replace(issue_content(1), articles=(article,))
    rendered = render_issue(content, branding())
    html, text = personalise(rendered, recipient("Ada"), "reader")
    person = recipient("Ada")
    # The reader sees the literal words, and the headline did not receive anybody's link.
    assert "Why -unsubscribe_url- and -first_name- appear" in visible_text(html)
    assert "Why \u2011unsubscribe_url- and \u2011first_name- appear" in text
    assert html.count(person.unsubscribe_url) == 1
    assert text.count(person.unsubscribe_url) == 1


def test_personalise_caches_by_content_and_handles_many_issues() -> None:
    issues = [render_issue(issue_content(count), branding()) for count in (1, 2, 3)]
    for _ in range(3):
        for rendered in issues:
            html, _text = personalise(rendered, recipient(), "reader")
            for token in PLACEHOLDERS:
                assert token not in html


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_web_archive_has_no_personal_links_or_data(language: str) -> None:
    content = issue_content(4, language)
    rendered = render_issue(content, branding())
    web_url = archive_url(BASE, "webtoken")
    page = render_web_archive(rendered, web_url)
    for token in PLACEHOLDERS:
        assert token not in page
    links = hrefs(page)
    assert not any("/unsubscribe/" in link or "/preferences/" in link for link in links)
    shown = visible_text(page)
    assert fallback_first_name(language) in shown
    for article in content.articles:
        assert article.title in shown
        assert article.canonical_url in links
    assert "<!--email-->" not in page


def test_web_archive_keeps_the_publisher_address_and_drops_view_in_browser() -> None:
    rendered = render_issue(issue_content(1), branding())
    page = render_web_archive(rendered, archive_url(BASE, "tok"))
    shown = visible_text(page)
    assert "London EC1A 1AA" in shown
    assert "View in browser" not in shown
    assert "Unsubscribe" not in shown


def test_placeholder_keys_are_the_documented_sendgrid_keys() -> None:
    assert (UNSUBSCRIBE_URL, PREFERENCES_URL, FIRST_NAME, FIRST_NAME_HTML, WEB_URL) == (
        "-unsubscribe_url-",
        "-preferences_url-",
        "-first_name-",
        "-first_name_html-",
        "-web_url-",
    )
    rendered = render_issue(issue_content(1), branding())
    assert FIRST_NAME_HTML in rendered.html
    assert FIRST_NAME not in rendered.html
    assert FIRST_NAME in rendered.text
    assert FIRST_NAME_HTML not in rendered.text
