"""Public reader pages: sign up, confirm, one-click unsubscribe, preferences.

These pages set no cookies and need no login: the signed token in the URL is the reader's
credential (see :mod:`distributor.domain.tokens`). A bad token gets the same 400 page whatever
was wrong with it. Unsubscribing follows RFC 8058: a POST to the List-Unsubscribe URL
unsubscribes at once and answers 200 (never a redirect); a GET only shows a page with a
button, because link scanners follow GETs. The double opt-in link works the same way: a GET
shows a Confirm button, only the POST confirms.

The per-IP signup limit is an in-process sliding window: each web process counts on its own,
so N processes allow up to N times ``SIGNUP_RATE_LIMIT_PER_HOUR``. Behind a proxy, run uvicorn
with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the client address is the reader's.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from distributor.config import Settings
from distributor.db.models import MailingList
from distributor.db.session import unit_of_work
from distributor.domain.links import CONFIRM_PURPOSE, MANAGE_PURPOSE, preferences_url
from distributor.domain.tokens import (
    ExpiredToken,
    InvalidToken,
    TokenClaims,
    make_token,
    read_token,
)
from distributor.i18n import install_in
from distributor.resources import TEMPLATES_DIR
from distributor.services import subscribers as subscriber_service
from distributor.services.activation import take_activated
from distributor.web.throttle import SlidingWindowLimiter

log = logging.getLogger("distributor.web.public")

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(TEMPLATES_DIR / "web"))
# Jinja's default only escapes *.html files; ours end in .j2, and readers type into these pages.
templates.env.autoescape = True
install_in(templates.env)

HONEYPOT_FIELD = "website"
RATE_WINDOW_SECONDS = 3600.0
MAX_FORM_BYTES = 16_384
LANGUAGES = (("en", "English"), ("zh", "中文"))

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
) -> HTMLResponse:
    """The reader page ``templates/web/public/<name>`` with the reader pages' security headers
    (``headers`` override them)."""
    settings = _settings(request)
    full = {"publisher": settings.PUBLISHER_NAME, "lang": "en", **context}
    response = templates.TemplateResponse(request, f"public/{name}", full, status_code=status_code)
    response.headers.update(_SECURITY_HEADERS)
    response.headers.update(headers or {})
    return response


def message_page(
    request: Request,
    heading: str,
    *paragraphs: str,
    status_code: int = 200,
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
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
    )


def _invalid_link(request: Request) -> HTMLResponse:
    # Says nothing about why: a forger learns nothing from the answer.
    return message_page(
        request,
        "This link is not valid",
        "The link may be incomplete. Please use the newest link from one of our emails.",
        status_code=400,
    )


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
            return message_page(request, "No such newsletter", status_code=404)
        if mailing_list.archived_at is not None:
            return _closed(request, mailing_list.title)
        context = {
            "list_name": mailing_list.name,
            "list_title": mailing_list.title,
            "description": mailing_list.description,
            "double": mailing_list.opt_in == "double",
            "lang": mailing_list.language,
            "email": "",
            "error": None,
        }
    return public_page(request, "signup.html.j2", context)


def _closed(request: Request, title: str) -> Response:
    """The answer for an archived list: it takes no new readers (410 Gone)."""
    return message_page(
        request,
        "This newsletter is closed",
        f"{title} no longer takes new readers.",
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
        response = message_page(
            request,
            "Please try again later",
            "Too many signups came from your network.",
            status_code=429,
        )
        response.headers["Retry-After"] = wait
        return response
    fields = await _signup_fields(request)
    if fields is None:
        if as_json:
            return _json({"error": "send a JSON object or a form with an email field"}, 400)
        return message_page(request, "The form could not be read", status_code=400)
    return await run_in_threadpool(_signup, request, list_name, fields, as_json)


def _signup(request: Request, list_name: str, fields: dict[str, str], as_json: bool) -> Response:
    settings = _settings(request)
    email = fields.get("email", "").strip()
    with unit_of_work(settings.database_url) as session:
        mailing_list = subscriber_service.find_list(session, list_name)
        if mailing_list is None or not subscriber_service.is_public(mailing_list):
            if as_json:
                return _json({"error": f"no newsletter named {list_name!r}"}, 404)
            return message_page(request, "No such newsletter", status_code=404)
        if mailing_list.archived_at is not None:
            if as_json:
                return _json({"error": f"the newsletter {list_name!r} is closed"}, 410)
            return _closed(request, mailing_list.title)
        title, double, language = (
            mailing_list.title,
            mailing_list.opt_in == "double",
            mailing_list.language,
        )
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
                return public_page(
                    request,
                    "signup.html.j2",
                    {
                        "list_name": list_name,
                        "list_title": title,
                        "description": mailing_list.description,
                        "double": double,
                        "lang": language,
                        "email": email,
                        "error": f"Please check your details: {exc}.",
                    },
                    422,
                )
        activated = take_activated(session)
    if result is not None and result.send_confirmation and result.subscriber_id is not None:
        enqueue_confirmation(result.subscriber_id, result.list_id)
    enqueue_welcomes(activated)
    status = "confirmation_sent" if double else "subscribed"
    if as_json:
        return _json({"status": status, "list": list_name})
    if double:
        return message_page(
            request,
            "Check your inbox",
            f"We have sent a link to confirm your subscription to {title}.",
            "If it does not arrive within a few minutes, look in your spam folder.",
            *_cooldown_note(settings),
        )
    return message_page(request, "You are subscribed", f"Welcome to {title}.")


def _cooldown_note(settings: Settings) -> tuple[str, ...]:
    """The same words for every address (they must not tell whether one was sent)."""
    seconds = settings.CONFIRMATION_COOLDOWN_SECONDS
    if seconds <= 0:
        return ()
    if seconds < 3600:
        minutes = max(1, round(seconds / 60))
        span = "minute" if minutes == 1 else f"{minutes} minutes"
    else:
        hours = round(seconds / 3600)
        span = "hour" if hours == 1 else f"{hours} hours"
    return (
        f"We send an address at most one such email every {span}: if you asked before,"
        " please use the link in that email.",
    )


# --------------------------------------------------------------------------------- confirm
@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> Response:
    """A page with a Confirm button; a GET alone changes nothing (mail scanners follow links)."""
    claims = _claims(request, CONFIRM_PURPOSE, token, subscriber_service.CONFIRM_MAX_AGE_SECONDS)
    if claims is None:
        return _invalid_link(request)
    with unit_of_work(_settings(request).database_url) as session:
        mailing_list = session.get(MailingList, claims.list_id)
        title = mailing_list.title if mailing_list is not None else "this newsletter"
    return public_page(request, "confirm.html.j2", {"list_title": title, "token": token})


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
    if result.confirmed:
        return message_page(
            request,
            "Subscription confirmed",
            f"Thank you: you will receive {result.list_title}.",
            link=(manage, "Manage your subscriptions"),
        )
    if result.outcome == "left_since":
        return message_page(
            request,
            "You left this newsletter",
            "You unsubscribed after this link was sent, so it no longer subscribes you.",
            link=(manage, "Subscribe again on your preferences page"),
        )
    return _invalid_link(request)


# ----------------------------------------------------------------------------- unsubscribe
@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    """A page with an Unsubscribe button; a GET alone changes nothing."""
    claims = _claims(request, MANAGE_PURPOSE, token, None)
    if claims is None:
        return _invalid_link(request)
    with unit_of_work(_settings(request).database_url) as session:
        mailing_list = session.get(MailingList, claims.list_id)
        title = mailing_list.title if mailing_list is not None else "this newsletter"
    return public_page(request, "unsubscribe.html.j2", {"list_title": title, "token": token})


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
    return message_page(
        request,
        "You are unsubscribed",
        f"You will not receive {title or 'this newsletter'} any more.",
        link=(f"/preferences/{token}", "Changed your mind? Manage your subscriptions"),
    )


# ----------------------------------------------------------------------------- preferences
def _preferences_page(
    request: Request,
    token: str,
    prefs: Any,
    *,
    saved: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return public_page(
        request,
        "preferences.html.j2",
        {
            "prefs": prefs,
            "token": token,
            "languages": LANGUAGES,
            "saved": saved,
            "error": error,
            "lang": prefs.language or "en",
        },
        status_code,
    )


def _gone(request: Request) -> HTMLResponse:
    return message_page(
        request, "Nothing to manage", "We keep no subscriptions for this link.", status_code=404
    )


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
        return message_page(
            request,
            "This link has expired",
            f"For your privacy, a link to your preferences works for"
            f" {settings.PREFERENCES_LINK_MAX_AGE_DAYS} days. Every newsletter we send"
            " carries a fresh one: please use the link in a recent email.",
            "You can still unsubscribe with this link.",
            link=(f"/unsubscribe/{token}", "Unsubscribe"),
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
        return message_page(request, "The form could not be read", status_code=400)
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
    except subscriber_service.SubscriberError as exc:
        with unit_of_work(settings.database_url) as session:
            current = subscriber_service.preferences_of(session, claims.subscriber_id)
        if current is None:
            return _gone(request)
        return _preferences_page(request, token, current, error=str(exc), status_code=422)
    if prefs is None:
        return _gone(request)
    enqueue_welcomes(activated)
    return _preferences_page(request, token, prefs, saved=True)
