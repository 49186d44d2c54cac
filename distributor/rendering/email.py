"""The newsletter email: Jinja -> MJML -> HTML, plus a plain-text part from the same data (pure).

This is the only module that imports ``mjml`` (mjml-python, the Rust MRML engine).

An issue is rendered **once** (:func:`render_issue`). Recipient-specific values are left as
placeholders (:data:`PLACEHOLDERS`) that are filled per recipient, either locally by
:func:`personalise` or by SendGrid ``substitutions`` (:func:`substitutions_for`), so a request
for 1,000 recipients carries a single body.

SendGrid applies one substitution map to the text and the HTML part alike, so every value
must be correct in both without per-part escaping:

* URLs (``-unsubscribe_url-``, ``-preferences_url-``, ``-web_url-``) are built from the base URL
  and a base64url token; they contain no character that needs escaping in HTML, and
  :func:`substitutions_for` refuses a URL that does.
* The first name is the one free-text value. The HTML part uses ``-first_name_html-`` (carries
  the HTML-escaped name) and the text part ``-first_name-`` (carries the raw name).

Story text that happens to contain a placeholder-shaped string is defused at render time (the
leading hyphen becomes ``&#45;`` in HTML and a non-breaking hyphen in text), so it can never be
replaced with a subscriber's data.

Languages: the issue's chrome (masthead, editor's note heading, greeting, footer) is in the
list's language and each story's fixed words ("By", "Continue reading", "About the author",
credits) in the story's own (:func:`distributor.rendering.labels.labels_for`, from the ``email``
catalogue). The document, and each story, caption and bio, says its ``lang`` and ``dir``; a
right-to-left issue sets MJML section and column ``direction`` and aligns text right (a story
in the other direction sets its own alignment), mirrors paddings and rules, and names and titles
are isolated in ``<bdi>``.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
import mjml
from markupsafe import Markup, escape

from distributor import resources
from distributor.domain.articles import Article, Author, Image
from distributor.domain.issues import IssueLayout
from distributor.domain.languages import language_tag_or_none, script_of
from distributor.domain.text import normalise_space
from distributor.i18n import install_in
from distributor.rendering import zero_width
from distributor.rendering.excerpts import article_excerpt
from distributor.rendering.full_story import story_blocks
from distributor.rendering.labels import (
    EmailLabels,
    check_language_tag,
    join_names,
    labels_for,
    primary_subtag,
    text_direction,
)

if TYPE_CHECKING:
    from distributor.config import Settings

TEMPLATES_DIR = resources.TEMPLATES_DIR / "email"

UNSUBSCRIBE_URL = "-unsubscribe_url-"
PREFERENCES_URL = "-preferences_url-"
FIRST_NAME = "-first_name-"
FIRST_NAME_HTML = "-first_name_html-"
WEB_URL = "-web_url-"
PLACEHOLDERS: tuple[str, ...] = (
    UNSUBSCRIBE_URL,
    PREFERENCES_URL,
    FIRST_NAME,
    FIRST_NAME_HTML,
    WEB_URL,
)

# Blocks that only make sense in a subscriber's copy (unsubscribe, preferences, "view in
# browser") are wrapped in these comments; the web archive removes them.
EMAIL_ONLY_START = "<!--email-->"
EMAIL_ONLY_END = "<!--/email-->"

# Placeholders are short; the values that replace them are longer. The size budget is checked
# against the rendered size plus this much per placeholder occurrence (a typical URL with a
# token is about 80 bytes; names are shorter).
PERSONAL_VALUE_ALLOWANCE_BYTES = 160

# Content width inside the 600 px body with 28 px side padding.
CONTENT_WIDTH_PX = 544
MINIMUM_CONTRAST = 4.5
_CARD_COLOR = "#ffffff"
_DARK_BACKGROUND = "#121212"
_DARK_CARD = "#1c1c1c"
_DARK_TEXT = "#e8e6e3"

_PLACEHOLDER_PATTERN = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS))
# C0 controls (except tab/newline/CR), DEL and lone surrogates break MJML parsing or encoding.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_FONT_STACK = re.compile(r"[^\"<>;{}\\&\x00-\x1f]{1,300}")
# Personal URLs go into HTML attributes and text unescaped, so they must need no escaping.
_SAFE_PERSONAL_URL = re.compile(r"https?://[^\s\"'<>&`/]+(/[^\s\"'<>&`]*)?\Z", re.IGNORECASE)
_HTML_SPECIAL = re.compile(r"[&<>\"']")
_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACES = re.compile(r"[ \t]+\n")
_EMAIL_ONLY_BLOCK = re.compile(
    re.escape(EMAIL_ONLY_START) + ".*?" + re.escape(EMAIL_ONLY_END), re.S
)
_CREDIT_WORDS = (
    r"(?:credit|photo|photo by|image|courtesy of|图片来源|圖片來源|摄影|攝影|图|圖"
    r"|foto|crédito|crédit|تصوير|الصورة|عکس)"
)


class EmailRenderError(ValueError):
    """The issue could not be turned into an email (says what and where)."""


class BrandingError(ValueError):
    """A house-style setting is unusable (bad colour, low contrast, bad URL)."""


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class IssueContent:
    """Everything editorial about one issue, in order."""

    subject: str
    preheader: str
    editor_note: str
    language: str
    articles: tuple[Article, ...]
    list_title: str
    issue_id: int | None = None
    # "excerpt" or "full" (see distributor.domain.issues.IssueLayout); ``story_layouts`` gives
    # each article its own layout (same order as ``articles``; empty: the issue's for all).
    layout: str = "excerpt"
    story_layouts: tuple[str, ...] = ()

    def layout_of(self, index: int) -> str:
        """The layout of the article at ``index``."""
        if index < len(self.story_layouts):
            return self.story_layouts[index]
        return self.layout

    # Open the editor's note with "Dear {first name},": off unless the editor asks for it.
    greeting: bool = False


@dataclass(frozen=True)
class Branding:
    """The publisher's identity and house style (from settings)."""

    publisher_name: str
    publisher_address: str
    publisher_url: str
    logo_url: str | None = None
    primary_color: str = "#8a1c1c"
    text_color: str = "#1a1a1a"
    background_color: str = "#f6f3ee"
    font_stack: str = "Georgia, 'Times New Roman', 'Songti SC', 'Noto Serif CJK SC', SimSun, serif"
    excerpt_words: int = 60
    html_budget_bytes: int = 100_000
    track_opens: bool = False
    track_clicks: bool = False

    def __post_init__(self) -> None:
        for name in ("primary_color", "text_color", "background_color"):
            value = getattr(self, name)
            if not _HEX_COLOR.fullmatch(value):
                raise BrandingError(
                    f"{_SETTING_NAMES[name]}: {value!r} is not a #rgb or #rrggbb colour"
                )
        if not _FONT_STACK.fullmatch(self.font_stack):
            raise BrandingError(
                f"{_SETTING_NAMES['font_stack']}: use font names separated by commas, without "
                f"double quotes, semicolons, braces or angle brackets (got {self.font_stack!r})"
            )
        if _safe_url(self.publisher_url) is None:
            raise BrandingError(
                f"PUBLISHER_URL must be an http(s) URL (got {self.publisher_url!r})"
            )
        if self.logo_url and _safe_url(self.logo_url) is None:
            raise BrandingError(f"BRAND_LOGO_URL must be an http(s) URL (got {self.logo_url!r})")
        if self.excerpt_words < 1:
            raise BrandingError("EMAIL_EXCERPT_WORDS must be at least 1")
        problems = contrast_problems(self)
        if problems:
            raise BrandingError("; ".join(problems))

    @classmethod
    def from_settings(cls, settings: Settings) -> Branding:
        """The branding configured by ``PUBLISHER_*``, ``BRAND_*``, ``EMAIL_*`` and ``TRACK_*``."""
        return cls(
            publisher_name=settings.PUBLISHER_NAME,
            publisher_address=settings.PUBLISHER_ADDRESS,
            publisher_url=settings.PUBLISHER_URL,
            logo_url=settings.BRAND_LOGO_URL or None,
            primary_color=settings.BRAND_PRIMARY_COLOR,
            text_color=settings.BRAND_TEXT_COLOR,
            background_color=settings.BRAND_BACKGROUND_COLOR,
            font_stack=settings.BRAND_FONT_STACK,
            excerpt_words=settings.EMAIL_EXCERPT_WORDS,
            html_budget_bytes=settings.EMAIL_HTML_BUDGET_BYTES,
            track_opens=settings.TRACK_OPENS,
            track_clicks=settings.TRACK_CLICKS,
        )


_SETTING_NAMES = {
    "primary_color": "BRAND_PRIMARY_COLOR",
    "text_color": "BRAND_TEXT_COLOR",
    "background_color": "BRAND_BACKGROUND_COLOR",
    "font_stack": "BRAND_FONT_STACK",
}


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once, with placeholders for the recipient-specific values."""

    html: str
    text: str
    html_bytes: int
    over_budget: bool
    content_hash: str
    placeholders: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    """What is needed to personalise one copy."""

    email: str
    first_name: str | None
    unsubscribe_url: str
    preferences_url: str
    web_url: str


# ------------------------------------------------------------------------------ colours
def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(character * 2 for character in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(255.0, channel))):02x}" for channel in rgb)


def _luminance(color: str) -> float:
    def channel(value: int) -> float:
        scaled = value / 255
        return scaled / 12.92 if scaled <= 0.03928 else ((scaled + 0.055) / 1.055) ** 2.4

    red, green, blue = _rgb(color)
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _mix(color: str, other: str, amount: float) -> str:
    first, second = _rgb(color), _rgb(other)
    return _hex(tuple(a + (b - a) * amount for a, b in zip(first, second, strict=True)))  # type: ignore[arg-type]


def _muted_color(text_color: str, background_color: str) -> str:
    # Captions and the footer are quieter than body text but must stay readable on both the
    # white page and the coloured background.
    for step in range(9, -1, -1):
        candidate = _mix(text_color, _CARD_COLOR, step * 0.05)
        if (
            min(contrast_ratio(candidate, _CARD_COLOR), contrast_ratio(candidate, background_color))
            >= MINIMUM_CONTRAST + 0.1
        ):
            return candidate
    return text_color


def _dark_mode_link_color(primary_color: str) -> str:
    for step in range(21):
        candidate = _mix(primary_color, "#ffffff", step * 0.05)
        if contrast_ratio(candidate, _DARK_CARD) >= MINIMUM_CONTRAST + 0.1:
            return candidate
    return "#ffffff"


def contrast_problems(branding: Branding) -> list[str]:
    """Colour pairs of the house style that fall below WCAG AA (4.5:1), as messages."""
    checks = (
        ("BRAND_TEXT_COLOR", branding.text_color, "the white page", _CARD_COLOR),
        (
            "BRAND_TEXT_COLOR",
            branding.text_color,
            "BRAND_BACKGROUND_COLOR",
            branding.background_color,
        ),
        ("BRAND_PRIMARY_COLOR", branding.primary_color, "the white page", _CARD_COLOR),
    )
    problems = []
    for name, foreground, background_name, background in checks:
        ratio = contrast_ratio(foreground, background)
        if ratio < MINIMUM_CONTRAST:
            problems.append(
                f"{name} {foreground} has contrast {ratio:.1f}:1 against {background_name} "
                f"({background}); at least {MINIMUM_CONTRAST}:1 is needed"
            )
    return problems


# ------------------------------------------------------------------------------ view model
def _safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (never a javascript: link)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _clean(text: str) -> str:
    return _CONTROL_CHARACTERS.sub("", text)


@dataclass(frozen=True, slots=True)
class _ImageView:
    src: str
    alt: str
    caption: str
    credit_line: str
    width: int


@dataclass(frozen=True, slots=True)
class _BlockView:
    """A block of a whole story: a paragraph, a subheading or a photo."""

    text: str
    heading: bool
    image: _ImageView | None


@dataclass(frozen=True, slots=True)
class _AuthorView:
    name: str
    bio: str
    avatar_url: str | None
    profile_url: str | None


@dataclass(frozen=True, slots=True)
class _ArticleView:
    url: str | None
    title: str
    byline: str
    byline_html: Markup  # the names isolated (<bdi>) from the words around them
    excerpt: tuple[str, ...]
    image: _ImageView | None
    notes: tuple[str, ...]
    authors: tuple[_AuthorView, ...]
    lang: str
    dir: str
    start: str  # "left", or "right" for a right-to-left story
    end: str
    own_direction: bool  # the story runs in another direction than the issue
    arrow: str
    cjk: bool
    labels: EmailLabels
    italic_notes: bool
    font_stack: str | None  # set when the story needs other CJK fonts than the issue
    full: bool  # the whole story (``blocks``) instead of the excerpt
    blocks: tuple[_BlockView, ...]


# Traditional Chinese fonts, put before a Simplified stack's CJK fonts for zh-Hant text: the
# same code point is drawn differently in the two (and a Simplified font lacks some glyphs).
# Serif faces first (the house style), then the sans faces every Mac, Windows and Linux has.
_TRADITIONAL_FONTS = (
    "'Songti TC', 'Noto Serif CJK TC', PMingLiU, 'PingFang TC', 'Microsoft JhengHei', "
    "'Noto Sans CJK TC'"
)
# Arabic-script fonts installed with the systems readers use (never web fonts): put first, as a
# Latin brand font with a few Arabic glyphs (Times New Roman) would otherwise draw the text.
_ARABIC_SCRIPT_FONTS = {
    "ar": "'Geeza Pro', 'Noto Naskh Arabic', 'Arabic Typesetting', Tahoma",
    "fa": "Vazirmatn, 'B Nazanin', 'Noto Naskh Arabic', 'Geeza Pro', Tahoma",
    "ur": "'Noto Nastaliq Urdu', 'Geeza Pro', 'Noto Naskh Arabic', Tahoma",
}
_SIMPLIFIED_FONT_MARKERS = (" SC", "SimSun", "SimHei", "PingFang SC", "Microsoft YaHei")
_GENERIC_FAMILIES = frozenset({"serif", "sans-serif", "monospace", "system-ui", "cursive"})


def font_stack_for(font_stack: str, language: str) -> str:
    """The brand ``font_stack`` for text in ``language``: Traditional Chinese fonts go before
    the first Simplified or generic font for ``zh-Hant`` (``zh-TW``, ``zh-HK``...); Arabic and
    Persian fonts go first for ``ar`` and ``fa``."""
    primary = primary_subtag(language)
    if primary in _ARABIC_SCRIPT_FONTS:
        return f"{_ARABIC_SCRIPT_FONTS[primary]}, {font_stack}"
    if primary != "zh" or script_of(language) != "Hant":
        return font_stack
    fonts = [font.strip() for font in font_stack.split(",") if font.strip()]
    position = next(
        (
            index
            for index, font in enumerate(fonts)
            if any(marker in font for marker in _SIMPLIFIED_FONT_MARKERS)
            or font.strip("'").lower() in _GENERIC_FAMILIES
        ),
        len(fonts),
    )
    return ", ".join([*fonts[:position], _TRADITIONAL_FONTS, *fonts[position:]])


def _caption_without_credit(caption: str, credit: str | None) -> str:
    # Some CMSs leave "… Credit: X" at the end of the caption; the credit has its own line.
    if not credit:
        return caption
    pattern = rf"[\s.]*{_CREDIT_WORDS}?\s*[:：]?\s*{re.escape(credit)}[\s.]*$"
    stripped = re.sub(pattern, "", caption, flags=re.IGNORECASE).rstrip()
    if not stripped:
        return caption
    return stripped if stripped.endswith((".", "。", "!", "?", "！", "？")) else stripped + "."


def _credit_line(image: Image, labels: EmailLabels) -> str:
    if image.credit:
        return labels.credit_line(normalise_space(image.credit))
    if image.copyright:
        text = normalise_space(image.copyright)
        return text if text.startswith("©") else "© " + text
    return ""


def _image_view(article: Article, labels: EmailLabels) -> _ImageView | None:
    image = article.lead_image
    if image is None:
        return None
    return _photo_view(image, article, labels)


def _photo_view(image: Image, article: Article, labels: EmailLabels) -> _ImageView | None:
    src = _safe_url(image.url)
    if src is None:
        return None
    credit = normalise_space(image.credit) if image.credit else None
    caption = _caption_without_credit(normalise_space(image.caption or ""), credit)
    # A linked image needs an accessible name: alt, else the caption, else the headline.
    alt = normalise_space(image.alt or "") or caption or normalise_space(article.title)
    width = image.width if image.width and image.width < CONTENT_WIDTH_PX else CONTENT_WIDTH_PX
    return _ImageView(
        src=src, alt=alt, caption=caption, credit_line=_credit_line(image, labels), width=width
    )


def _author_view(author: Author) -> _AuthorView | None:
    bio = normalise_space(author.bio or "")
    if not bio:
        return None
    return _AuthorView(
        name=normalise_space(author.name),
        bio=bio,
        avatar_url=_safe_url(author.avatar_url),
        profile_url=_safe_url(author.profile_url),
    )


def _block_views(article: Article, labels: EmailLabels) -> tuple[_BlockView, ...]:
    views = []
    for block in story_blocks(article):
        if block.image is None:
            views.append(_BlockView(text=block.text, heading=block.heading, image=None))
            continue
        photo = _photo_view(block.image, article, labels)
        if photo is not None:
            views.append(_BlockView(text="", heading=False, image=photo))
    return tuple(views)


def _article_view(
    article: Article, issue_language: str, branding: Branding, *, full: bool = False
) -> _ArticleView:
    # Every story says its own language (stored tags are canonical; older rows are made so).
    language = language_tag_or_none(article.language) or issue_language
    # A story's fixed words ("Continue reading", "About the author") are in its language.
    labels = labels_for(language)
    names = [normalise_space(author.name) for author in article.authors if author.name.strip()]
    own_fonts = font_stack_for(branding.font_stack, language)
    authors = tuple(view for view in map(_author_view, article.authors) if view is not None)
    direction = text_direction(language)
    return _ArticleView(
        url=_safe_url(article.canonical_url),
        title=normalise_space(article.title),
        byline=labels.byline(names),
        byline_html=_byline_html(names, labels),
        excerpt=() if full else article_excerpt(article, branding.excerpt_words),
        image=_image_view(article, labels),
        notes=tuple(normalise_space(note) for note in article.notes if note.strip()),
        authors=authors,
        lang=language,
        dir=direction,
        start="right" if direction == "rtl" else "left",
        end="left" if direction == "rtl" else "right",
        own_direction=direction != text_direction(issue_language),
        arrow="\u2190" if direction == "rtl" else "\u2192",
        cjk=primary_subtag(language) in ("zh", "ja", "ko"),
        labels=labels,
        italic_notes=labels.italic_notes,
        font_stack=(
            own_fonts if own_fonts != font_stack_for(branding.font_stack, issue_language) else None
        ),
        full=full,
        blocks=_block_views(article, labels) if full else (),
    )


def _isolated(text: str) -> Markup:
    """``text`` escaped (and placeholder-defused) in a ``<bdi>``: a name or title in another
    direction than the words around it keeps its own order and does not reorder theirs."""
    isolated: Markup = Markup("<bdi>%s</bdi>") % _defuse_html(text)
    return isolated


def _byline_html(names: list[str], labels: EmailLabels) -> Markup:
    if not names:
        return Markup("")
    isolated = [str(_isolated(name)) for name in names]
    joined = isolated[0] if len(isolated) == 1 else join_names(isolated, labels)
    # The list words come from CLDR (no markup); the names were escaped just above.
    return escape(labels.byline_format) % {"names": Markup(joined)}  # noqa: S704


def _why_received(labels: EmailLabels, list_title: str, publisher: str) -> tuple[str, Markup]:
    """The footer's "why you receive this" as text and as HTML (title and name isolated)."""
    text = labels.why_received % {"list": labels.title(list_title), "publisher": publisher}
    html_text = escape(labels.why_received) % {
        "list": escape(labels.title_open) + _isolated(list_title) + escape(labels.title_close),
        "publisher": _isolated(publisher),
    }
    return text, html_text


def _editor_note_paragraphs(note: str) -> list[list[str]]:
    """Paragraphs (split on blank lines), each a list of lines."""
    paragraphs = re.split(r"\n\s*\n", note.replace("\r\n", "\n").strip())
    return [
        [line.strip() for line in paragraph.split("\n") if line.strip()]
        for paragraph in paragraphs
        if paragraph.strip()
    ]


def _preheader(content: IssueContent) -> str:
    text = normalise_space(content.preheader)
    if not text:
        text = normalise_space(content.editor_note)
    if not text and content.articles:
        text = normalise_space(content.articles[0].title)
    return text[:140]


def _context(content: IssueContent, branding: Branding) -> dict[str, Any]:
    language = check_language_tag(content.language)
    labels = labels_for(language)
    primary_language_labels_italic = labels.italic_notes
    direction = text_direction(language)
    why_text, why_html = _why_received(
        labels,
        normalise_space(content.list_title),
        normalise_space(branding.publisher_name),
    )
    return {
        "lang": language,
        "dir": direction,
        "start": "right" if direction == "rtl" else "left",
        "end": "left" if direction == "rtl" else "right",
        "cjk": primary_subtag(language) in ("zh", "ja", "ko"),
        "font_stack": font_stack_for(branding.font_stack, language),
        "labels": labels,
        "subject": normalise_space(content.subject),
        "preheader": _preheader(content),
        "list_title": normalise_space(content.list_title),
        "editor_note": _editor_note_paragraphs(content.editor_note),
        "greeting": content.greeting,
        "articles": [
            _article_view(
                article, language, branding, full=content.layout_of(index) == IssueLayout.FULL
            )
            for index, article in enumerate(content.articles)
        ],
        "why_received": why_text,
        "why_received_html": why_html,
        "branding": branding,
        "address_lines": [
            line.strip() for line in branding.publisher_address.splitlines() if line.strip()
        ],
        "colors": {
            "primary": branding.primary_color.lower(),
            "text": branding.text_color.lower(),
            "background": branding.background_color.lower(),
            "muted": _muted_color(branding.text_color, branding.background_color),
            "rule": _mix(branding.text_color, _CARD_COLOR, 0.82),
            "dark_background": _DARK_BACKGROUND,
            "dark_card": _DARK_CARD,
            "dark_text": _DARK_TEXT,
            "dark_link": _dark_mode_link_color(branding.primary_color),
        },
        "italic_notes": primary_language_labels_italic,
        # SendGrid leaves links marked clicktracking="off" alone when click tracking is on.
        "no_tracking": Markup(' clicktracking="off"') if branding.track_clicks else Markup(""),
        "content_width": CONTENT_WIDTH_PX,
    }


# ------------------------------------------------------------------------------ templates
def _defuse_html(value: Any) -> Any:
    if isinstance(value, Markup):
        return value  # built by this module or the template: already safe
    escaped = str(escape(_clean(str(value))))
    if "-" in escaped:
        escaped = _PLACEHOLDER_PATTERN.sub(lambda match: "&#45;" + match.group()[1:], escaped)
    return Markup(escaped)  # noqa: S704 - escaped just above


def _defuse_text(value: Any) -> Any:
    text = _clean(str(value))
    if "-" in text:
        text = _PLACEHOLDER_PATTERN.sub(lambda match: "\u2011" + match.group()[1:], text)
    return text


def _wrap(text: str, width: int = 76) -> str:
    """Wrap running text for the plain-text part at spaces (never breaking words or URLs).

    Text without spaces (Chinese) is left as one line: mail clients wrap it themselves.
    """
    if len(text) <= width or " " not in text:
        return text
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if not word:
            continue
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return "\n".join(lines)


@lru_cache(maxsize=4)
def _environment(autoescape: bool, templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        # The text part is plain text (nothing to escape); the MJML part is autoescaped.
        autoescape=autoescape,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_defuse_html if autoescape else _defuse_text,
        auto_reload=False,
    )
    environment.filters["wrap"] = _wrap
    install_in(environment, domain="email")
    return environment


def _render_mjml(source: str) -> str:
    try:
        return str(mjml.mjml2html(zero_width.protect(source), fonts={}, disable_comments=False))
    except ValueError as exc:
        raise EmailRenderError(f"the MJML template could not be rendered: {exc}") from exc


def _placeholders_in(*documents: str) -> tuple[str, ...]:
    return tuple(
        token for token in PLACEHOLDERS if any(token in document for document in documents)
    )


def _over_budget(html_text: str, html_bytes: int, budget: int) -> bool:
    occurrences = sum(html_text.count(token) for token in PLACEHOLDERS)
    return html_bytes + occurrences * PERSONAL_VALUE_ALLOWANCE_BYTES > budget


def _content_hash(html_text: str, text: str) -> str:
    digest = hashlib.sha256(html_text.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def render_issue(content: IssueContent, branding: Branding) -> RenderedIssue:
    """Render ``content`` once to HTML and plain text, with recipient placeholders.

    Raises :class:`EmailRenderError` (a ValueError) naming the problem when the issue cannot be
    rendered, e.g. an unusable language tag.
    """
    try:
        context = _context(content, branding)
    except ValueError as exc:
        where = f"issue {content.issue_id}" if content.issue_id is not None else "issue"
        raise EmailRenderError(f"{where}: {exc}") from exc
    source = _environment(True).get_template("issue.mjml.j2").render(context)
    source = _BETWEEN_TAGS.sub("><", source)
    html_text = _render_mjml(source)
    text = _environment(False).get_template("issue.txt.j2").render(context)
    text = _BLANK_LINES.sub("\n\n", _TRAILING_SPACES.sub("\n", text)).strip() + "\n"
    return restore_rendered(html_text, text, branding.html_budget_bytes)


def restore_rendered(html_text: str, text: str, budget_bytes: int) -> RenderedIssue:
    """A :class:`RenderedIssue` for stored HTML and text (sizes and hash recomputed)."""
    html_bytes = len(html_text.encode("utf-8"))
    return RenderedIssue(
        html=html_text,
        text=text,
        html_bytes=html_bytes,
        over_budget=_over_budget(html_text, html_bytes, budget_bytes),
        content_hash=_content_hash(html_text, text),
        placeholders=_placeholders_in(html_text, text),
    )


def size_warning(rendered: RenderedIssue, budget_bytes: int) -> str | None:
    """A sentence for the editor when the HTML is over the budget, else None."""
    if not rendered.over_budget:
        return None
    return (
        f"The HTML of this issue is {rendered.html_bytes / 1000:.1f} KB; Gmail clips messages "
        f"past about 102 KB and the budget is {budget_bytes / 1000:.0f} KB. Remove an article "
        f"or shorten the excerpts (EMAIL_EXCERPT_WORDS)."
    )


# ------------------------------------------------------------------------------ personalising
def _checked_url(name: str, url: str) -> str:
    # One precompiled match per URL: this runs for every recipient of every send.
    if _SAFE_PERSONAL_URL.match(url) is None:
        raise ValueError(
            f"{name} must be an http(s) URL without spaces, quotes, '<', '>' or '&' "
            f"(got {url!r}); build it from the base URL and a token"
        )
    return url


def greeting_names(first_name: str | None, fallback_first_name: str) -> tuple[str, str]:
    """The ``-first_name-`` (raw, text part) and ``-first_name_html-`` (escaped) values."""
    if first_name:
        if _CONTROL_CHARACTERS.search(first_name):
            first_name = _CONTROL_CHARACTERS.sub("", first_name)
        first_name = " ".join(first_name.split())
    if not first_name:
        first_name = fallback_first_name
    first_name_html = (
        html.escape(first_name) if _HTML_SPECIAL.search(first_name) is not None else first_name
    )
    return first_name, first_name_html


def checked_personal_url(name: str, url: str) -> str:
    """``url`` if it can go into HTML and text unescaped; ValueError saying why not."""
    return _checked_url(name, url)


def substitutions_for(recipient: Recipient, fallback_first_name: str) -> dict[str, str]:
    """Values for every placeholder, usable as SendGrid ``substitutions`` for both parts.

    ``-first_name-`` carries the raw name (text part), ``-first_name_html-`` the escaped one
    (HTML part); URLs must already be HTML-safe and are refused otherwise.
    """
    first_name, first_name_html = greeting_names(recipient.first_name, fallback_first_name)
    return {
        UNSUBSCRIBE_URL: _checked_url("unsubscribe_url", recipient.unsubscribe_url),
        PREFERENCES_URL: _checked_url("preferences_url", recipient.preferences_url),
        FIRST_NAME: first_name,
        FIRST_NAME_HTML: first_name_html,
        WEB_URL: _checked_url("web_url", recipient.web_url),
    }


@dataclass(frozen=True, slots=True)
class _Segments:
    """A document split at its placeholders: literal, key, literal, key, ..., literal."""

    parts: tuple[str, ...]
    slots: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, document: str) -> _Segments:
        parts: list[str] = []
        slots: list[tuple[int, str]] = []
        position = 0
        for match in _PLACEHOLDER_PATTERN.finditer(document):
            parts.append(document[position : match.start()])
            slots.append((len(parts), match.group()))
            parts.append(match.group())
            position = match.end()
        parts.append(document[position:])
        return cls(tuple(parts), tuple(slots))

    def fill(self, values: dict[str, str]) -> str:
        if not self.slots:
            return self.parts[0]
        parts = list(self.parts)
        for index, key in self.slots:
            parts[index] = values[key]
        return "".join(parts)


_SEGMENT_CACHE: dict[str, tuple[_Segments, _Segments]] = {}
_SEGMENT_CACHE_SIZE = 8


def _segments(rendered: RenderedIssue) -> tuple[_Segments, _Segments]:
    cached = _SEGMENT_CACHE.get(rendered.content_hash)
    if cached is None:
        cached = (_Segments.of(rendered.html), _Segments.of(rendered.text))
        if len(_SEGMENT_CACHE) >= _SEGMENT_CACHE_SIZE:
            _SEGMENT_CACHE.pop(next(iter(_SEGMENT_CACHE)), None)
        _SEGMENT_CACHE[rendered.content_hash] = cached
    return cached


def personalise(
    rendered: RenderedIssue, recipient: Recipient, fallback_first_name: str
) -> tuple[str, str]:
    """One recipient's (html, text): the placeholders filled, values escaped for HTML.

    The rendered issue is split at its placeholders once (cached by content hash), so each
    copy costs one join per part.
    """
    values = substitutions_for(recipient, fallback_first_name)
    html_segments, text_segments = _segments(rendered)
    return html_segments.fill(values), text_segments.fill(values)


def fallback_first_name(language: str) -> str:
    """The word used when a subscriber has no first name ("reader", "读者")."""
    return labels_for(language).fallback_first_name


_BODY_OPEN = re.compile(r"<body\b[^>]*>")
_BODY_CLOSE = re.compile(r"</body>")


def render_web_archive(
    rendered: RenderedIssue,
    web_url: str,
    fallback_name: str = "",
    *,
    index_link: tuple[str, str] | None = None,
) -> str:
    """The public web copy: the same HTML without unsubscribe, preferences or personal data.

    ``fallback_name`` replaces the first name (default: the word for "reader" in the issue's
    language). ``index_link`` is (URL, list title) of the list's public archive: the page
    links back to it above the issue.
    """
    page = _EMAIL_ONLY_BLOCK.sub("", rendered.html)
    language_match = re.search(r'<html lang="([^"]+)"', page)
    language = language_match.group(1) if language_match else "en"
    direction = text_direction(language)
    navigation = ""
    if index_link is not None:
        url = _safe_url(index_link[0])
        if url is not None:
            # "Back" points to where lines start: left, or right in a right-to-left issue.
            back = "&rarr;" if direction == "rtl" else "&larr;"
            navigation = (
                f'<nav dir="{direction}" style="max-width:600px;margin:0 auto;padding:12px 16px;'
                'font:15px/1.5 Georgia,serif"><a href="'
                + html.escape(url)
                + f'" id="archive-index-link">{back} <bdi>'
                + html.escape(_clean(index_link[1]))
                + "</bdi></a></nav>"
            )
    # A web page has landmarks (an email has none): the whole copy is the page's main content.
    page = _BODY_OPEN.sub(lambda match: match.group() + navigation + "<main>", page, count=1)
    page = _BODY_CLOSE.sub("</main></body>", page, count=1)
    name = fallback_name or fallback_first_name(language)
    values = {
        UNSUBSCRIBE_URL: "",
        PREFERENCES_URL: "",
        FIRST_NAME: html.escape(name),
        FIRST_NAME_HTML: html.escape(name),
        WEB_URL: html.escape(_checked_url("web_url", web_url)),
    }
    return _PLACEHOLDER_PATTERN.sub(lambda match: values[match.group()], page)
