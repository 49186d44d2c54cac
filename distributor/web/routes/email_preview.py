"""Email previews for editors (desktop, phone, plain text, size) and the public web archive."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from distributor.config import Settings
from distributor.rendering.email import BrandingError, EmailRenderError
from distributor.services.rendering import (
    IssueNotFoundError,
    IssuePreview,
    archive_page,
    preview_issue,
)
from distributor.web.auth import DbSession, EditorUser

router = APIRouter(tags=["email preview"])

# Previews are framed by the desk (same origin only) and never run scripts.
_PREVIEW_HEADERS = {
    "Content-Security-Policy": "script-src 'none'; object-src 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_ARCHIVE_HEADERS = {
    "Content-Security-Policy": "script-src 'none'; object-src 'none'",
    "Cache-Control": "public, max-age=300",
    "Referrer-Policy": "no-referrer",
}
MOBILE_PREVIEW_WIDTH = 375


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _preview(request: Request, db: DbSession, issue_id: int) -> IssuePreview:
    try:
        return preview_issue(db, _settings(request), issue_id)
    except IssueNotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (EmailRenderError, BrandingError) as exc:
        raise HTTPException(
            status_code=422, detail=f"issue {issue_id} cannot be rendered: {exc}"
        ) from exc


@router.get("/issues/{issue_id}/preview/desktop", response_class=HTMLResponse)
def preview_desktop(
    request: Request, issue_id: int, db: DbSession, _user: EditorUser
) -> HTMLResponse:
    """The issue's HTML as a sample subscriber gets it."""
    return HTMLResponse(_preview(request, db, issue_id).html, headers=_PREVIEW_HEADERS)


@router.get("/issues/{issue_id}/preview/mobile", response_class=HTMLResponse)
def preview_mobile(
    request: Request, issue_id: int, db: DbSession, _user: EditorUser
) -> HTMLResponse:
    """A page showing the desktop preview inside a phone-width (375 px) frame."""
    preview = _preview(request, db, issue_id)
    warning = (
        f'<p role="alert" style="color:#8a1c1c;margin:0 0 8px">{escape(preview.warning)}</p>'
        if preview.warning
        else ""
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Phone preview of issue {issue_id}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:12px;background:#e9e6e1;font:14px system-ui,sans-serif">'
        f"{warning}"
        f'<iframe src="/issues/{issue_id}/preview/desktop" title="Issue {issue_id} at '
        f'{MOBILE_PREVIEW_WIDTH} pixels wide" width="{MOBILE_PREVIEW_WIDTH}" height="760" '
        f'style="display:block;margin:0 auto;width:{MOBILE_PREVIEW_WIDTH}px;height:760px;'
        'border:1px solid #b8b2a8;border-radius:12px;background:#fff"></iframe>'
        "</body></html>"
    )
    return HTMLResponse(page, headers=_PREVIEW_HEADERS)


@router.get("/issues/{issue_id}/preview/text", response_class=PlainTextResponse)
def preview_text(
    request: Request, issue_id: int, db: DbSession, _user: EditorUser
) -> PlainTextResponse:
    """The plain-text part as a sample subscriber gets it."""
    return PlainTextResponse(_preview(request, db, issue_id).text, headers=_PREVIEW_HEADERS)


@router.get("/issues/{issue_id}/preview/size")
def preview_size(request: Request, issue_id: int, db: DbSession, _user: EditorUser) -> JSONResponse:
    """The HTML size against the budget, with the warning to show when it is over."""
    preview = _preview(request, db, issue_id)
    return JSONResponse(
        {
            "issue_id": issue_id,
            "html_bytes": preview.rendered.html_bytes,
            "text_bytes": len(preview.rendered.text.encode("utf-8")),
            "budget": preview.budget_bytes,
            "over_budget": preview.rendered.over_budget,
            "warning": preview.warning,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/archive/{web_token}", response_class=HTMLResponse)
def web_archive(request: Request, web_token: str, db: DbSession) -> HTMLResponse:
    """The public web copy of a sent issue ("view in browser"); no personal links."""
    try:
        page = archive_page(db, _settings(request), web_token)
    except IssueNotFoundError as exc:
        raise HTTPException(
            status_code=404, detail="There is no published issue at this address."
        ) from exc
    return HTMLResponse(page, headers=_ARCHIVE_HEADERS)
