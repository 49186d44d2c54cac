"""Personal API tokens for ``/api/v1``: created and revoked by their user (desk or CLI), each
acting as that user with that user's role."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distributor.clock import SYSTEM_CLOCK
from distributor.db.models import ApiToken, User
from distributor.services import audit

TOKEN_PREFIX = "dtok_"  # noqa: S105 - a marker, not a credential
# Last-used times are written at most this often per token (a busy script writes no row per call).
LAST_USED_RESOLUTION_SECONDS = 60


class TokenError(Exception):
    """A token cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> IssuedToken:
    """A new token for ``user``; the returned ``secret`` is never shown again."""
    name = name.strip()[:100]
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        digest=digest_of(secret),
        prefix=secret[:12],
        created_at=SYSTEM_CLOCK.now(),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "token.create",
        "user",
        user.email,
        summary=f"API token {token.prefix}… {name}".strip(),
    )
    return IssuedToken(token, secret)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(
    session: Session, user: User, token_id: int, *, any_user: bool = False
) -> ApiToken:
    """Revoke a token of ``user`` (an administrator may revoke anyone's with ``any_user``)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not any_user):
        raise TokenError(f"there is no token {token_id} of yours")
    if token.revoked_at is None:
        token.revoked_at = SYSTEM_CLOCK.now()
        session.flush()
        audit.record(
            session, "token.revoke", "user", user.email, summary=f"API token {token.prefix}…"
        )
    return token


def user_for_token(
    session: Session, secret: str, now: datetime | None = None
) -> tuple[User, ApiToken] | None:
    """The user a presented token acts as, or None (unknown, revoked, or a disabled user)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest_of(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.password_hash.startswith("$"):
        return None  # a disabled account's tokens stop working with it
    moment = now or SYSTEM_CLOCK.now()
    last = token.last_used_at
    if last is None or (moment - last).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=moment)
            .execution_options(synchronize_session=False)
        )
    return user, token
