"""Jinja templates for the desk pages (``templates/web``) and the helpers they share.

:func:`render` is the one way a desk page is produced: it adds the signed-in user, the CSRF
token and any flash messages to the context, and sends the session cookie when it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import lxml.html
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from distributor.domain.languages import language_name, language_tag_or_none
from distributor.i18n import (
    babel_locale,
    choose_language,
    current_language,
    gettext,
    install_in,
    text_direction,
    use_language,
)
from distributor.resources import TEMPLATES_DIR
from distributor.web.auth import (
    CSRF_FIELD,
    app_settings,
    csrf_token,
    mark_session_changed,
    session_data,
    write_session_cookie,
)

templates = Jinja2Templates(directory=str(TEMPLATES_DIR / "web"))
# Our templates end in ".html.j2", which select_autoescape() would not escape: force it on.
templates.env.autoescape = True
install_in(templates.env, domain="desk")


def N_(message: str) -> str:  # noqa: N802 - the conventional name gettext extraction knows
    """Mark ``message`` for translation without translating it here (it is translated later,
    in the desk language of the page that shows it: see :func:`flash`)."""
    return message


def format_datetime(
    value: datetime | None,
    zone: str = "UTC",
    pattern: str = "%Y-%m-%d %H:%M",
    language: str | None = None,
) -> str:
    """``value`` shown in ``zone`` with its abbreviation; an em dash for none.

    In English (and without ``language``) the form is ``2026-12-06 09:30 CET``; in another
    desk language, Babel's medium date and short time for that locale (``2026年12月6日
    09:30``, ``٦ ديسمبر ٢٠٢٦ ...``), followed by the same zone abbreviation.
    """
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored naive by SQLite: they are UTC
    if value is None:
        return "—"
    try:
        local = value.astimezone(ZoneInfo(zone))
    except ZoneInfoNotFoundError:
        local = value
    if language and language != "en":
        locale = babel_locale(language)
        shown = (
            f"{format_date(local, 'medium', locale=locale)} "
            f"{format_time(local, 'short', locale=locale)}"
        )
        return f"{shown} {local.tzname() or ''}".strip()
    return f"{local.strftime(pattern)} {local.tzname() or ''}".strip()


@pass_context
def desk_datetime(context: Context, value: datetime | None, zone: str | None = None) -> str:
    """The ``datetime`` filter: ``value`` in ``zone``, else in the newsroom's zone, in the
    page's language."""
    settings = context.get("settings")
    newsroom = getattr(settings, "NEWSROOM_TIMEZONE", "UTC")
    return format_datetime(value, zone or newsroom, language=current_language())


def format_bytes(size: int | None, language: str | None = None) -> str:
    """A byte count for people: 12.3 kB (12,3 kB in French, Persian digits in Persian)."""
    if size is None:
        return "—"
    language = language or current_language()
    if language == "en":
        return f"{size} B" if size < 1000 else f"{size / 1000:.1f} kB"
    locale = babel_locale(language)
    if size < 1000:
        return f"{format_decimal(size, locale=locale)} B"
    return f"{format_decimal(round(size / 1000, 1), '#,##0.0', locale=locale)} kB"


def csrf_input(request: Request) -> Markup:
    """The hidden form field carrying the CSRF token."""
    token = escape(csrf_token(request))
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')  # noqa: S704 - token escaped above


def shown_language_tag(tag: str | None) -> str:
    """A stored language tag as canonical BCP 47 (rows stored before tags were normalised)."""
    return language_tag_or_none(tag) or (tag or "")


def shown_language_name(tag: str | None) -> str:
    """The English name of a language tag ("Chinese (Traditional)"), for titles and hints."""
    canonical = language_tag_or_none(tag)
    return language_name(canonical) if canonical else (tag or "")


def report_rows(report: object) -> list[tuple[str, str]]:
    """A report (a mapping or a dataclass of figures) as (label, value) rows for a page."""
    if hasattr(report, "__dataclass_fields__"):
        from dataclasses import asdict

        data: dict[str, Any] = asdict(report)  # type: ignore[call-overload]
    elif isinstance(report, dict):
        data = report
    else:
        return []
    rows = []
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        if key in ("id", "issue_id", "subject", "status", "source", "list_name"):
            continue
        label = gettext(_REPORT_LABELS.get(key, key.replace("_", " ").capitalize()))
        language = current_language()
        if isinstance(value, float) and 0 <= value <= 1:
            shown = f"{value:.1%}" if language == "en" else _percent(value, language)
        elif isinstance(value, int) and language != "en":
            shown = format_decimal(value, locale=babel_locale(language))
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


def _percent(value: float, language: str) -> str:
    """``value`` as a percentage with one decimal, the locale's way (``0,1 %`` in French)."""
    locale = babel_locale(language)
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    return format_percent(value, pattern, locale=locale)


# The figures of an issue's report (services/reports.py), as the desk names them.
_REPORT_LABELS = {
    "recipients": N_("Recipients"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "bounced": N_("Bounced"),
    "dropped": N_("Dropped"),
    "deferred": N_("Deferred"),
    "complained": N_("Complained"),
    "unsubscribed": N_("Unsubscribed"),
    "failed": N_("Failed"),
    "pending": N_("Pending"),
    "skipped": N_("Skipped"),
    "complaint_rate": N_("Complaint rate"),
    "opens": N_("Opens"),
    "clicks": N_("Clicks"),
}


MISSING_ALT = N_("No alt text yet: add it under Images above")


def story_body_for_desk(body_html: str, images: Iterable[Any]) -> Markup:
    """The stored story body for the desk, each ``<img>`` given the alt text the desk knows.

    A story's body often carries images without alt text; the desk keeps alt text on its image
    records (editable on the article page). The body shows that text, or says plainly that it is
    missing, so an editor using a screen reader hears the same problem the checks list.
    """
    if not body_html.strip():
        return Markup("")
    alts = {image.url: (image.alt or "").strip() for image in images}
    fragment = lxml.html.fragment_fromstring(body_html, create_parent="div")
    for img in fragment.iter("img"):
        if not (img.get("alt") or "").strip():
            img.set("alt", alts.get(img.get("src") or "") or gettext(MISSING_ALT))
    inner = "".join(lxml.html.tostring(child, encoding="unicode") for child in fragment)
    # The body was sanitised at ingest; this only re-serialises it with the alt attributes.
    return escape(fragment.text or "") + Markup(inner)  # noqa: S704


# An issue's status as the desk names it ("partially failed"), in the page's language.
_STATUS_LABELS = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "sending": N_("sending"),
    "paused": N_("paused"),
    "held": N_("held"),
    "sent": N_("sent"),
    "partially_failed": N_("partially failed"),
    "cancelled": N_("cancelled"),
}


def status_label(status: str | None) -> str:
    """The ``status`` filter: an issue status in words, in the language in force."""
    value = str(status or "")
    return gettext(_STATUS_LABELS.get(value, value.replace("_", " ")))


templates.env.filters["datetime"] = desk_datetime
templates.env.filters["status"] = status_label
templates.env.filters["bytes"] = format_bytes
templates.env.filters["language_tag"] = shown_language_tag
templates.env.filters["language_name"] = shown_language_name
templates.env.globals["csrf_input"] = csrf_input
templates.env.globals["report_rows"] = report_rows
templates.env.globals["story_body_for_desk"] = story_body_for_desk


def flash(
    request: Request,
    message: str,
    kind: str = "ok",
    *,
    near: str = "",
    params: dict[str, Any] | None = None,
) -> None:
    """Show ``message`` on the next page this browser renders (kind: ok, warn, error).

    ``message`` is translated into the desk language of the request (mark it with ``N_`` or
    ``_``), then ``params`` are put into its ``%(name)s`` placeholders, so a message reads
    ``N_("Not saved: %(reason)s.")`` with ``params={"reason": exc}``.

    ``near`` names the id of the block the message is about (``image-3``); the page shows the
    message inside that block, where the editor's eyes are after the save, and at the top when
    the page has no such block.
    """
    message = translate(request, message, params)
    data = session_data(request)
    messages = list(data.get("f", []))
    messages.append([kind, message, near])
    data["f"] = messages[-5:]
    mark_session_changed(request)


@dataclass(frozen=True)
class Flash:
    """One message to show: ok, warn or error, and the block it is about (if any)."""

    kind: str
    text: str
    near: str = ""


class FlashBox:
    """The messages of one page; blocks take theirs, the top of the page shows the rest."""

    def __init__(self, messages: list[Flash]) -> None:
        self._messages = messages
        self._placed: set[int] = set()

    def here(self, near: str) -> Markup:
        """The messages about block ``near``, as live regions, marked as shown."""
        found = [
            (index, message)
            for index, message in enumerate(self._messages)
            if message.near == near and index not in self._placed
        ]
        self._placed.update(index for index, _ in found)
        return Markup("").join(_flash_html(message) for _, message in found)

    def rest(self) -> Markup:
        """The messages no block took."""
        return Markup("").join(
            _flash_html(message)
            for index, message in enumerate(self._messages)
            if index not in self._placed
        )


def _flash_html(message: Flash) -> Markup:
    role = "alert" if message.kind == "error" else "status"
    return Markup('<div class="flash flash-{}" role="{}">{}</div>').format(
        message.kind, role, message.text
    )


def _take_flashes(request: Request) -> FlashBox:
    data = session_data(request)
    messages = data.pop("f", None)
    if not messages:
        return FlashBox([])
    mark_session_changed(request)
    return FlashBox(
        [
            Flash(str(item[0]), str(item[1]), str(item[2] if len(item) > 2 else ""))
            for item in messages
        ]
    )


def desk_language(request: Request) -> str:
    """The desk's language for this request: the signed-in user's choice, else the browser's
    ``Accept-Language``, else English."""
    user = getattr(request.state, "desk_user", None)
    return choose_language(
        getattr(user, "language", None), accept_language=request.headers.get("accept-language")
    )


def translate(request: Request, message: str, params: dict[str, Any] | None = None) -> str:
    """``message`` in the desk language of ``request``, with ``params`` filled in."""
    with use_language(desk_language(request)):
        text = gettext(message)
    return text % params if params else text


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``templates/web/<name>`` as a desk page, in the desk language of the request."""
    settings = app_settings(request)
    user = getattr(request.state, "desk_user", None)
    language = desk_language(request)
    full: dict[str, Any] = {
        "user": user,
        "lang": language,
        "dir": text_direction(language),
        "settings": settings,
        "csrf_token": csrf_token(request),
        "flashes": _take_flashes(request),
        "nav": "",
        "now_utc": datetime.now(UTC),
    }
    full.update(context or {})
    with use_language(language, domain="desk"):
        response = templates.TemplateResponse(request, name, full, status_code=status_code)
    response.headers["Content-Language"] = language
    # Pages carry per-session tokens; never let a shared cache keep them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    write_session_cookie(request, response)
    return response


def redirect(request: Request, location: str) -> RedirectResponse:
    """A 303 redirect after a form post, carrying the session cookie if it changed."""
    response = RedirectResponse(location, status_code=303)
    write_session_cookie(request, response)
    return response


def wants_html(request: Request) -> bool:
    """True for a browser navigation (it asks for text/html), not for fetch() or API calls."""
    return "text/html" in request.headers.get("accept", "")


class DeskHTTPException(HTTPException):
    """An HTTP error whose detail is a gettext message: browsers read it in the desk's
    language, API callers and logs in English (``detail``)."""

    def __init__(
        self, status_code: int, message: str, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(status_code=status_code, detail=message % params if params else message)
        self.message = message
        self.params = params


_ERROR_TITLES = {
    400: N_("This cannot be done"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    422: N_("Something in the form is wrong"),
}


class DeskRoute(APIRoute):
    """A route whose errors reach browsers as a desk page that says what to do.

    Redirects (the sign-in redirect is a 303 raised by a dependency) and non-browser callers
    keep FastAPI's usual answers.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the usual handler: HTTP errors become a rendered page for browsers."""
        handler = super().get_route_handler()

        async def desk_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code < 400 or not wants_html(request):
                    raise
                return render(
                    request,
                    "desk/error.html.j2",
                    {
                        "title": translate(
                            request,
                            _ERROR_TITLES.get(exc.status_code, N_("Something went wrong")),
                        ),
                        # Details raised as N_(...) messages are in the catalogue.
                        "detail": (
                            translate(request, exc.message, exc.params)
                            if isinstance(exc, DeskHTTPException)
                            else translate(request, str(exc.detail))
                        ),
                        "status": exc.status_code,
                    },
                    status_code=exc.status_code,
                )
            except RequestValidationError as exc:
                if not wants_html(request):
                    raise
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in error.get('loc', ())[1:])}: "
                    f"{error.get('msg', '')}"
                    for error in exc.errors()
                )
                return render(
                    request,
                    "desk/error.html.j2",
                    {
                        "title": translate(request, _ERROR_TITLES[422]),
                        "detail": translate(
                            request,
                            N_("%(problems)s. Go back, correct the field and send again."),
                            {"problems": problems},
                        ),
                        "status": 422,
                    },
                    status_code=422,
                )

        return desk_handler
