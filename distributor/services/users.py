"""Editor desk accounts: creation, sign-in with lock-out, sign-out everywhere.

Passwords are hashed with argon2id (argon2-cffi defaults). After
:data:`FAILURES_BEFORE_LOCK` wrong passwords in a row an account is locked for
:data:`FIRST_LOCK`, and every further failure doubles the lock (capped at :data:`MAX_LOCK`),
so guessing stays slow without locking people out for days after a few typos.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db.models import User, utcnow

ROLES = ("editor", "admin")
Role = Literal["editor", "admin"]
MIN_PASSWORD_LENGTH = 10
FAILURES_BEFORE_LOCK = 5
FIRST_LOCK = timedelta(minutes=15)
MAX_LOCK = timedelta(hours=24)

DEMO_EMAIL = "editor@demo.example"
DEMO_PASSWORD = "demo-editor-pass"  # noqa: S105 - documented demo credential, embedded mode only
DEMO_NAME = "Demo Editor"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("no such user: timing equaliser")


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says what to do."""


@dataclass(frozen=True)
class SignInResult:
    """The outcome of :func:`authenticate`: a user, or a message for the person."""

    user: User | None
    error: str | None = None
    locked_until: datetime | None = None


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased email (sign-in is case-insensitive)."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """Raise :class:`UserError` if ``password`` is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few unrelated words work well)"
        )
    if password.strip() != password:
        raise UserError("the password starts or ends with a space; remove it and try again")


def find_user(session: Session, email: str) -> User | None:
    """The user with ``email`` (case-insensitive), if any."""
    return session.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()


def create_user(
    session: Session, email: str, password: str, *, name: str = "", role: str = "editor"
) -> User:
    """Create a desk account. Raises :class:`UserError` for a bad email, role or password."""
    address = normalise_email(email)
    if "@" not in address or " " in address or address.startswith("@") or address.endswith("@"):
        raise UserError(f"{email!r} is not an email address; give one like editor@example.org")
    if role not in ROLES:
        raise UserError(f"role {role!r} is unknown; choose one of: {', '.join(ROLES)}")
    check_password_strength(password)
    if find_user(session, address) is not None:
        raise UserError(f"a user with the email {address} already exists")
    user = User(
        email=address,
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        session_nonce=secrets.token_hex(16),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every account, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def lock_duration(failures: int) -> timedelta:
    """How long an account stays locked after ``failures`` consecutive failures (0 = none)."""
    if failures < FAILURES_BEFORE_LOCK:
        return timedelta(0)
    lock: timedelta = FIRST_LOCK * (2 ** min(failures - FAILURES_BEFORE_LOCK, 16))
    return min(lock, MAX_LOCK)


def authenticate(
    session: Session, email: str, password: str, *, now: datetime | None = None
) -> SignInResult:
    """Check ``email``/``password``; count failures, lock after repeated ones.

    The error never says whether the email exists. A locked account is refused even with
    the right password until the lock ends.
    """
    now = now or utcnow()
    wrong = "The email or password is wrong. Check both and try again."
    user = find_user(session, email)
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return SignInResult(None, wrong)
    if user.locked_until is not None and user.locked_until > now:
        return SignInResult(None, _locked_message(user.locked_until), user.locked_until)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        lock = lock_duration(user.failed_logins)
        if lock:
            user.locked_until = now + lock
            session.flush()
            return SignInResult(None, _locked_message(user.locked_until), user.locked_until)
        session.flush()
        left = FAILURES_BEFORE_LOCK - user.failed_logins
        return SignInResult(
            None,
            f"{wrong} ({left} attempt{'s' if left != 1 else ''} left "
            "before the account is locked for a while.)",
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if not user.session_nonce:
        user.session_nonce = secrets.token_hex(16)
    session.flush()
    return SignInResult(user)


def _locked_message(until: datetime) -> str:
    return (
        "Too many wrong passwords: this account is locked until "
        f"{until:%H:%M} UTC. Wait until then, or ask an administrator to unlock it."
    )


def unlock_user(session: Session, user: User) -> None:
    """Clear failures and any lock (an administrator's action)."""
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every session of ``user``."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)


def end_all_sessions(session: Session, user: User) -> None:
    """Invalidate every session cookie issued to ``user`` (sign-out)."""
    user.session_nonce = secrets.token_hex(16)
    session.flush()


def ensure_demo_user(session: Session, settings: Settings) -> User | None:
    """Create the documented demo editor in embedded mode; do nothing otherwise.

    Idempotent: an existing demo account is left as it is.
    """
    if not settings.embedded:
        return None
    existing = find_user(session, DEMO_EMAIL)
    if existing is not None:
        return existing
    return create_user(session, DEMO_EMAIL, DEMO_PASSWORD, name=DEMO_NAME, role="admin")
