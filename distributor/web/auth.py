"""Desk sign-in: the signed session cookie, CSRF tokens, and the route dependencies.

The cookie holds ``{"u": user id, "n": the user's session nonce, "c": CSRF secret, "s": sign-in
time}``, signed with ``settings.secret_key()`` (itsdangerous, timestamped). Signing out changes
the user's nonce in the database, so every cookie issued before stops working on every device.
A session ends ``SESSION_IDLE_SECONDS`` after the cookie was last written (desk pages re-write
it while in use) and, whatever the activity, ``SESSION_LIFETIME_SECONDS`` after sign-in.

Anonymous visitors get a cookie too (``{"c": …}`` only) so the sign-in form itself carries a
CSRF token. The token put in forms is the CSRF secret: the cookie is HttpOnly and signed, so a
third-party page can neither read it nor forge one that matches.

Use in routes::

    @router.get("/things")
    def things(user: EditorUser) -> Response: ...    # or Depends(require_editor)

    @router.post("/things", dependencies=[CsrfChecked])   # = Depends(verify_csrf)
    def add_thing(...): ...

A dependency cannot return a redirect, so an anonymous request raises
``HTTPException(303, headers={"Location": "/login?next=…"})``, which FastAPI turns into the
redirect a browser follows.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import User
from distributor.db.session import session_factory
from distributor.services import audit
from distributor.web.throttle import SlidingWindowLimiter

log = logging.getLogger("distributor.web")

SESSION_COOKIE = "distributor_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SALT = "distributor.desk.session"
_STATE_KEY = "desk_session"
_DIRTY_KEY = "desk_session_dirty"


# ------------------------------------------------------------------------------ plumbing
def app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def database(request: Request) -> Iterator[Session]:
    """A unit of work for one request: commits when the route returns, rolls back on error."""
    settings = app_settings(request)
    session = session_factory(settings.database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    rebuild_feeds_after_commit(session, settings)


def rebuild_feeds_after_commit(session: Session, settings: Settings) -> None:
    """Feeds follow the request's committed changes at once (see services.feeds); a failed
    rebuild is logged, never shown to the editor: the change itself is saved, and the
    periodic check rebuilds the feeds later."""
    from distributor.db.session import unit_of_work
    from distributor.services.feeds import rebuild_after_commit

    try:
        rebuild_after_commit(session, settings, lambda: unit_of_work(settings.database_url))
    except Exception:
        log.exception("feeds were not rebuilt after the change; the periodic check will")


DbSession = Annotated[Session, Depends(database, scope="function")]


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key(), salt=_SALT)


def read_session_cookie(
    settings: Settings, raw: str | None, now: float | None = None
) -> tuple[dict[str, Any], float]:
    """The session in cookie value ``raw`` and the seconds since it was written.

    Empty when the signature is bad, the cookie was idle too long, or (signed-in sessions)
    the sign-in is older than ``SESSION_LIFETIME_SECONDS`` whatever the activity since.
    """
    if not raw:
        return {}, 0.0
    moment = time.time() if now is None else now
    try:
        data, signed_at = _serializer(settings).loads(
            raw, max_age=settings.SESSION_IDLE_SECONDS, return_timestamp=True
        )
    except BadSignature:  # includes SignatureExpired
        return {}, 0.0
    if not isinstance(data, dict):
        return {}, 0.0
    if "u" in data:
        started = data.get("s")
        if not isinstance(started, int | float) or (
            moment - started > settings.SESSION_LIFETIME_SECONDS
        ):
            return {}, 0.0
    return data, max(0.0, moment - signed_at.timestamp())


def _read_cookie(request: Request) -> dict[str, Any]:
    settings = app_settings(request)
    data, age = read_session_cookie(settings, request.cookies.get(SESSION_COOKIE))
    if "u" in data and age >= min(300.0, settings.SESSION_IDLE_SECONDS / 4):
        # In use: the next page re-signs the cookie, so the idle limit counts from now.
        mark_session_changed(request)
    return data


def session_data(request: Request) -> dict[str, Any]:
    """This request's session (read once from the cookie, then kept on ``request.state``)."""
    data: dict[str, Any] | None = getattr(request.state, _STATE_KEY, None)
    if data is None:
        data = _read_cookie(request)
        setattr(request.state, _STATE_KEY, data)
    return data


def mark_session_changed(request: Request) -> None:
    """Note that the session must be written back to the cookie with this response."""
    setattr(request.state, _DIRTY_KEY, True)


def session_is_dirty(request: Request) -> bool:
    """True when the session changed during this request and the cookie must be re-sent."""
    return bool(getattr(request.state, _DIRTY_KEY, False))


def cookie_is_secure(settings: Settings) -> bool:
    """Secure cookies whenever the public address is https."""
    return settings.PUBLIC_BASE_URL.startswith("https://")


def write_session_cookie(request: Request, response: Response) -> None:
    """Send the (possibly new) session cookie on ``response`` if it changed."""
    if not session_is_dirty(request):
        return
    settings = app_settings(request)
    data = session_data(request)
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(settings).dumps(data),
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(settings),
        path="/",
    )


# ---------------------------------------------------------------------------------- CSRF
def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page (created with the session if there is none).

    Pages that call this must send the cookie: :func:`write_session_cookie` (the desk's
    ``render`` helper does it).
    """
    data = session_data(request)
    token = data.get("c")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        data["c"] = token
        mark_session_changed(request)
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse (403) a state-changing request without the session's CSRF token.

    Accepts the hidden form field ``csrf_token`` or the ``X-CSRF-Token`` header (for fetch).
    """
    expected = session_data(request).get("c")
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it for the route's Form() params
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise HTTPException(
            status_code=403,
            detail=(
                "This form could not be accepted because its security token is missing or "
                "out of date (the page was open too long, or you signed in elsewhere). "
                "Go back, reload the page and submit it again."
            ),
        )


# ------------------------------------------------------------------------------- sign-in
def sign_in(request: Request, user: User) -> None:
    """Start a session for ``user`` (a fresh CSRF secret too, against session fixation)."""
    data = session_data(request)
    data.clear()
    data.update(
        {
            "u": user.id,
            "n": user.session_nonce,
            "c": secrets.token_urlsafe(32),
            "s": int(time.time()),
        }
    )
    mark_session_changed(request)


def sign_out(request: Request) -> None:
    """Forget the session in this browser (the caller also rotates the user's nonce)."""
    data = session_data(request)
    data.clear()
    data["c"] = secrets.token_urlsafe(32)
    mark_session_changed(request)


def current_user(request: Request, db: DbSession) -> User | None:
    """The signed-in user, or None (no cookie, bad signature, expired, or signed out)."""
    cached = getattr(request.state, "desk_user", None)
    if isinstance(cached, User):
        return cached
    data = session_data(request)
    user_id, nonce = data.get("u"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(nonce, str) or not nonce:
        return None
    user = db.get(User, user_id)
    if user is None or not hmac.compare_digest(user.session_nonce or "", nonce):
        return None
    request.state.desk_user = user
    # What this request changes is recorded in the audit log as done by this user.
    audit.act_as(db, audit.Actor("user", user.email, user.id, client=client_key(request)))
    return user


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in (never another site)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def login_redirect(request: Request) -> HTTPException:
    """The exception that sends an anonymous visitor to sign in, then back here."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if here == "/" else f"/login?next={quote(here, safe='')}"
    return HTTPException(status_code=303, detail="Sign in first.", headers={"Location": location})


def require_editor(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
    """The signed-in user (editor or admin), or a 303 redirect to the sign-in page."""
    if user is None:
        raise login_redirect(request)
    return user


def require_admin(user: Annotated[User, Depends(require_editor)]) -> User:
    """The signed-in administrator; editors get 403 with what to do."""
    if user.role != "admin":
        raise HTTPException(
            status_code=403,
            detail=(
                "This page is for administrators. Your account is an editor account; "
                "ask an administrator if you need this done."
            ),
        )
    return user


# ------------------------------------------------------------------- sign-in throttle
class LoginThrottle(SlidingWindowLimiter):
    """Failed sign-ins per client address in a sliding window (this process only).

    An attempt takes a slot *before* the password is checked (parallel attempts cannot all
    slip under the limit) and gives it back when it succeeds, so only failures count. With
    fewer failures per client than an account takes to lock, one client alone cannot lock an
    editor out; a third party needs several addresses, and each is slowed.
    """

    take = SlidingWindowLimiter.hit


def login_throttle(request: Request) -> LoginThrottle:
    """The app's sign-in throttle (made on first use from the settings)."""
    state = request.app.state
    throttle = getattr(state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        settings = app_settings(request)
        throttle = state.login_throttle = LoginThrottle(
            settings.LOGIN_FAILURES_PER_CLIENT, float(settings.LOGIN_CLIENT_WINDOW_SECONDS)
        )
    return throttle


def client_key(request: Request) -> str:
    """The client's address for throttling; IPv6 by /64 (one host usually has a whole /64)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


EditorUser = Annotated[User, Depends(require_editor)]
AdminUser = Annotated[User, Depends(require_admin)]
CsrfChecked = Depends(verify_csrf)
