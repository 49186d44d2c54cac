"""Broken story markup loses no readable text (issue 15, point 3).

Hand-written cases for each way markup breaks, then hypothesis-generated tag soup. The
Chromium oracle over such markup and the corpus is tests/browser/test_story_text_oracle.py.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from distributor.ingest import parsing
from distributor.ingest.extract import extract_body
from distributor.ingest.parsing import MAX_DEPTH, parse_fragment
from distributor.ingest.sanitise import html_to_text, sanitise_html

BASE = "https://news.example.org/stories/1"


def _stored_text(markup: str) -> str:
    return html_to_text(extract_body(markup, BASE, "Title").body_html)


def _assert_kept(markup: str, *sentences: str) -> str:
    text = _stored_text(markup)
    for sentence in sentences:
        assert sentence in text, (sentence, markup, text)
    return text


def test_unclosed_and_misnested_tags_keep_every_sentence() -> None:
    text = _assert_kept(
        "<p>First <b>bold <i>both</p><p>Second</b> sentence.<p>Third <em>one",
        "First bold both",
        "Second sentence.",
        "Third one",
    )
    assert "Third one" in text


def test_stray_end_tags_are_ignored() -> None:
    _assert_kept(
        "</div></p><p>Alpha starts.</span></td></p>Beta follows.</table><p>Gamma ends.</b>",
        "Alpha starts.",
        "Beta follows.",
        "Gamma ends.",
    )


def test_unclosed_svg_does_not_swallow_the_story() -> None:
    body = extract_body('<p>Lead.</p><svg viewBox="0 0 1 1"><path d="M0"><p>The story goes on.</p>')
    assert "The story goes on." in html_to_text(body.body_html)
    assert "<svg" not in body.body_html
    assert "<path" not in body.body_html


def test_svg_and_math_keep_the_text_they_display() -> None:
    markup = (
        "<p>Chart:</p><svg><title>icon title</title><text>Sales doubled</text>"
        "<foreignObject><p>HTML inside</p></foreignObject></svg>"
        "<p>Formula <math><mi>x</mi><mo>=</mo><mn>2</mn><annotation>hidden</annotation>"
        "</math> holds.</p><math><mtext>Unclosed math text"
    )
    text = _assert_kept(markup, "Sales doubled", "HTML inside", "x=2", "holds.", "Unclosed math")
    assert "icon title" not in text
    assert "hidden" not in text


def test_tables_without_closing_tags_keep_their_cells() -> None:
    _assert_kept(
        "<table><tr><td>Cell one<td>Cell two<tr><td>Cell three</table><p>After the table.",
        "Cell one",
        "Cell two",
        "Cell three",
        "After the table.",
    )


def test_text_foster_parented_out_of_a_table_is_kept() -> None:
    _assert_kept("<table>Stray words<tr><td>cell</td></tr></table>", "Stray words", "cell")


def test_noscript_is_read_with_scripting_off() -> None:
    body = extract_body(
        "<p>Intro.</p><noscript><p>Shown without scripts.</p></noscript><p>Outro.</p>", BASE
    )
    assert "Shown without scripts." in html_to_text(body.body_html)
    assert "noscript" not in body.body_html


def test_noscript_fallback_of_a_lazy_image_is_not_a_second_image() -> None:
    body = extract_body(
        '<p><img data-src="/a.jpg" src="data:image/gif;base64,R0l"><noscript>'
        '<img src="/a.jpg"></noscript></p><p>Text.</p>',
        BASE,
    )
    assert [image.url for image in body.images] == ["https://news.example.org/a.jpg"]


def test_template_content_is_not_displayed() -> None:
    text = _assert_kept("<p>Kept.</p><template><p>Inert template.</p></template>", "Kept.")
    assert "Inert template" not in text


def test_unclosed_script_style_iframe_do_not_swallow_the_story() -> None:
    for opener in ("<script>var a = 1;", "<style>p { color: red }", '<iframe src="x">'):
        body = extract_body(f"<p>Before.</p>{opener}<p>The rest of the story.</p><p>More.</p>")
        text = html_to_text(body.body_html)
        assert "The rest of the story." in text, opener
        assert "More." in text, opener
        assert "var a" not in text
        assert "color" not in text
        assert not re.search(r"<(script|style|iframe)", body.body_html)


def test_closed_script_keeps_its_markup_out() -> None:
    text = _assert_kept(
        "<p>One.</p><script>document.write('<p>fake</p>')</script><p>Two.</p>", "One.", "Two."
    )
    assert "fake" not in text


def test_unsafe_link_becomes_plain_text() -> None:
    for href in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "jav&#x61;script:alert(1)",
        " \tjavascript:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:msgbox(1)",
    ):
        html = sanitise_html(f'<p>See <a href="{href}">the <b>report</b></a> now.</p>', BASE)
        assert "<a" not in html, (href, html)
        assert html_to_text(html) == "See the report now.", href


def test_safe_links_stay_and_anchors_without_href_go() -> None:
    html = sanitise_html(
        '<p><a name="top">Top</a> and <a href="/x" title="a > b">kept</a></p>', BASE
    )
    assert html.count("<a ") == 1
    assert 'href="https://news.example.org/x"' in html
    assert "Top and" in html_to_text(html)


def test_unsafe_link_inside_a_safe_one_unwraps_only_itself() -> None:
    html = sanitise_html(
        '<a href="https://a.example/"><table><tr><td><a href="javascript:x">in</a>'
        "</td></tr></table>out</a>"
    )
    assert html.count("<a ") == 1
    assert html.count("</a>") == 1
    assert "in" in html_to_text(html)
    assert "out" in html_to_text(html)


def test_pathological_nesting_is_flattened() -> None:
    depth = 3000
    markup = "<div><span>" * (depth // 2) + "Deep words." + "</span></div>" * (depth // 2)
    tree = parse_fragment(markup)
    deepest = max(sum(1 for _ in element.iterancestors()) for element in tree.iter())
    assert deepest <= MAX_DEPTH + 1
    assert "Deep words." in _stored_text(markup)


def test_leading_text_with_escaped_markup_stays_text() -> None:
    assert "a <script> tag" in _stored_text("a &lt;script&gt; tag<p>and more</p>")


def test_xml_incompatible_characters_do_not_break_parsing() -> None:
    _assert_kept("<p>bad\x00char\x0b here\ud800.</p>", "badchar here.")


def test_parse_fragment_returns_a_div_with_html_elements() -> None:
    tree = parse_fragment("lead<p>para <o:p>word</o:p></p>tail<x=y>q</x=y>")
    assert tree.tag == "div"
    assert tree.text == "lead"
    assert etree.tostring(tree, encoding="unicode", method="html") == (
        "<div>lead<p>para <span>word</span></p>tail<span>q</span></div>"
    )


# ---------------------------------------------------------------------------- generated
# Tags whose text a browser always displays, opened and closed in any order (misnested,
# unclosed, stray end tags). Unsafe links are among them: their words must stay as text.
_OPEN = [
    "<p>", "<div>", "<b>", "<i>", "<em>", "<span>", "<ul>", "<li>", "<blockquote>", "<h2>",
    "<table>", "<tr>", "<td>", "<th>", "<tbody>", "<pre>", "<s>", "<small>", "<font>",
    '<a href="javascript:alert(1)">', '<a href="data:text/html,x">', '<a href="/ok">',
    "<noscript>", "<svg>", "<math>", "<section>", "<center>", "<dl>", "<dt>", "<dd>",
    "<caption>", "<h2 class=x>", "<br>", "<hr>",
]  # fmt: skip
_CLOSE = [f"</{tag}>" for tag in ("p", "div", "b", "i", "td", "tr", "table", "a", "li", "svg",
          "math", "noscript", "span", "ul", "h2", "body", "html", "pre")]  # fmt: skip


@st.composite
def _tag_soup(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Markup of random tags around numbered words; the words that must survive."""
    count = draw(st.integers(min_value=1, max_value=30))
    parts: list[str] = []
    words: list[str] = []
    for number in range(count):
        parts.extend(draw(st.lists(st.sampled_from(_OPEN + _CLOSE), max_size=4)))
        word = f"w{number}q"
        words.append(word)
        parts.append(f" {word} ")
    parts.extend(draw(st.lists(st.sampled_from(_OPEN + _CLOSE), max_size=3)))
    return "".join(parts), words


@pytest.mark.slow  # generated: 300 examples
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tag_soup())
def test_generated_tag_soup_keeps_every_word(soup: tuple[str, list[str]]) -> None:
    markup, words = soup
    # In a <svg>, only text elements display text: words directly inside are not shown by a
    # browser either, so the generated markup keeps every word out of foreign content.
    if "<svg>" in markup or "<math>" in markup:
        markup = markup.replace("<svg>", "<svg></svg>").replace("<math>", "<math></math>")
    body = extract_body(markup, BASE, "Title")
    text = html_to_text(body.body_html)
    for word in words:
        assert word in text, (word, markup, body.body_html)
    assert "<a>" not in body.body_html
    assert "<a rel" not in body.body_html
    assert "javascript" not in body.body_html
    assert "data:" not in body.body_html


_DANGER = ["<script>", "<style>", '<iframe src="x">', "<template>", "<svg><g>", "<math>"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_OPEN + _CLOSE), max_size=6),
    st.sampled_from(_DANGER),
    st.integers(min_value=1, max_value=6),
)
def test_generated_unclosed_dangerous_element_keeps_the_story_after_it(
    before: list[str], danger: str, paragraphs: int
) -> None:
    story = [f"Sentence number {n} of the story." for n in range(paragraphs)]
    markup = "".join(before) + "<p>Lead.</p>" + danger + "".join(f"<p>{s}</p>" for s in story)
    body = extract_body(markup, BASE, "Title")
    text = html_to_text(body.body_html)
    for sentence in story:
        assert sentence in text, (markup, body.body_html)
    assert not re.search(r"<(script|style|iframe|template|svg|math)", body.body_html)


@pytest.mark.slow  # generated: 300 examples
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tag_soup())
def test_fast_path_builds_the_tree_the_walk_builds(soup: tuple[str, list[str]]) -> None:
    markup = parsing._clean_input(soup[0])
    fast = parsing._plain_tree(markup)
    walked = parsing._build(markup, repair=False)
    assert not isinstance(walked, str)
    if fast is not None:
        assert etree.tostring(fast, method="html") == etree.tostring(walked, method="html")


def test_fast_path_serves_plain_bodies_and_not_the_others() -> None:
    plain = "<p>One <a href='/x'>link</a>.</p><ul><li>item</ul><table><tr><td>cell</table>"
    assert parsing._plain_tree(plain) is not None
    for special in ("<svg><text>x</text></svg>", "<noscript><p>x</p></noscript>", "<mi>x</mi>",
                    "<script>x</script>", "<template>x</template>", "<xmp>x</xmp>"):  # fmt: skip
        assert parsing._plain_tree(plain + special) is None, special
    deep = "<div>" * 300 + "x"
    assert parsing._plain_tree(deep) is None
