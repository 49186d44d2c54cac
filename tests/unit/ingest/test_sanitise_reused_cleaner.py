"""sanitise_html's reused nh3 cleaners give what ``nh3.clean`` with the same allow-list and a
per-call ``rewrite_with_base`` / ``deny`` policy gives (output, or the error for a bad base)."""

from __future__ import annotations

import random
from collections.abc import Callable

import nh3
import pytest

from distributor.ingest import sanitise
from distributor.ingest.sanitise import is_http_url

BASES = [
    None,
    "",
    "ftp://example.org/",
    "https://magazine.example.org/stories/1",
    "http://example.org",
    "https://example.org?x=1",
    "https://example.org#top",
    "https://a-b.example.co.uk/x/y/z.html?q=1#f",
    "https://EXAMPLE.org/",
    "HTTPS://example.org/",
    "https://example.org:443/",
    "http://example.org:80/a",
    "https://example.org:8080/a",
    "https://user:pw@example.org/",
    "https://127.0.0.1/a",
    "https://0x7f.1/a",
    "https://1234/a",
    "https://example.123/a",
    "https://xn--bcher-kva.example/",
    "https://xn--zz/",
    "https://bücher.example/",
    "https://-a-.example.org/",
    "https://example.org./",
    "https://exa\tmple.org/",
    " https://example.org/",
    "https://example.org/\x00/x",
    "https://example.org/pa th/",
    "http://[bad/",
    "http://exa mple.com/",
    "http://%zz/",
    "http://999999999999/",
    "https:\\\\example.org/",
]
URLS = [
    "/a.jpg",
    "/images/1-2.jpg",
    "/a/b_c~d-e/f.JPG",
    "/",
    "//evil.example/x",
    "/\\evil.example/x",
    "/a/../b",
    "/a/./b",
    "/a/%2e%2e/b",
    "/a/.%2E/b",
    "/a//b",
    "/a?b=1&c=2",
    "/a#frag",
    "/a b",
    "/a\tb",
    "/a\nb",
    " /a",
    "/a ",
    "/ü",
    "/a%20b",
    "/a:b",
    "/a@b",
    "/a;b",
    "/a'b",
    '/a"b',
    "/a<b",
    "/a`b",
    "/a{b}",
    "a.jpg",
    "./a.jpg",
    "../a.jpg",
    "?x=1",
    "#f",
    "",
    "https://ok.example/x",
    "javascript:alert(1)",
    "java&#x09;script:alert(1)",
    "data:image/gif;base64,xx",
    "mailto:a@example.org",
    "/&#x2e;&#x2e;/x",
    "/&amp;x",
    "/a&#x2f;b",
]


def _old(markup: str, base: str | None) -> str:
    relative = ("rewrite_with_base", base) if base and is_http_url(base) else "deny"
    return nh3.clean(
        markup,
        tags=set(sanitise.ALLOWED_TAGS),
        clean_content_tags=set(sanitise.REMOVED_WITH_CONTENT),
        attributes=sanitise.ALLOWED_ATTRIBUTES,
        url_schemes=set(sanitise.URL_SCHEMES),
        url_relative=relative,  # type: ignore[arg-type]
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _outcome(function: Callable[[str, str | None], str], markup: str, base: str | None) -> str:
    try:
        return function(markup, base)
    except Exception as exc:  # the error itself is compared
        return f"{type(exc).__name__}: {exc}"


def _markups(url: str) -> list[str]:
    return [
        f'<p><a href="{url}">x</a></p>',
        f"<p><img src='{url}' alt=a><a href='{url}' title=t>y</a></p>",
        f'<p><a href="/fine.jpg">ok</a><img src="{url}"><script>x</script></p>',
    ]


@pytest.mark.parametrize("base", BASES, ids=repr)
def test_reused_cleaners_match_nh3_clean(base: str | None) -> None:
    for url in URLS:
        for markup in _markups(url):
            assert _outcome(sanitise._clean, markup, base) == _outcome(_old, markup, base), markup


@pytest.mark.slow
def test_reused_cleaners_match_nh3_clean_random() -> None:
    rng = random.Random(11)
    alphabet = "/./a-Z_~%2e?#&;: \t\\@'\"<>ü0x"
    bases = [b for b in BASES if b] + ["https://example.org/a/b"]
    for _ in range(3000):
        url = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.7:
            url = "/" + url
        base = rng.choice(bases)
        markup = f'<p><img src="{url}"><a href="{url}">x</a></p>'
        assert _outcome(sanitise._clean, markup, base) == _outcome(_old, markup, base), (
            url,
            base,
        )


def test_rebase_state_is_reset_after_each_call() -> None:
    sanitise.sanitise_html('<img src="/a.jpg">', "https://example.org/x")
    assert sanitise._REBASE.origin == ""
    assert sanitise._REBASE.unsure is False
    # Without a base, relative URLs are still dropped.
    assert "src" not in sanitise.sanitise_html('<img src="/a.jpg">')


def test_plain_base_and_path_do_not_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_per_call_clean(*_: object, **__: object) -> str:
        raise AssertionError("fell back to nh3.clean")

    monkeypatch.setattr(sanitise.nh3, "clean", no_per_call_clean)
    cleaned = sanitise.sanitise_html(
        '<p><img src="/images/1-2.jpg"><a href="https://x.example/">x</a></p>',
        "https://magazine.example.org/stories/1",
    )
    assert cleaned == (
        '<p><img src="https://magazine.example.org/images/1-2.jpg">'
        '<a href="https://x.example/" rel="noopener noreferrer">x</a></p>'
    )


def test_reused_cleaners_from_several_threads() -> None:
    """Each thread resolves against its own base (the state is per thread)."""
    import threading

    failures: list[str] = []

    def work(number: int) -> None:
        base = f"https://h{number}.example.org/a"
        for _ in range(100):
            markup = f'<p><img src="/a{number}.jpg"><a href="/x?y">z</a></p>'
            if sanitise.sanitise_html(markup, base) != _old(markup, base):
                failures.append(base)
            if sanitise.sanitise_html('<img src="/a.jpg">x') != "<img>x":
                failures.append("deny")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
