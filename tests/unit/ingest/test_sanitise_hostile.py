"""Nothing executable survives ingest: script, handlers, javascript: in many encodings, SVG,
CSS expressions, malformed nesting. Checked on the sanitiser and on the whole extraction."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from distributor.ingest.extract import extract_body
from distributor.ingest.sanitise import safe_url, sanitise_html

BASE = "https://magazine.example.org/stories/one"

HOSTILE = [
    "<script>alert(1)</script><p>ok</p>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=x OnErRoR=alert(1)>",
    '<img src="x" onerror="alert(1)"//>',
    "<body onload=alert(1)>",
    "<p onclick='alert(1)' onmouseover=\"alert(2)\">hover</p>",
    '<a href="javascript:alert(1)">j</a>',
    '<a href="JaVaScRiPt:alert(1)">j</a>',
    '<a href=" javascript:alert(1)">j</a>',
    '<a href="java\tscript:alert(1)">j</a>',
    '<a href="java\nscript:alert(1)">j</a>',
    '<a href="java&#x09;script:alert(1)">j</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">j</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">j</a>',
    '<a href="javascript&colon;alert(1)">j</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
    '&#0000112&#0000116&#0000058alert(1)">j</a>',
    '<a href="\x01javascript:alert(1)">j</a>',
    '<a href="vbscript:msgbox(1)">v</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example/"><input name=q><button>go</button></form>',
    '<div style="width: expression(alert(1))">css</div>',
    '<div style="background:url(javascript:alert(1))">css</div>',
    "<style>body{background:url('javascript:alert(1)')}</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<p>unclosed <b>bold <i>italic <a href='https://ok.example/'>link</p></div></span>",
    "<<p>>double</p><!-- <script>alert(1)</script> -->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    '<a href="https://ok.example/" target="_blank" onfocus=alert(1) autofocus>x</a>',
    '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
    "<details open ontoggle=alert(1)>",
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    '<img srcset="x 1x, javascript:alert(1) 2x" src="https://ok.example/i.jpg">',
    '<x-custom onclick="alert(1)">custom</x-custom>',
    '<a href="https://ok.example/" style="position:fixed;top:0">overlay</a>',
]

EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _assert_inert(cleaned: str) -> None:
    lowered = cleaned.lower()
    for needle in (
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "<svg",
        "<math",
        "<form",
        "<input",
        "<style",
        "<link",
        "<meta",
        "<base",
        "<template",
        "expression(",
        "style=",
        "srcset",
        "srcdoc",
    ):
        assert needle not in lowered, needle
    assert not EVENT_ATTRIBUTE.search(cleaned)
    fragment = lxml_html.fragment_fromstring(cleaned or "<div></div>", create_parent="div")
    for element in fragment.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on")
            if name in ("href", "src", "cite"):
                assert value.startswith(("https://", "http://", "mailto:")), (name, value)


@pytest.mark.parametrize("markup", HOSTILE)
def test_sanitiser_leaves_nothing_executable(markup: str) -> None:
    _assert_inert(sanitise_html(markup, BASE))


@pytest.mark.parametrize("markup", HOSTILE)
def test_whole_extraction_leaves_nothing_executable(markup: str) -> None:
    extracted = extract_body(markup, BASE)
    _assert_inert(extracted.body_html)
    for image in extracted.images:
        assert image.url.startswith(("https://", "http://"))


def test_structure_is_kept_and_urls_made_absolute() -> None:
    cleaned = sanitise_html(
        '<h2>Head</h2><p>Text <a href="/other">link</a> <a href="mailto:desk@example.org">m</a>'
        '</p><ul><li>one</li></ul><blockquote>q</blockquote><figure><img src="img/a.jpg" '
        'alt="A" width="10"><figcaption>Cap</figcaption></figure>'
        "<table><tr><td>1</td></tr></table>",
        BASE,
    )
    for tag in ("<h2>", "<ul>", "<li>", "<blockquote>", "<figure>", "<figcaption>", "<table>"):
        assert tag in cleaned
    assert 'href="https://magazine.example.org/other"' in cleaned
    assert 'href="mailto:desk@example.org"' in cleaned
    assert 'src="https://magazine.example.org/stories/img/a.jpg"' in cleaned
    assert 'rel="noopener noreferrer"' in cleaned


def test_relative_urls_without_a_base_are_dropped() -> None:
    assert "href" not in sanitise_html('<a href="/x">x</a>')


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "java\tscript:alert(1)", "&#106;avascript:alert(1)",
     "data:image/png;base64,AAAA", "vbscript:x", "//", "ftp://files.example/x"],
)  # fmt: skip
def test_safe_url_refuses_non_http(url: str) -> None:
    assert safe_url(url, BASE) is None


def test_safe_url_resolves_relative_and_protocol_relative() -> None:
    assert safe_url("/a.jpg", BASE) == "https://magazine.example.org/a.jpg"
    assert safe_url("//cdn.example.org/a.jpg", BASE) == "https://cdn.example.org/a.jpg"
