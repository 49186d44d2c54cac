"""Zero-width, bidi, emoji, soft-hyphen, non-breaking-space and combining characters come out of
the email renderer as the same characters, in every field, in attributes and in text.

mjml-python writes attribute values as Rust string literals (ZWNJ became the text ``\\u{200c}``);
:mod:`distributor.rendering.zero_width` writes them as character references first. These tests
render real issues and read the HTML as a mail client would (lxml decodes the references).
"""

from __future__ import annotations

import email
import email.policy
import re

import lxml.html
import mjml
import pytest

from distributor.adapters.email_base import OutgoingBatch, OutgoingRecipient
from distributor.adapters.smtp import build_message
from distributor.domain.articles import Article, Author, Image
from distributor.domain.text import normalise_space
from distributor.rendering.email import IssueContent, RenderedIssue, render_issue
from distributor.rendering.labels import labels_for
from distributor.rendering.zero_width import KEPT_RANGES, is_mangled, protect
from tests.factories.email_stories import branding
from tests.factories.unicode_samples import SAMPLES, SPACE_SAMPLE
from tests.unit.rendering.email_properties import parse

BASE = "https://news.example.org"


def _story(text: str, language: str) -> Article:
    lead = Image(
        url=f"{BASE}/media/lead.jpg",
        caption=f"Caption {text}.",
        credit=f"Studio {text}",
        alt=f"Alt {text}",
        is_lead=True,
    )
    inline = Image(
        url=f"{BASE}/media/inline.jpg",
        caption=f"Inline caption {text}.",
        credit=f"Inline studio {text}",
        alt=f"Inline alt {text}",
    )
    body = (
        f"<p>First paragraph {text}.</p>"
        f'<figure><img src="{inline.url}"><figcaption>{inline.caption}</figcaption></figure>'
        f"<p>Second paragraph {text}.</p>"
    )
    return Article(
        guid=f"{BASE}/?p=1",
        title=f"Title {text}",
        canonical_url=f"{BASE}/stories/1",
        body_html=body,
        language=language,
        authors=(Author(name=f"Name {text}", bio=f"Bio {text}.", profile_url=f"{BASE}/authors/1"),),
        images=(lead, inline),
        notes=(f"Note {text}",),
    )


def _render(text: str, language: str, layout: str) -> tuple[IssueContent, RenderedIssue]:
    content = IssueContent(
        subject=f"Subject {text}",
        preheader=f"Preheader {text}",
        editor_note=f"Editor {text}",
        language=language,
        articles=(_story(text, language),),
        list_title=f"List {text}",
        layout=layout,
    )
    house = branding(publisher_name=f"Press {text}", logo_url=f"{BASE}/logo.png")
    return content, render_issue(content, house)


def _texts(root: lxml.html.HtmlElement, *tags: str) -> list[str]:
    return [element.text_content() for element in root.iter(*tags)]


@pytest.mark.parametrize("layout", ["excerpt", "full"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_field_keeps_its_characters_in_the_html(name: str, layout: str) -> None:
    text, language = SAMPLES[name]
    content, rendered = _render(text, language, layout)
    story = content.articles[0]
    if name != SPACE_SAMPLE:
        assert normalise_space(text) == text  # the fields below carry the characters as given
    kept = normalise_space  # what the renderer is given for a story field
    assert "\\u{" not in rendered.html
    root = parse(rendered.html)

    subject = kept(content.subject)
    assert root.findtext(".//title") == subject
    assert [div.get("aria-label") for div in root.iter("div") if div.get("role") == "article"] == [
        subject
    ]
    assert _texts(root, "h1") == [subject]
    hidden = [div for div in root.iter("div") if "display:none" in (div.get("style") or "")]
    assert [div.text_content() for div in hidden] == [kept(content.preheader)]

    alts = [img.get("alt") for img in root.iter("img")]
    assert f"Press {text}" in alts  # the logo: not normalised
    assert kept(f"Alt {text}") in alts
    if layout == "full":
        assert kept(f"Inline alt {text}") in alts
        assert kept(f"Inline caption {text}.") in _texts(root, "p")
        assert labels_for(language).credit + kept(f"Inline studio {text}") in _texts(root, "p")
        assert kept(f"Second paragraph {text}.") in _texts(root, "p")
    else:
        excerpt = " ".join(_texts(root, "p"))
        assert kept(f"First paragraph {text}.") in excerpt

    links = _texts(root, "a")
    assert kept(story.title) in links
    assert kept(f"Name {text}") in links
    assert f"Press {text}" in links  # the masthead
    paragraphs = _texts(root, "p")
    assert kept(f"Caption {text}.") in paragraphs
    assert labels_for(language).credit + kept(f"Studio {text}") in paragraphs
    assert kept(f"Note {text}") in paragraphs
    assert kept(f"Bio {text}.") in paragraphs
    assert kept(f"List {text}") in paragraphs
    assert f"Editor {text}" in paragraphs  # the editor's note is not normalised


@pytest.mark.parametrize("layout", ["excerpt", "full"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_field_keeps_its_characters_in_the_plain_text(name: str, layout: str) -> None:
    text, language = SAMPLES[name]
    content, rendered = _render(text, language, layout)
    kept = normalise_space
    lines = rendered.text.splitlines()
    assert "\\u{" not in rendered.text
    assert f"Press {text}" in lines
    assert f"Editor {text}" in lines
    for line in (
        kept(content.subject),
        kept(f"Title {text}"),
        f"[{kept(f'Caption {text}.')}]",
        labels_for(language).credit + kept(f"Studio {text}"),
        kept(f"Note {text}"),
        kept(f"Bio {text}."),
    ):
        assert line in lines


@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_subject_header_keeps_its_characters(name: str) -> None:
    text, language = SAMPLES[name]
    content, rendered = _render(text, language, "excerpt")
    batch = OutgoingBatch(
        from_email="news@news.example.org",
        from_name="Press",
        subject=content.subject,
        text=rendered.text,
        html=rendered.html,
        recipients=[],
    )
    recipient = OutgoingRecipient(delivery_id=1, email="reader@example.org", name=None)
    message = email.message_from_bytes(
        build_message(batch, recipient).as_bytes(), policy=email.policy.default
    )
    assert str(message["Subject"]) == f"Subject {text}"


def test_a_persian_issue_keeps_its_joiners_everywhere() -> None:
    """A Persian issue: every "می‌خواهم" and "نامه‌های" of the source keeps its ZWNJ in each
    attribute and text of the HTML and in the plain text, and the emoji family stays whole."""
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    title = f"می\u200cخواهم بدانم: نامه\u200cهای خوانندگان {family}"
    _content, rendered = _render(title, "fa", "full")
    root = parse(rendered.html)
    assert root.findtext(".//title") == f"Subject {title}"
    assert f"Alt {title}" in [img.get("alt") for img in root.iter("img")]
    values = [value for element in root.iter() for value in element.attrib.values()]
    values += [piece for element in root.iter() for piece in (element.text, element.tail) if piece]
    assert sum("خواهم" in value for value in values) >= 10
    for document in ("\n".join(values), rendered.text):
        assert "\\u{" not in document
        assert document.count("خواهم") == document.count("می\u200cخواهم")
        assert document.count("های") == document.count("نامه\u200cهای")
        assert document.count("\U0001f467") == document.count(family)


# ------------------------------------------------------------------ the protection itself
_SKIPPED = frozenset("<>&\"'|\r")


def _sweep_code_points() -> list[int]:
    # Every code point but surrogates, C0/C1 controls (removed or dropped), the two
    # noncharacters the MJML parser refuses, and markup characters.
    return [
        code_point
        for code_point in range(0x20, 0x110000)
        if not 0x7F <= code_point <= 0x9F
        and not 0xD800 <= code_point <= 0xDFFF
        and code_point not in (0xFFFE, 0xFFFF)
        and chr(code_point) not in _SKIPPED
    ]


def _alt_after_render(source_text: str, *, protected: bool) -> str:
    source = (
        '<mjml><mj-body><mj-section><mj-column><mj-image src="https://e.example/a.png" '
        f'alt="{source_text}" /></mj-column></mj-section></mj-body></mjml>'
    )
    html = mjml.mjml2html(protect(source) if protected else source, fonts={})
    images = list(parse(html).iter("img"))
    assert len(images) == 1
    return str(images[0].get("alt"))


@pytest.mark.slow  # an exhaustive check (about 4 s)
def test_every_character_the_renderer_mangles_is_known_and_protected() -> None:
    """Over every code point: what mjml-python changes unprotected is what :func:`is_mangled`
    names, and once protected every character comes out as itself."""
    code_points = _sweep_code_points()
    changed: list[int] = []
    wrong: list[int] = []
    for start in range(0, len(code_points), 20_000):
        chunk = code_points[start : start + 20_000]
        text = "|".join(map(chr, chunk))
        raw = _alt_after_render(text, protected=False).split("|")
        changed.extend(
            code_point for code_point, out in zip(chunk, raw, strict=True) if out != chr(code_point)
        )
        if _alt_after_render(text, protected=True) != text:  # find which, one by one
            wrong.extend(
                code_point
                for code_point in chunk
                if _alt_after_render(chr(code_point), protected=True) != chr(code_point)
            )
    assert 0x200C in changed  # the renderer still mangles: this test still tests something
    assert [hex(code_point) for code_point in changed if not is_mangled(chr(code_point))] == []
    assert [hex(code_point) for code_point in wrong] == []


def test_the_characters_passed_over_are_kept_by_the_renderer() -> None:
    for first, last in KEPT_RANGES:
        assert not any(is_mangled(chr(code_point)) for code_point in range(first, last + 1))


def test_only_attribute_values_and_the_title_are_rewritten() -> None:
    source = (
        "<mjml><mj-head><mj-title>a\u200cb</mj-title>"
        '<mj-style>[title="\u200c"]::after{content:"\\201C\u00a0"}</mj-style></mj-head>'
        "<mj-body><mj-section><mj-column>"
        '<mj-text><p title="x\u200cy" data-path="C:\\dir">p\u200cq \\ r</p></mj-text>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    assert protect(source) == source.replace("<mj-title>a\u200cb", "<mj-title>a&#x200c;b").replace(
        'title="x\u200cy" data-path="C:\\dir"', 'title="x&#x200c;y" data-path="C:&#x5c;dir"'
    )


def test_a_tag_written_over_several_lines_keeps_its_attributes() -> None:
    source = (
        "<mjml><mj-body><mj-section><mj-column>\n"
        '<mj-image\n  src="https://e.example/a.png"\n  alt="x=" title="\u200c"\n/>\n'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    image = next(parse(mjml.mjml2html(protect(source), fonts={})).iter("img"))
    assert (image.get("src"), image.get("alt"), image.get("title")) == (
        "https://e.example/a.png",
        "x=",
        "\u200c",
    )


def test_control_characters_in_an_attribute_are_left_out_not_spelled() -> None:
    # HTML has no reference for C1 controls (&#x85; reads as "…"): they are dropped.
    assert _alt_after_render("a\x85b\x9fc", protected=True) == "abc"
    assert re.search(r"\\u\{", _alt_after_render("a\x85b", protected=False))


def test_a_quote_in_the_title_cannot_open_an_attribute_of_the_body() -> None:
    # MRML copies the title into aria-label, where a raw '"' became '\"' and ended the value.
    source = (
        '<mjml><mj-head><mj-title>x" onmouseover="alert(1)</mj-title></mj-head>'
        "<mj-body><mj-section><mj-column><mj-text>t</mj-text></mj-column></mj-section>"
        "</mj-body></mjml>"
    )
    unprotected = parse(mjml.mjml2html(source, fonts={}))
    assert any(element.get("onmouseover") for element in unprotected.iter())
    root = parse(mjml.mjml2html(protect(source), fonts={}))
    assert not any(element.get("onmouseover") for element in root.iter())
    assert [div.get("aria-label") for div in root.iter("div") if div.get("role") == "article"] == [
        'x" onmouseover="alert(1)'
    ]
