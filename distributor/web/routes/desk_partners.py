"""Partners (administrators only): create, key shown once, rotate, settings, delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from distributor.db.models import Partner
from distributor.domain.partners import NINJS_VERSIONS, FeedFormat
from distributor.i18n import _
from distributor.services.feeds import (
    PartnerError,
    PartnerSettings,
    create_partner,
    list_partners,
    partner_path,
    partner_push_log,
    rotate_partner_key,
    update_partner,
)
from distributor.web.auth import AdminUser, CsrfChecked, DbSession, app_settings
from distributor.web.desk_words import in_desk_language
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


def _settings_from_form(form: dict[str, Any]) -> PartnerSettings:
    """Partner settings from the submitted fields (see ``_partner_fields.html.j2``)."""
    if not form["formats"]:
        raise PartnerError(_("choose at least one feed format the partner may fetch"))
    limit = str(form["rate_limit"]).strip()
    if limit and not limit.isdigit():
        raise PartnerError(
            _("rate limit %(value)s must be a whole number of requests a minute")
            % {"value": repr(limit)}
        )
    return PartnerSettings(
        formats=tuple(form["formats"]),
        sections=_split(form["sections"]),
        tags=_split(form["tags"]),
        languages=_split(form["languages"]),
        territory=str(form["territory"]).strip() or None,
        allow_embargoed=form["allow_embargoed"] == "yes",
        ninjs_version=form["ninjs_version"] or NINJS_VERSIONS[0],
        push_url=str(form["push_url"]).strip() or None,
        attribution=str(form["attribution"]).strip() or None,
        rate_limit_per_minute=int(limit) if limit else None,
    )


def _partner_form(
    *,
    formats: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    sections: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    languages: Annotated[str, Form()] = "",
    territory: Annotated[str, Form()] = "",
    allow_embargoed: Annotated[str, Form()] = "",
    ninjs_version: Annotated[str, Form()] = "",
    push_url: Annotated[str, Form()] = "",
    attribution: Annotated[str, Form()] = "",
    rate_limit: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    """The submitted partner settings fields (see ``_partner_fields.html.j2``), as given."""
    return {
        "formats": formats,
        "sections": sections,
        "tags": tags,
        "languages": languages,
        "territory": territory,
        "allow_embargoed": allow_embargoed,
        "ninjs_version": ninjs_version,
        "push_url": push_url,
        "attribution": attribution,
        "rate_limit": rate_limit,
    }


PartnerForm = Annotated[dict[str, Any], Depends(_partner_form)]


def _feed_urls(request: Request, partner: Partner) -> list[tuple[str, str]]:
    base = app_settings(request).PUBLIC_BASE_URL
    return [(str(value), base + partner_path(FeedFormat(value))) for value in partner.formats]


def _common(request: Request) -> dict[str, Any]:
    return {
        "nav": "partners",
        "all_formats": [str(value) for value in FeedFormat],
        "ninjs_versions": NINJS_VERSIONS,
    }


@router.get("/partners")
@in_desk_language
def partners_page(request: Request, *, db: DbSession, user: AdminUser) -> Response:
    """Every partner with its last fetch, and the form to add one."""
    return render(
        request,
        "desk/partners.html.j2",
        {**_common(request), "partners": list_partners(db), "form": {}},
    )


@router.post("/partners", dependencies=[CsrfChecked])
@in_desk_language
def add_partner(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    fields: PartnerForm,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a partner and show its API key on this response only (it is stored hashed)."""
    form = {"name": name, **fields}
    try:
        created = create_partner(db, name, _settings_from_form(form), datetime.now(UTC))
    except PartnerError as exc:
        return render(
            request,
            "desk/partners.html.j2",
            {
                **_common(request),
                "partners": list_partners(db),
                "form": form,
                "error": _("Partner not created: %(reason)s.") % {"reason": exc},
            },
            status_code=400,
        )
    return render(
        request,
        "desk/partner_key.html.j2",
        {
            **_common(request),
            "partner": created.partner,
            "api_key": created.api_key.key,
            "push_secret": created.push_secret,
            "feed_urls": _feed_urls(request, created.partner),
            "action": "created",
        },
    )


def _partner_or_404(db: DbSession, partner_id: int) -> Partner:
    partner = db.get(Partner, partner_id)
    if partner is None:
        raise HTTPException(
            status_code=404,
            detail=_("There is no partner %(id)s. Open the partner list and pick one.")
            % {"id": partner_id},
        )
    return partner


@router.get("/partners/{partner_id}")
@in_desk_language
def partner_page(request: Request, *, db: DbSession, user: AdminUser, partner_id: int) -> Response:
    """Settings, feed addresses, last fetch and the push delivery log (never the key)."""
    partner = _partner_or_404(db, partner_id)
    return render(
        request,
        "desk/partner.html.j2",
        {
            **_common(request),
            "partner": partner,
            "log": partner_push_log(db, partner.name),
            "feed_urls": _feed_urls(request, partner),
        },
    )


@router.post("/partners/{partner_id}", dependencies=[CsrfChecked])
@in_desk_language
def save_partner(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    partner_id: int,
    fields: PartnerForm,
) -> Response:
    """Change the formats and the selection."""
    partner = _partner_or_404(db, partner_id)
    try:
        update_partner(db, partner.name, _settings_from_form(fields))
    except PartnerError as exc:
        flash(request, _("Not saved: %(reason)s.") % {"reason": exc}, "error")
    else:
        flash(request, _("Partner settings saved; its feeds are rebuilt."))
    return redirect(request, f"/partners/{partner_id}")


@router.post("/partners/{partner_id}/rotate", dependencies=[CsrfChecked])
@in_desk_language
def rotate_key(request: Request, *, db: DbSession, user: AdminUser, partner_id: int) -> Response:
    """Issue a new key (the old one stops working now) and show it on this response only."""
    partner = _partner_or_404(db, partner_id)
    issued = rotate_partner_key(db, partner.name, datetime.now(UTC))
    return render(
        request,
        "desk/partner_key.html.j2",
        {
            **_common(request),
            "partner": partner,
            "api_key": issued.key,
            "push_secret": None,
            "feed_urls": _feed_urls(request, partner),
            "action": "rotated",
        },
    )
