"""``/api/v1/partners`` (administrators): partner outlets, their keys and settings."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from distributor.adapters.safe_http import AddressPolicy, UnsafeURLError, check_url
from distributor.services.feeds import (
    PartnerError,
    PartnerSettings,
    change_partner,
    create_partner,
    find_partner,
    list_partners,
    rotate_partner_key,
)
from distributor.services.feeds.partners import partner_as_dict
from distributor.web.auth import DbSession, app_settings
from distributor.web.routes.api_v1.common import ApiAdmin, answer, refuse

router = APIRouter(prefix="/partners", tags=["partners"])


class PartnerBody(BaseModel):
    formats: list[str] | None = None
    sections: list[str] | None = None
    tags: list[str] | None = None
    languages: list[str] | None = None
    territory: str | None = None
    allow_embargoed: bool | None = None
    ninjs_version: str | None = None
    push_url: str | None = None
    attribution: str | None = None
    rate_limit_per_minute: int | None = None


class NewPartner(PartnerBody):
    name: str


def _values(request: Request, body: PartnerBody) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True, exclude={"name"})
    if given.get("push_url"):
        try:
            given["push_url"] = check_url(
                given["push_url"], AddressPolicy.from_settings(app_settings(request)), "push_url"
            )
        except UnsafeURLError as exc:
            refuse(422, str(exc))
    known = {item.name for item in fields(PartnerSettings)}
    return {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in given.items()
        if name in known
    }


def _find(db: Any, name: str) -> Any:
    try:
        return find_partner(db, name)
    except PartnerError as exc:
        refuse(404, str(exc))


@router.get("")
def partners_index(caller: ApiAdmin, db: DbSession) -> JSONResponse:
    """Every partner (never a key or push secret)."""
    return answer({"partners": [partner_as_dict(item) for item in list_partners(db)]})


@router.post("", status_code=201)
def partner_create(
    request: Request, body: NewPartner, caller: ApiAdmin, db: DbSession
) -> JSONResponse:
    """A partner with a new API key (and push secret), answered once: store them now."""
    try:
        created = create_partner(
            db, body.name, PartnerSettings(**_values(request, body)), datetime.now(UTC)
        )
    except PartnerError as exc:
        refuse(422, str(exc))
    data = partner_as_dict(created.partner)
    data["api_key"] = created.api_key.key
    data["push_secret"] = created.push_secret
    return answer(data, 201)


@router.get("/{name}")
def partner_show(name: str, caller: ApiAdmin, db: DbSession) -> JSONResponse:
    """One partner."""
    return answer(partner_as_dict(_find(db, name)))


@router.patch("/{name}")
def partner_edit(
    request: Request, name: str, body: PartnerBody, caller: ApiAdmin, db: DbSession
) -> JSONResponse:
    """Change the given settings; the others keep their values."""
    _find(db, name)
    try:
        partner = change_partner(db, name, _values(request, body))
    except PartnerError as exc:
        refuse(422, str(exc))
    return answer(partner_as_dict(partner))


@router.post("/{name}/rotate-key")
def partner_rotate(name: str, caller: ApiAdmin, db: DbSession) -> JSONResponse:
    """A new API key, answered once; the old one stops working at once."""
    _find(db, name)
    issued = rotate_partner_key(db, name, datetime.now(UTC))
    return answer({"name": name, "api_key": issued.key, "api_key_prefix": issued.prefix})
