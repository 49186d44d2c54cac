"""Public reader pages: sign up, confirm, one-click unsubscribe, preferences.

These pages set no cookies and need no login: the signed token in the URL is the reader's
credential (see :mod:`distributor.domain.tokens`). A bad token gets the same 400 page whatever
was wrong with it. Unsubscribing follows RFC 8058: a POST to the List-Unsubscribe URL
unsubscribes at once and answers 200 (never a redirect); a GET only shows a page with a
button, because link scanners follow GETs. The double opt-in link works the same way: a GET
shows a Confirm button, only the POST confirms.

Which language a page speaks (the ``public`` gettext catalogue, :mod:`distributor.i18n`):

- A page tied to one list (the signup form of a list and its answers, confirming a
  subscription to a list, unsubscribing from a list, the list's archive) speaks the list's
  language.
- A page not tied to one list (preferences across the reader's lists, error pages) speaks the
  reader's saved language (``Subscriber.language``) when a valid token tells who the reader
  is, else the first shipped language the browser's ``Accept-Language`` asks for, else
  English. A list whose language is not shipped falls through to the same chain.
- Every page says its language in ``Content-Language`` and on ``<html lang dir>``; a page
  whose language came from ``Accept-Language`` also carries ``Vary: Accept-Language``.

JSON answers (the signup API) stay in English: programs read them.

The per-IP signup limit is an in-process sliding window: each web process counts on its own,
so N processes allow up to N times ``SIGNUP_RATE_LIMIT_PER_HOUR``. Behind a proxy, run uvicorn
with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the client address is the reader's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from distributor.config import Settings
from distributor.db.models import MailingList, Subscriber
from distributor.db.session import unit_of_work
from distributor.domain.addresses import email_problem
from distributor.domain.languages import DEFAULT_LANGUAGE, language_tag_or_none
from distributor.domain.links import CONFIRM_PURPOSE, MANAGE_PURPOSE, preferences_url
from distributor.domain.text import normalise_space
from distributor.domain.tokens import (
    ExpiredToken,
    InvalidToken,
    TokenClaims,
    make_token,
    read_token,
)
from distributor.i18n import (
    N_,
    _,
    format_day,
    format_number,
    from_accept_language,
    install_in,
    is_shipped,
    language_choices,
    ngettext,
    shipped_language,
    text_direction,
    use_language,
)
from distributor.resources import TEMPLATES_DIR
from distributor.services import subscribers as subscriber_service
from distributor.services.activation import take_activated
from distributor.web.throttle import SlidingWindowLimiter

log = logging.getLogger("distributor.web.public")

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(TEMPLATES_DIR / "web"))
# Jinja's default only escapes *.html files; ours end in .j2, and readers type into these pages.
templates.env.autoescape = True
install_in(templates.env, domain="public")

HONEYPOT_FIELD = "website"
RATE_WINDOW_SECONDS = 3600.0
MAX_FORM_BYTES = 16_384
# The languages a reader can choose: every shipped language, in its own name. ``zh`` (taken
# before Simplified and Traditional Chinese were told apart) is still accepted: it reads as
# ``zh-Hans``.
LANGUAGES: tuple[tuple[str, str], ...] = tuple(language_choices())
# Paths of the reader pages: their errors are reader pages too (see public_error_page).
PUBLIC_PATH_PREFIXES = ("/signup", "/confirm", "/unsubscribe", "/preferences", "/newsletters")

_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The token is in the URL: never leak it to another site in a Referer.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
}


# ------------------------------------------------------------------------------- language
@dataclass(frozen=True, slots=True)
class PageLanguage:
    """The shipped language a page speaks, and whether ``Accept-Language`` chose it."""

    tag: str
    negotiated: bool = False


def list_page_language(request: Request, list_language: str | None) -> PageLanguage:
    """A page tied to one list speaks the list's language (when shipped)."""
    if list_language and is_shipped(list_language):
        return PageLanguage(shipped_language(list_language))
    return reader_page_language(request)


def reader_page_language(request: Request, saved: str | None = None) -> PageLanguage:
    """A page not tied to one list: the reader's saved language, the browser's, English."""
    if saved and is_shipped(saved):
        return PageLanguage(shipped_language(saved))
    asked = from_accept_language(request.headers.get("accept-language"))
    return PageLanguage(asked or DEFAULT_LANGUAGE, negotiated=True)


def isolated(text: str | None) -> Markup:
    """``text`` in ``<bdi>``: a name or title keeps its own direction inside a sentence."""
    return Markup("<bdi>{}</bdi>").format(text or "")


def with_title(message: str, title: str | None) -> Markup:
    """A translated sentence with a list's title put in, the title isolated (``<bdi>``)."""
    return escape(message) % {"title": isolated(title)}


templates.env.globals.update(format_number=format_number, format_day=format_day)
templates.env.filters["bdi"] = isolated


def _language_name(tag: str) -> str:
    """A saved language that is not shipped, named in itself (``Deutsch``), else its tag."""
    try:
        locale = Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return tag
    return locale.get_display_name(locale) or tag


# ---------------------------------------------------------------------------------- pages
def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _limiter(request: Request) -> SlidingWindowLimiter:
    state = request.app.state
    limiter = getattr(state, "signup_limiter", None)
    if limiter is None:
        limiter = state.signup_limiter = SlidingWindowLimiter(
            _settings(request).SIGNUP_RATE_LIMIT_PER_HOUR, RATE_WINDOW_SECONDS
        )
    return limiter


def public_page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    *,
    language: PageLanguage,
) -> HTMLResponse:
    """The reader page ``templates/web/public/<name>`` in ``language``, with the reader pages'
    security headers (``headers`` override them)."""
    settings = _settings(request)
    full = {
        "publisher": settings.PUBLISHER_NAME,
        "lang": language.tag,
        "dir": text_direction(language.tag),
        **context,
    }
    with use_language(language.tag, domain="public"):
        response = templates.TemplateResponse(
            request, f"public/{name}", full, status_code=status_code
        )
    response.headers.update(_SECURITY_HEADERS)
    response.headers["Content-Language"] = language.tag
    if language.negotiated:
        response.headers["Vary"] = "Accept-Language"
    response.headers.update(headers or {})
    return response


def message_page(
    request: Request,
    heading: str,
    *paragraphs: str,
    language: PageLanguage,
    status_code: int = 200,
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A page with a heading, paragraphs and a link, already worded in ``language``."""
    return public_page(
        request,
        "message.html.j2",
        {
            "heading": heading,
            "paragraphs": paragraphs,
            "link_url": link[0] if link else None,
            "link_text": link[1] if link else None,
        },
        status_code,
        language=language,
    )


def reader_message_page(
    request: Request, heading: str, paragraph: str, status_code: int
) -> HTMLResponse:
    """A short reader page (heading and one paragraph, marked with ``N_``) in the language of a
    page tied to no list."""
    language = reader_page_language(request)
    with use_language(language.tag, domain="public"):
        return message_page(
            request, _(heading), _(paragraph), language=language, status_code=status_code
        )


def _invalid_link(request: Request) -> HTMLResponse:
    # Says nothing about why: a forger learns nothing from the answer.
    return reader_message_page(
        request,
        N_("This link is not valid"),
        N_("The link may be incomplete. Please use the newest link from one of our emails."),
        400,
    )


def no_such_newsletter(request: Request) -> HTMLResponse:
    """The 404 page for a list that does not exist or is private (the browser's language)."""
    return reader_message_page(
        request,
        N_("No such newsletter"),
        N_("There is no public newsletter at this address. Please check the link."),
        404,
    )


def _unreadable_form(request: Request) -> HTMLResponse:
    return reader_message_page(
        request,
        N_("The form could not be read"),
        N_("Please go back, reload the page and try again."),
        400,
    )


async def public_error_page(request: Request, exc: Exception) -> Response:
    """A page that does not exist (404) or a method it does not take (405) on the reader
    pages' paths, for a browser: a reader page in the browser's language. Anything else (the
    edge's 413 with its reason, other paths, JSON clients) gets FastAPI's usual answer."""
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if exc.status_code not in (404, 405) or not _wants_reader_page(request):
        return await http_exception_handler(request, exc)
    language = reader_page_language(request)
    with use_language(language.tag, domain="public"):
        if exc.status_code == 404:
            heading, paragraph = (
                _("Page not found"),
                _("There is nothing at this address. Please check the link."),
            )
        else:
            heading, paragraph = (
                _("This request could not be handled"),
                _("Please go back, reload the page and try again."),
            )
        response = message_page(
            request, heading, paragraph, language=language, status_code=exc.status_code
        )
    response.headers.update(exc.headers or {})
    return response


async def public_server_error_page(request: Request, exc: Exception) -> Response:
    """An unexpected failure (500) on a reader page's path, for a browser: a reader page in the
    browser's language saying so. Elsewhere the plain 500 as before. The error is still
    logged by the server."""
    if not _wants_reader_page(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return reader_message_page(
        request,
        N_("Something went wrong on our side"),
        N_("Nothing was changed. Please try again in a few minutes."),
        500,
    )


def _wants_reader_page(request: Request) -> bool:
    path = request.url.path
    on_reader_path = any(
        path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PATH_PREFIXES
    )
    return on_reader_path and not _wants_json(request) and not path.endswith(".atom")


def _claims(request: Request, purpose: str, token: str, max_age: int | None) -> TokenClaims | None:
    try:
        return read_token(_settings(request).secret_key(), purpose, token, max_age)
    except InvalidToken as exc:
        log.info("refused a %s token: %s", purpose, exc)
        return None


def _wants_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return content_type.startswith("application/json") or (
        "application/json" in accept and "text/html" not in accept
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _json(data: dict[str, Any], status_code: int = 200, **headers: str) -> JSONResponse:
    response = JSONResponse(data, status_code=status_code)
    response.headers.update({"Cache-Control": "no-store", **headers})
    return response


def enqueue_confirmation(subscriber_id: int, list_id: int) -> None:
    """Publish the confirmation task (after commit). A broker outage is logged, not raised:
    the reader sees the same page and can ask again."""
    try:
        from workers.celery_app import app as celery_app

        celery_app.send_task("distributor.send_confirmation", args=[subscriber_id, list_id])
    except Exception:
        log.warning("could not enqueue the confirmation email", exc_info=True)


def enqueue_welcomes(memberships: list[tuple[int, int]]) -> None:
    """Publish the welcome-email task for memberships that just became active (after commit).
    A broker outage is logged, not raised: the reader's action has succeeded."""
    if not memberships:
        return
    try:
        from workers.celery_app import app as celery_app

        for subscriber_id, list_id in memberships:
            celery_app.send_task("distributor.send_welcome", args=[subscriber_id, list_id])
    except Exception:
        log.warning("could not enqueue the welcome email", exc_info=True)


# ---------------------------------------------------------------------------------- signup
@router.get("/signup/{list_name}", response_class=HTMLResponse)
def signup_form(request: Request, list_name: str) -> Response:
    """The signup form of one list."""
    with unit_of_work(_settings(request).database_url) as session:
        mailing_list = subscriber_service.find_list(session, list_name)
        # A private list answers like a missing one: its name and title stay unknown.
        if mailing_list is None or not subscriber_service.is_public(mailing_list):
            return no_such_newsletter(request)
        language = list_page_language(request, mailing_list.language)
        if mailing_list.archived_at is not None:
            return _closed(request, mailing_list.title, language)
        context = {
            "list_name": mailing_list.name,
            "list_title": mailing_list.title,
            "description": mailing_list.description,
            "double": mailing_list.opt_in == "double",
            "email": "",
            "error": None,
        }
    return public_page(request, "signup.html.j2", context, language=language)


def _closed(request: Request, title: str, language: PageLanguage) -> Response:
    """The answer for an archived list: it takes no new readers (410 Gone)."""
    with use_language(language.tag, domain="public"):
        return message_page(
            request,
            _("This newsletter is closed"),
            with_title(_("%(title)s no longer takes new readers."), title),
            language=language,
            status_code=410,
        )


async def _signup_fields(request: Request) -> dict[str, str] | None:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        return {key: str(value) for key, value in data.items() if isinstance(value, str)}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.post("/signup/{list_name}")
async def signup_submit(request: Request, list_name: str) -> Response:
    """Sign up by form or JSON. The answer is the same whether or not the address is known."""
    as_json = _wants_json(request)
    retry_after = _limiter(request).hit(_client_address(request))
    if retry_after is not None:
        wait = str(int(retry_after) + 1)
        if as_json:
            return _json(
                {"error": "too many signups from this address; try later"},
                429,
                **{"Retry-After": wait},
            )
        language = reader_page_language(request)
        with use_language(language.tag, domain="public"):
            response = message_page(
                request,
                _("Please try again later"),
                _("Too many signups came from your network."),
                language=language,
                status_code=429,
            )
        response.headers["Retry-After"] = wait
        return response
    fields = await _signup_fields(request)
    if fields is None:
        if as_json:
            return _json({"error": "send a JSON object or a form with an email field"}, 400)
        return _unreadable_form(request)
    return await run_in_threadpool(_signup, request, list_name, fields, as_json)


def _signup_error(exc: subscriber_service.SubscriberError, email: str) -> str:
    """What the signup form says about ``exc`` (in the language in force)."""
    if email_problem(email):
        return _("Please enter a valid email address, such as name@example.org.")
    return _("Please check your details and try again.")


def _signup(request: Request, list_name: str, fields: dict[str, str], as_json: bool) -> Response:
    settings = _settings(request)
    email = fields.get("email", "").strip()
    with unit_of_work(settings.database_url) as session:
        mailing_list = subscriber_service.find_list(session, list_name)
        if mailing_list is None or not subscriber_service.is_public(mailing_list):
            if as_json:
                return _json({"error": f"no newsletter named {list_name!r}"}, 404)
            return no_such_newsletter(request)
        language = list_page_language(request, mailing_list.language)
        if mailing_list.archived_at is not None:
            if as_json:
                return _json({"error": f"the newsletter {list_name!r} is closed"}, 410)
            return _closed(request, mailing_list.title, language)
        title, double = mailing_list.title, mailing_list.opt_in == "double"
        if fields.get(HONEYPOT_FIELD, "").strip():
            # A bot filled the hidden field: answer as if it worked, store nothing.
            log.info("signup honeypot triggered on list %s", list_name)
            result = None
        else:
            try:
                result = subscriber_service.sign_up(
                    session,
                    list_name,
                    email,
                    language=fields.get("language") or None,
                )
            except subscriber_service.SubscriberError as exc:
                if as_json:
                    return _json({"error": str(exc), "field": "email"}, 422)
                with use_language(language.tag, domain="public"):
                    error = _signup_error(exc, email)
                return public_page(
                    request,
                    "signup.html.j2",
                    {
                        "list_name": list_name,
                        "list_title": title,
                        "description": mailing_list.description,
                        "double": double,
                        "email": email,
                        "error": error,
                    },
                    422,
                    language=language,
                )
        activated = take_activated(session)
    if result is not None and result.send_confirmation and result.subscriber_id is not None:
        enqueue_confirmation(result.subscriber_id, result.list_id)
    enqueue_welcomes(activated)
    status = "confirmation_sent" if double else "subscribed"
    if as_json:
        return _json({"status": status, "list": list_name})
    with use_language(language.tag, domain="public"):
        if double:
            return message_page(
                request,
                _("Check your inbox"),
                with_title(
                    _("We have sent a link to confirm your subscription to %(title)s."), title
                ),
                _("If it does not arrive within a few minutes, look in your spam folder."),
                *_cooldown_note(settings),
                language=language,
            )
        return message_page(
            request,
            _("You are subscribed"),
            with_title(_("Welcome to %(title)s."), title),
            language=language,
        )


def _cooldown_note(settings: Settings) -> tuple[str, ...]:
    """The same words for every address (they must not tell whether one was sent)."""
    seconds = settings.CONFIRMATION_COOLDOWN_SECONDS
    if seconds <= 0:
        return ()
    if seconds < 3600:
        minutes = max(1, round(seconds / 60))
        note = ngettext(
            "We send an address at most one such email every minute: if you asked before,"
            " please use the link in that email.",
            "We send an address at most one such email every %(number)s minutes: if you asked"
            " before, please use the link in that email.",
            minutes,
        ) % {"number": format_number(minutes)}
    else:
        hours = round(seconds / 3600)
        note = ngettext(
            "We send an address at most one such email every hour: if you asked before,"
            " please use the link in that email.",
            "We send an address at most one such email every %(number)s hours: if you asked"
            " before, please use the link in that email.",
            hours,
        ) % {"number": format_number(hours)}
    return (note,)


# --------------------------------------------------------------------------------- confirm
def _list_of(request: Request, list_id: int) -> tuple[str | None, PageLanguage]:
    """The title of a token's list and the language its pages speak."""
    with unit_of_work(_settings(request).database_url) as session:
        mailing_list = session.get(MailingList, list_id)
        if mailing_list is None:
            return None, reader_page_language(request)
        return mailing_list.title, list_page_language(request, mailing_list.language)


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> Response:
    """A page with a Confirm button; a GET alone changes nothing (mail scanners follow links)."""
    claims = _claims(request, CONFIRM_PURPOSE, token, subscriber_service.CONFIRM_MAX_AGE_SECONDS)
    if claims is None:
        return _invalid_link(request)
    title, language = _list_of(request, claims.list_id)
    with use_language(language.tag, domain="public"):
        shown = title if title is not None else _("this newsletter")
    return public_page(
        request, "confirm.html.j2", {"list_title": shown, "token": token}, language=language
    )


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> Response:
    """Confirm a double opt-in subscription (the page's button; idempotent)."""
    claims = _claims(request, CONFIRM_PURPOSE, token, subscriber_service.CONFIRM_MAX_AGE_SECONDS)
    if claims is None:
        return _invalid_link(request)
    settings = _settings(request)
    with unit_of_work(settings.database_url) as session:
        result = subscriber_service.confirm_subscription(
            session,
            claims.subscriber_id,
            claims.list_id,
            issued_at=datetime.fromtimestamp(claims.issued_at, tz=UTC),
        )
        activated = take_activated(session)
    enqueue_welcomes(activated)
    manage = preferences_url(
        "",
        make_token(settings.secret_key(), MANAGE_PURPOSE, claims.subscriber_id, claims.list_id),
    )
    _title, language = _list_of(request, claims.list_id)
    with use_language(language.tag, domain="public"):
        if result.confirmed:
            return message_page(
                request,
                _("Subscription confirmed"),
                with_title(_("Thank you: you will receive %(title)s."), result.list_title),
                language=language,
                link=(manage, _("Manage your subscriptions")),
            )
        if result.outcome == "left_since":
            return message_page(
                request,
                _("You left this newsletter"),
                _("You unsubscribed after this link was sent, so it no longer subscribes you."),
                language=language,
                link=(manage, _("Subscribe again on your preferences page")),
            )
    return _invalid_link(request)


# ----------------------------------------------------------------------------- unsubscribe
@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    """A page with an Unsubscribe button; a GET alone changes nothing."""
    claims = _claims(request, MANAGE_PURPOSE, token, None)
    if claims is None:
        return _invalid_link(request)
    title, language = _list_of(request, claims.list_id)
    with use_language(language.tag, domain="public"):
        shown = title if title is not None else _("this newsletter")
    return public_page(
        request, "unsubscribe.html.j2", {"list_title": shown, "token": token}, language=language
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_now(request: Request, token: str) -> Response:
    """RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the page's button: effective now.

    No cookie, no login, no redirect: a 200 page. Repeating it is harmless.
    """
    claims = _claims(request, MANAGE_PURPOSE, token, None)
    if claims is None:
        return _invalid_link(request)
    with unit_of_work(_settings(request).database_url) as session:
        title = subscriber_service.unsubscribe_member(session, claims.subscriber_id, claims.list_id)
    _title, language = _list_of(request, claims.list_id)
    with use_language(language.tag, domain="public"):
        gone: str
        if title:
            gone = with_title(_("You will not receive %(title)s any more."), title)
        else:
            gone = _("You will not receive this newsletter any more.")
        return message_page(
            request,
            _("You are unsubscribed"),
            gone,
            language=language,
            link=(f"/preferences/{token}", _("Changed your mind? Manage your subscriptions")),
        )


# ----------------------------------------------------------------------------- preferences
def _language_options(saved: str | None) -> tuple[list[tuple[str, str]], str]:
    """The language menu (tag, own name) and the tag selected in it for a ``saved`` language.

    ``zh`` (saved before Simplified and Traditional Chinese were told apart) selects
    Simplified Chinese. Another saved language that is not on the menu (``es-MX``, ``de``)
    is added to it, so saving the page keeps it.
    """
    options = list(LANGUAGES)
    exact = language_tag_or_none(saved)
    if exact is None:
        return options, ""
    if exact == "zh":
        return options, "zh-Hans"
    if exact in {tag for tag, _name in options}:
        return options, exact
    options.append((exact, _language_name(exact)))
    return options, exact


def _preferences_page(
    request: Request,
    token: str,
    prefs: Any,
    *,
    saved: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    options, chosen = _language_options(prefs.language)
    return public_page(
        request,
        "preferences.html.j2",
        {
            "prefs": prefs,
            "token": token,
            "languages": options,
            "chosen_language": chosen,
            "saved": saved,
            "error": error,
        },
        status_code,
        language=reader_page_language(request, prefs.language),
    )


def _gone(request: Request) -> HTMLResponse:
    return reader_message_page(
        request, N_("Nothing to manage"), N_("We keep no subscriptions for this link."), 404
    )


def _saved_language(request: Request, subscriber_id: int) -> str | None:
    with unit_of_work(_settings(request).database_url) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        return subscriber.language if subscriber is not None else None


def _preferences_claims(request: Request, token: str) -> TokenClaims | Response:
    """The claims of a preferences link, or the page to show instead.

    The page shows the reader's address, so the link opens it for
    PREFERENCES_LINK_MAX_AGE_DAYS only (every email carries a fresh one); the same token
    keeps unsubscribing for ever (RFC 8058 links in old emails must work).
    """
    settings = _settings(request)
    max_age = settings.PREFERENCES_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        return read_token(settings.secret_key(), MANAGE_PURPOSE, token, max_age)
    except ExpiredToken:
        # Genuine but old: it still tells who the reader is, so the page speaks their language.
        reader = read_token(settings.secret_key(), MANAGE_PURPOSE, token, None)
        language = reader_page_language(request, _saved_language(request, reader.subscriber_id))
        days = settings.PREFERENCES_LINK_MAX_AGE_DAYS
        with use_language(language.tag, domain="public"):
            return message_page(
                request,
                _("This link has expired"),
                ngettext(
                    "For your privacy, a link to your preferences works for %(number)s day."
                    " Every newsletter we send carries a fresh one: please use the link in a"
                    " recent email.",
                    "For your privacy, a link to your preferences works for %(number)s days."
                    " Every newsletter we send carries a fresh one: please use the link in a"
                    " recent email.",
                    days,
                )
                % {"number": format_number(days)},
                _("You can still unsubscribe with this link."),
                language=language,
                link=(f"/unsubscribe/{token}", _("Unsubscribe")),
                status_code=410,
            )
    except InvalidToken as exc:
        log.info("refused a %s token: %s", MANAGE_PURPOSE, exc)
        return _invalid_link(request)


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str) -> Response:
    """Which lists, which language, resubscribe."""
    claims = _preferences_claims(request, token)
    if not isinstance(claims, TokenClaims):
        return claims
    with unit_of_work(_settings(request).database_url) as session:
        prefs = subscriber_service.preferences_of(session, claims.subscriber_id)
    if prefs is None:
        return _gone(request)
    return _preferences_page(request, token, prefs)


@router.post("/preferences/{token}", response_class=HTMLResponse)
async def preferences_save(request: Request, token: str) -> Response:
    """Save the reader's choices."""
    claims = _preferences_claims(request, token)
    if not isinstance(claims, TokenClaims):
        return claims
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _unreadable_form(request)
    form = await request.form()
    wanted: set[int] = set()
    for value in form.getlist("lists"):
        if isinstance(value, str) and value.isdigit():
            wanted.add(int(value))
    language = str(form.get("language") or "")
    name = str(form.get("name") or "")
    return await run_in_threadpool(
        _save_preferences, request, token, claims, wanted=wanted, language=language, name=name
    )


def _preferences_error(language: str, name: str) -> str:
    """What the preferences page says about choices it could not save."""
    if language.strip() and subscriber_service.language_problem(language):
        return _("Please choose a language from the list.")
    if name.strip() and subscriber_service.name_problem(normalise_space(name)):
        return _("Please check your name: it is too long or contains characters we cannot keep.")
    return _("Your choices could not be saved. Please check them and try again.")


def _save_preferences(
    request: Request, token: str, claims: TokenClaims, *, wanted: set[int], language: str, name: str
) -> Response:
    settings = _settings(request)
    try:
        with unit_of_work(settings.database_url) as session:
            prefs = subscriber_service.update_preferences(
                session,
                claims.subscriber_id,
                wanted_list_ids=wanted,
                language=language or None,
                name=name or None,
            )
            activated = take_activated(session)
    except subscriber_service.SubscriberError:
        with unit_of_work(settings.database_url) as session:
            current = subscriber_service.preferences_of(session, claims.subscriber_id)
        if current is None:
            return _gone(request)
        with use_language(reader_page_language(request, current.language).tag, domain="public"):
            error = _preferences_error(language, name)
        return _preferences_page(request, token, current, error=error, status_code=422)
    if prefs is None:
        return _gone(request)
    enqueue_welcomes(activated)
    return _preferences_page(request, token, prefs, saved=True)
