"""Editor desk accounts: creation, sign-in with lock-out, sign-out everywhere.

Passwords are hashed with argon2id (argon2-cffi defaults). After
:data:`FAILURES_BEFORE_LOCK` wrong passwords in a row an account is locked for
:data:`FIRST_LOCK`, and every further failure doubles the lock (capped at :data:`MAX_LOCK`),
so guessing stays slow without locking people out for days after a few typos.

Each attempt is counted *before* its password is checked, by one conditional UPDATE that
increments the count only while the account is not locked, sets the lock when the count
reaches the limit, and returns the count; it is committed before the check.
So parallel attempts cannot share a count: at most :data:`FAILURES_BEFORE_LOCK` passwords
are checked before the lock, then one per lock period. A success resets the count.

The answer never says whether the account exists or is locked: one message, and an unknown
or locked account costs a password hash like a real check.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.config import Settings
from distributor.db.models import User, UTCDateTime
from distributor.domain.addresses import email_problem, normalise_email
from distributor.services import audit

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
# Verified against when the email is unknown or locked, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("no such user: timing equaliser")
# Not an argon2 hash: no password verifies against it (a disabled account).
_DISABLED_PASSWORD = "!disabled"  # noqa: S105 - a marker, not a credential
# The one answer to every failed sign-in: wrong email, wrong password or a locked account.
SIGN_IN_FAILED = (
    "The email or password is wrong. Check both and try again. After several wrong passwords"
    " an account is locked for a while; an administrator can unlock it."
)


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says what to do."""


@dataclass(frozen=True)
class SignInResult:
    """The outcome of :func:`authenticate`: a user, or a message for the person."""

    user: User | None
    error: str | None = None
    locked_until: datetime | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and check passwords with ``hasher`` in this process from now on. The test suite
    uses argon2id with small costs (each default hash takes about a tenth of a second);
    everything else keeps argon2-cffi's defaults. Hashes made with other costs still verify:
    the costs are stored in each hash, and a sign-in rehashes with the current ones."""
    global _hasher, _DUMMY_HASH  # noqa: PLW0603 - one hasher per process, like the address key
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("no such user: timing equaliser")


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
    problem = email_problem(email, single_label_domain=True)
    if problem is not None:
        raise UserError(
            f"{email!r} is not an email address ({problem}); give one like editor@example.org"
        )
    address = normalise_email(email)
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
    audit.record(
        session,
        "user.create",
        "user",
        address,
        changes={"role": [None, role], "name": [None, user.name]},
    )
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

    Commits the attempt count before the password is checked (see the module docstring), so
    call it with a session that holds no other pending work. Every failure gets the same
    message (:data:`SIGN_IN_FAILED`) and about the same time. A locked account is refused
    even with the right password until the lock ends; ``locked_until`` on the result is for
    the caller's records, never for the person signing in.
    """
    now = now or SYSTEM_CLOCK.now()
    user = find_user(session, email)
    if user is None:
        _check_dummy(password)
        return SignInResult(None, SIGN_IN_FAILED)
    user_id, known_lock = user.id, user.locked_until
    failures = _count_attempt(session, user_id, now)
    if failures is None:
        _check_dummy(password)
        return SignInResult(None, SIGN_IN_FAILED, known_lock)
    # The count and lock just written by SQL, not the values loaded before.
    session.refresh(user)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return SignInResult(None, SIGN_IN_FAILED, user.locked_until)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if not user.session_nonce:
        user.session_nonce = secrets.token_hex(16)
    session.flush()
    return SignInResult(user)


def _check_dummy(password: str) -> None:
    """Spend the time of a real password check (unknown or locked account)."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def _count_attempt(session: Session, user_id: int, now: datetime) -> int | None:
    """Count one attempt unless the account is locked; the new count, or None when locked.

    One conditional UPDATE … RETURNING increments the count and, when it reaches the limit,
    sets the lock in the same statement. On PostgreSQL a parallel attempt waits for the row
    and then sees the lock; SQLite runs one writer at a time. Committed at once, so no lock
    is held while the password is checked.
    """
    attempts = User.failed_logins + 1
    lock_steps: list[tuple[Any, Any]] = [(attempts < FAILURES_BEFORE_LOCK, User.locked_until)]
    count = FAILURES_BEFORE_LOCK
    while lock_duration(count) < MAX_LOCK:
        lock_steps.append((attempts == count, literal(now + lock_duration(count), UTCDateTime())))
        count += 1
    failures = session.execute(
        update(User)
        .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_logins=attempts,
            locked_until=case(*lock_steps, else_=literal(now + MAX_LOCK, UTCDateTime())),
        )
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.commit()
    return failures


def unlock_user(session: Session, user: User) -> None:
    """Clear failures and any lock (an administrator's action)."""
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(session, "user.unlock", "user", user.email)


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every session of ``user``."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)
    audit.record(
        session, "user.set_password", "user", user.email, summary="every session was ended"
    )


def set_language(session: Session, user: User, language: str | None) -> str | None:
    """Set the language ``user`` reads the desk and its emails in; None (or "") follows the
    browser's ``Accept-Language``. Raises :class:`UserError` for a language not shipped.

    Returns the stored tag (a shipped tag, ``es-MX`` stored as ``es``)."""
    from distributor.i18n import SHIPPED_LANGUAGES, is_shipped, shipped_language

    wanted = (language or "").strip()
    if not wanted or wanted.lower() in ("none", "browser", "auto"):
        chosen: str | None = None
    elif is_shipped(wanted):
        chosen = shipped_language(wanted)
    else:
        raise UserError(
            f"the desk is not translated into {wanted!r}; choose one of: "
            f"{', '.join(SHIPPED_LANGUAGES)}, or none for the browser's language"
        )
    before = user.language
    if before == chosen:
        return chosen
    user.language = chosen
    session.flush()
    audit.record(
        session, "user.set_language", "user", user.email, changes={"language": [before, chosen]}
    )
    return chosen


def end_all_sessions(session: Session, user: User) -> None:
    """Invalidate every session cookie issued to ``user`` (sign-out)."""
    user.session_nonce = secrets.token_hex(16)
    session.flush()


def demo_mode_on(settings: Settings) -> bool:
    """Demo mode: ``DEMO_MODE`` (``serve --demo`` sets it) in embedded mode only."""
    return settings.DEMO_MODE and settings.embedded


def ensure_demo_user(session: Session, settings: Settings) -> User | None:
    """While demo mode is on, the documented demo *editor*; do nothing otherwise.

    Idempotent. An existing demo account is made an editor again and signs in with the
    documented password again (it was disabled when the service last ran without demo mode).
    """
    if not demo_mode_on(settings):
        return None
    existing = find_user(session, DEMO_EMAIL)
    if existing is None:
        return create_user(session, DEMO_EMAIL, DEMO_PASSWORD, name=DEMO_NAME, role="editor")
    existing.role = "editor"
    try:
        _hasher.verify(existing.password_hash, DEMO_PASSWORD)
    except (VerificationError, InvalidHashError):
        existing.password_hash = hash_password(DEMO_PASSWORD)
    session.flush()
    return existing


def disable_demo_user(session: Session) -> bool:
    """Demo mode is off: the demo account cannot sign in and its sessions end; True if changed.

    Its password is published, so it must not outlive demo mode. It is disabled (no password
    matches) rather than deleted, so what it did stays attributed; demo mode enables it again.
    """
    user = find_user(session, DEMO_EMAIL)
    if user is None or (user.password_hash == _DISABLED_PASSWORD and user.role == "editor"):
        return False
    user.password_hash = _DISABLED_PASSWORD
    user.role = "editor"
    end_all_sessions(session, user)
    return True
