"""Managing partners: their settings (validated), keys, push log, and an on-demand render."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distributor.config import Settings
from distributor.db import models
from distributor.domain.languages import LanguageTagError, normalise_language_tag
from distributor.domain.partners import (
    NINJS_VERSIONS,
    FeedFormat,
    IssuedApiKey,
    generate_api_key,
    generate_push_secret,
    parse_feed_format,
)
from distributor.services import audit
from distributor.services.feeds.audiences import partner_audience, public_audience
from distributor.services.feeds.changes import partner_changed
from distributor.services.feeds.documents import BuiltDocument, build_documents, load_articles


class PartnerError(ValueError):
    """A partner request that cannot be carried out; the message says what to change."""


_TERRITORY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class PartnerSettings:
    """The editable settings of a partner (validated by :func:`validate_partner_settings`)."""

    formats: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    territory: str | None = None
    allow_embargoed: bool = False
    ninjs_version: str = "3.1"
    push_url: str | None = None
    attribution: str | None = None
    rate_limit_per_minute: int | None = None


def validate_partner_settings(values: PartnerSettings) -> PartnerSettings:
    """Normalised settings, or :class:`PartnerError` naming every problem."""
    problems: list[str] = []
    formats: list[str] = []
    for value in values.formats:
        try:
            formats.append(parse_feed_format(value).value)
        except ValueError as exc:
            problems.append(f"--format: {exc}")
    territory = values.territory.strip().upper() if values.territory else None
    if territory is not None and not _TERRITORY.match(territory):
        problems.append(
            f"--territory: {values.territory!r} is not a two-letter ISO 3166 code like GB"
        )
    languages: list[str] = []
    for language in values.languages:
        try:
            languages.append(normalise_language_tag(language))
        except LanguageTagError as error:
            problems.append(f"--language: {error}")
    if values.ninjs_version not in NINJS_VERSIONS:
        problems.append(
            f"--ninjs-version: {values.ninjs_version!r}; use one of {', '.join(NINJS_VERSIONS)}"
        )
    if values.push_url and not values.push_url.startswith(("https://", "http://")):
        problems.append(f"--push-url: {values.push_url!r} must be an http(s) URL")
    if values.rate_limit_per_minute is not None and values.rate_limit_per_minute < 1:
        problems.append("--rate-limit: must be at least 1 request per minute")
    if problems:
        raise PartnerError("; ".join(problems))
    return PartnerSettings(
        formats=tuple(dict.fromkeys(formats)),
        sections=tuple(dict.fromkeys(value.strip() for value in values.sections if value.strip())),
        tags=tuple(dict.fromkeys(value.strip() for value in values.tags if value.strip())),
        languages=tuple(dict.fromkeys(languages)),
        territory=territory,
        allow_embargoed=values.allow_embargoed,
        ninjs_version=values.ninjs_version,
        push_url=values.push_url or None,
        attribution=values.attribution or None,
        rate_limit_per_minute=values.rate_limit_per_minute,
    )


@dataclass(frozen=True, slots=True)
class CreatedPartner:
    """A new partner with its secrets, which are shown once and never again."""

    partner: models.Partner
    api_key: IssuedApiKey
    push_secret: str | None


def find_partner(session: Session, name: str) -> models.Partner:
    """The partner called ``name``, or :class:`PartnerError`."""
    partner = session.scalar(select(models.Partner).where(models.Partner.name == name))
    if partner is None:
        raise PartnerError(f"no partner named {name!r}; see `distributor partners list`")
    return partner


def _apply(partner: models.Partner, values: PartnerSettings) -> None:
    partner.formats = list(values.formats)
    partner.sections = list(values.sections)
    partner.tags = list(values.tags)
    partner.languages = list(values.languages)
    partner.territory = values.territory
    partner.allow_embargoed = values.allow_embargoed
    partner.ninjs_version = values.ninjs_version
    partner.push_url = values.push_url
    partner.attribution = values.attribution
    partner.rate_limit_per_minute = values.rate_limit_per_minute


def create_partner(
    session: Session, name: str, values: PartnerSettings, now: datetime
) -> CreatedPartner:
    """Create a partner with a fresh API key (and push secret when it has a push URL)."""
    name = name.strip()
    if not name:
        raise PartnerError("a partner needs a name")
    if session.scalar(select(models.Partner.id).where(models.Partner.name == name)) is not None:
        raise PartnerError(f"a partner named {name!r} already exists; use rotate-key or update")
    values = validate_partner_settings(values)
    issued = generate_api_key()
    partner = models.Partner(
        name=name,
        api_key_hash=issued.digest,
        api_key_prefix=issued.prefix,
        key_rotated_at=now,
        active=True,
    )
    _apply(partner, values)
    push_secret = generate_push_secret() if values.push_url else None
    partner.push_secret = push_secret
    session.add(partner)
    session.flush()
    partner_changed(session, partner.id)
    audit.record(
        session,
        "partner.create",
        "partner",
        name,
        changes=audit.diff({}, audit.snapshot(partner, AUDITED_PARTNER_FIELDS)),
    )
    return CreatedPartner(partner, issued, push_secret)


AUDITED_PARTNER_FIELDS = (
    "formats",
    "sections",
    "tags",
    "languages",
    "territory",
    "allow_embargoed",
    "ninjs_version",
    "push_url",
    "attribution",
    "rate_limit_per_minute",
    "active",
)


def partner_settings(partner: models.Partner) -> PartnerSettings:
    """A partner's current settings, as :func:`update_partner` takes them."""
    return PartnerSettings(
        formats=tuple(partner.formats or ()),
        sections=tuple(partner.sections or ()),
        tags=tuple(partner.tags or ()),
        languages=tuple(partner.languages or ()),
        territory=partner.territory,
        allow_embargoed=bool(partner.allow_embargoed),
        ninjs_version=partner.ninjs_version or NINJS_VERSIONS[0],
        push_url=partner.push_url,
        attribution=partner.attribution,
        rate_limit_per_minute=partner.rate_limit_per_minute,
    )


def update_partner(session: Session, name: str, values: PartnerSettings) -> models.Partner:
    """Replace a partner's settings; a push secret is created when a push URL first appears."""
    return _update(session, find_partner(session, name), values)


def change_partner(session: Session, name: str, changes: dict[str, Any]) -> models.Partner:
    """Change the settings named in ``changes`` (fields of :class:`PartnerSettings`); the
    others keep their values."""
    partner = find_partner(session, name)
    return _update(session, partner, replace(partner_settings(partner), **changes))


def _update(session: Session, partner: models.Partner, values: PartnerSettings) -> models.Partner:
    values = validate_partner_settings(values)
    before = audit.snapshot(partner, AUDITED_PARTNER_FIELDS)
    _apply(partner, values)
    if values.push_url and not partner.push_secret:
        partner.push_secret = generate_push_secret()
    session.flush()
    partner_changed(session, partner.id)
    changes = audit.diff(before, audit.snapshot(partner, AUDITED_PARTNER_FIELDS))
    if changes:
        audit.record(session, "partner.update", "partner", partner.name, changes=changes)
    return partner


def rotate_partner_key(session: Session, name: str, now: datetime) -> IssuedApiKey:
    """Issue a new API key; the old one stops working at once."""
    partner = find_partner(session, name)
    issued = generate_api_key()
    partner.api_key_hash = issued.digest
    partner.api_key_prefix = issued.prefix
    partner.key_rotated_at = now
    session.flush()
    audit.record(
        session,
        "partner.rotate_key",
        "partner",
        partner.name,
        summary=f"new key {issued.prefix}…; the old key stopped working",
    )
    return issued


def partner_as_dict(partner: models.Partner) -> dict[str, Any]:
    """A partner's settings and state as JSON values (never its key or push secret)."""
    return {
        "id": partner.id,
        "name": partner.name,
        "active": partner.active,
        "api_key_prefix": partner.api_key_prefix,
        "key_rotated_at": partner.key_rotated_at.isoformat() if partner.key_rotated_at else None,
        "formats": list(partner.formats or []) or [feed_format.value for feed_format in FeedFormat],
        "sections": list(partner.sections or []),
        "tags": list(partner.tags or []),
        "languages": list(partner.languages or []),
        "territory": partner.territory,
        "allow_embargoed": partner.allow_embargoed,
        "ninjs_version": partner.ninjs_version,
        "attribution": partner.attribution,
        "push_url": partner.push_url,
        "rate_limit_per_minute": partner.rate_limit_per_minute,
        "last_fetch_at": partner.last_fetch_at.isoformat() if partner.last_fetch_at else None,
        "fetch_count": partner.fetch_count,
    }


def list_partners(session: Session) -> list[models.Partner]:
    """Every partner, by name."""
    return list(session.scalars(select(models.Partner).order_by(models.Partner.name)))


def partner_push_log(session: Session, name: str, limit: int = 50) -> list[models.PartnerPush]:
    """A partner's most recent pushes, newest first."""
    partner = find_partner(session, name)
    return list(
        session.scalars(
            select(models.PartnerPush)
            .where(models.PartnerPush.partner_id == partner.id)
            .order_by(models.PartnerPush.created_at.desc(), models.PartnerPush.id.desc())
            .limit(limit)
        )
    )


def render_for(
    session: Session,
    settings: Settings,
    feed_format: FeedFormat,
    partner_name: str | None,
    now: datetime,
) -> BuiltDocument:
    """The current document for the public or a partner, rendered now (for the CLI)."""
    if partner_name is None:
        audience = public_audience(settings)
    else:
        audience = partner_audience(settings, find_partner(session, partner_name))
        if feed_format not in audience.formats:
            enabled = ", ".join(value.value for value in audience.formats)
            raise PartnerError(
                f"{feed_format.value} is not enabled for {partner_name}; enabled: {enabled}"
            )
    documents = build_documents(settings, audience, load_articles(session), now, [feed_format])
    return documents[0]
