"""Subscribers, lists, CSV import and the suppression list."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup, escape

from distributor.db.models import MailingList, Subscriber
from distributor.domain.addresses import canonical_email
from distributor.domain.subscribers import ListVisibility, OptIn, SuppressionReason
from distributor.i18n import _, shipped_language, text_direction, use_language
from distributor.services import desk_queries
from distributor.services.subscriber_edits import correct_subscriber, reader_states
from distributor.services.subscriber_import import import_subscribers
from distributor.services.subscribers import (
    SubscriberError,
    add_subscriber,
    archive_list,
    create_list,
    erase_subscriber,
    list_summaries,
    subscriber_details,
    unarchive_list,
    unsubscribe_member,
    update_list,
)
from distributor.services.suppression import suppress, unsuppress
from distributor.services.welcome import WelcomeError, checked_markdown, set_welcome, welcome_html
from distributor.web.auth import AdminUser, CsrfChecked, DbSession, EditorUser, app_settings
from distributor.web.desk_words import in_desk_language
from distributor.web.templating import DeskRoute, flash, redirect, render

router = APIRouter(route_class=DeskRoute)


# ---------------------------------------------------------------------------- subscribers
@router.get("/subscribers")
@in_desk_language
def subscribers_page(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    q: str = "",
    status: str = "",
    list_id: str = "",
    page: int = 1,
) -> Response:
    """Search subscribers by address or name, status and list; a form to add a reader."""
    return _subscribers_page(request, db, q=q, status=status, list_id=list_id, page=page)


def _subscribers_page(
    request: Request,
    db: DbSession,
    *,
    q: str = "",
    status: str = "",
    list_id: str = "",
    page: int = 1,
    new_reader: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    chosen_list = int(list_id) if list_id.isdigit() else None
    rows, total = desk_queries.search_subscribers(db, q, status, chosen_list, page)
    return render(
        request,
        "desk/subscribers.html.j2",
        {
            "nav": "subscribers",
            "subscribers": rows,
            "states": reader_states(db, rows),
            "total": total,
            "raw": {"q": q, "status": status, "list_id": list_id},
            "lists": desk_queries.list_mailing_lists(db),
            "page": max(1, page),
            "page_size": desk_queries.PAGE_SIZE,
            "new_reader": new_reader or {},
        },
        status_code=status_code,
    )


@router.post("/subscribers", dependencies=[CsrfChecked])
@in_desk_language
def add_reader(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    list_id: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> Response:
    """Add a reader to a list, confirmed: the editor records that the reader agreed (the desk
    sends no confirmation email, so a reader without recorded consent is not added)."""
    typed = {
        "email": email,
        "name": name,
        "language": language,
        "list_id": list_id,
        "consent": bool(consent),
    }
    mailing_list = db.get(MailingList, int(list_id)) if list_id.isdigit() else None
    try:
        if mailing_list is None:
            raise SubscriberError(_("choose the list to add the reader to"))
        if not consent:
            raise SubscriberError(
                _(
                    "tick “The reader agreed to receive this list”: readers are added only "
                    "with their consent"
                )
            )
        membership = add_subscriber(
            db,
            email,
            mailing_list.name,
            name=name or None,
            language=language or None,
            confirmed=True,
        )
    except SubscriberError as exc:
        flash(request, _("Not added: %(reason)s.") % {"reason": exc}, "error", near="add-reader")
        return _subscribers_page(request, db, new_reader=typed, status_code=400)
    flash(
        request,
        _("Added to %(list)s, confirmed.") % {"list": mailing_list.title or mailing_list.name},
    )
    return redirect(request, f"/subscribers/{membership.subscriber_id}")


@router.get("/subscribers/import")
@in_desk_language
def import_page(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """The CSV import form."""
    return render(
        request,
        "desk/import.html.j2",
        {
            "nav": "subscribers",
            "lists": desk_queries.list_mailing_lists(db),
            "report": None,
        },
    )


@router.post("/subscribers/import", dependencies=[CsrfChecked])
@in_desk_language
def import_submit(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    file: Annotated[UploadFile | None, File()] = None,
    list_name: Annotated[str, Form()] = "",
) -> Response:
    """Import a CSV file and show its report (rows added, rows refused with reasons)."""
    lists = desk_queries.list_mailing_lists(db)
    context: dict[str, Any] = {"nav": "subscribers", "lists": lists, "report": None}
    problem = None
    data = b""
    if file is None or not file.filename:
        problem = _("Choose a CSV file to import (a header row with at least an email column).")
    elif not list_name:
        problem = _("Choose the list to import into.")
    else:
        limit = app_settings(request).IMPORT_MAX_BYTES
        data = file.file.read(limit + 1)
        if len(data) > limit:
            problem = _(
                "The file is larger than %(size)s MB (IMPORT_MAX_BYTES); split it, or use "
                "`distributor subscribers import`."
            ) % {"size": f"{limit / (1024 * 1024):g}"}
        elif not data.strip():
            problem = _("The file is empty; export the list again and retry.")
    if problem:
        context["error"] = problem
        return render(request, "desk/import.html.j2", context, status_code=400)
    stream = io.BytesIO(data)
    stream.name = file.filename if file is not None else "upload.csv"
    try:
        report = import_subscribers(db, stream, list_name)
    except SubscriberError as exc:
        context["error"] = _("Nothing was imported: %(reason)s.") % {"reason": exc}
        return render(request, "desk/import.html.j2", context, status_code=400)
    context["report"] = report
    return render(request, "desk/import.html.j2", context)


def _subscriber_or_404(db: DbSession, subscriber_id: int) -> Subscriber:
    subscriber = db.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise HTTPException(
            status_code=404,
            detail=_("There is no subscriber %(id)s. Search the subscriber list instead.")
            % {"id": subscriber_id},
        )
    return subscriber


@router.get("/subscribers/{subscriber_id}")
@in_desk_language
def subscriber_page(
    request: Request, *, db: DbSession, user: EditorUser, subscriber_id: int
) -> Response:
    """One reader: lists, status, history of what they received, suppression."""
    return _subscriber_view(request, db, _subscriber_or_404(db, subscriber_id))


def _subscriber_view(
    request: Request,
    db: DbSession,
    subscriber: Subscriber,
    *,
    correction: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    details = subscriber_details(db, subscriber.email) if subscriber.email else None
    return render(
        request,
        "desk/subscriber.html.j2",
        {
            "nav": "subscribers",
            "subscriber": subscriber,
            "state": reader_states(db, [subscriber])[subscriber.id],
            "details": details,
            "memberships": desk_queries.subscriber_memberships(db, subscriber.id),
            "history": desk_queries.subscriber_history(db, subscriber.id),
            "lists": desk_queries.list_mailing_lists(db),
            "correction": correction
            or {
                "email": subscriber.email or "",
                "name": subscriber.name or "",
                "language": subscriber.language or "",
            },
        },
        status_code=status_code,
    )


@router.post("/subscribers/{subscriber_id}/details", dependencies=[CsrfChecked])
@in_desk_language
def correct_details(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    subscriber_id: int,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
) -> Response:
    """Correct the reader's address, name and language."""
    subscriber = _subscriber_or_404(db, subscriber_id)
    try:
        changed = correct_subscriber(db, subscriber_id, email=email, name=name, language=language)
    except SubscriberError as exc:
        flash(request, _("Not saved: %(reason)s.") % {"reason": exc}, "error", near="details")
        typed = {"email": email, "name": name, "language": language}
        return _subscriber_view(request, db, subscriber, correction=typed, status_code=400)
    message = (
        _("Saved: %(fields)s corrected.") % {"fields": ", ".join(_field_word(f) for f in changed)}
        if changed
        else _("Nothing changed.")
    )
    flash(request, message, near="details")
    return redirect(request, f"/subscribers/{subscriber_id}#details")


def _field_word(field: str) -> str:
    """A field :func:`correct_subscriber` names, in the desk's words."""
    words = {"address": _("address"), "name": _("name"), "language": _("language")}
    return words.get(field, field)


@router.post("/subscribers/{subscriber_id}/unsubscribe", dependencies=[CsrfChecked])
@in_desk_language
def unsubscribe(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    subscriber_id: int,
    list_id: Annotated[int, Form()],
) -> Response:
    """Take the reader off one list, now."""
    _subscriber_or_404(db, subscriber_id)
    title = unsubscribe_member(db, subscriber_id, list_id)
    flash(
        request,
        _("Unsubscribed from %(list)s.") % {"list": title}
        if title
        else _("Unsubscribed from the list."),
    )
    return redirect(request, f"/subscribers/{subscriber_id}")


@router.post("/subscribers/{subscriber_id}/add", dependencies=[CsrfChecked])
@in_desk_language
def add_to_list(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    subscriber_id: int,
    list_id: Annotated[int, Form()],
) -> Response:
    """Add the reader to a list (unconfirmed: they get a confirmation if the list asks)."""
    subscriber = _subscriber_or_404(db, subscriber_id)
    mailing_list = db.get(MailingList, list_id)
    if subscriber.email is None or mailing_list is None:
        flash(
            request,
            _("This reader cannot be added: the address was erased or the list is gone."),
            "error",
        )
        return redirect(request, f"/subscribers/{subscriber_id}")
    try:
        add_subscriber(db, subscriber.email, mailing_list.name)
    except SubscriberError as exc:
        flash(request, _("Not added: %(reason)s.") % {"reason": exc}, "error")
    else:
        flash(
            request,
            _("Added to %(list)s (unconfirmed until the reader confirms).")
            % {"list": mailing_list.title or mailing_list.name},
        )
    return redirect(request, f"/subscribers/{subscriber_id}")


@router.post("/subscribers/{subscriber_id}/erase", dependencies=[CsrfChecked])
@in_desk_language
def erase(
    request: Request,
    *,
    db: DbSession,
    user: AdminUser,
    subscriber_id: int,
    confirm_email: Annotated[str, Form()] = "",
) -> Response:
    """Erase the reader's personal data on request (admins; the address must be typed)."""
    subscriber = _subscriber_or_404(db, subscriber_id)
    if subscriber.email is None:
        flash(request, _("This reader was already erased."))
        return redirect(request, f"/subscribers/{subscriber_id}")
    if canonical_email(confirm_email) != subscriber.email:
        flash(
            request,
            _("Not erased: type the reader's address exactly as shown to confirm."),
            "error",
        )
        return redirect(request, f"/subscribers/{subscriber_id}")
    erase_subscriber(db, subscriber.email, outbox_dir=request.app.state.settings.outbox_dir)
    flash(
        request,
        _("Erased. Only a hash of the address is kept, so it is never mailed again."),
    )
    return redirect(request, f"/subscribers/{subscriber_id}")


# ---------------------------------------------------------------------------------- lists
@router.get("/lists")
@in_desk_language
def lists_page(request: Request, *, db: DbSession, user: EditorUser) -> Response:
    """Every list with its membership counts."""
    return render(
        request,
        "desk/lists.html.j2",
        {
            "nav": "lists",
            "lists": list_summaries(db),
            "opt_ins": [str(value) for value in OptIn],
            "visibilities": [str(value) for value in ListVisibility],
            "form": {},
        },
    )


@router.post("/lists", dependencies=[CsrfChecked])
@in_desk_language
def add_list(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    name: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "en",
    opt_in: Annotated[str, Form()] = "double",
    visibility: Annotated[str, Form()] = "public",
) -> Response:
    """Create a list."""
    try:
        created = create_list(
            db,
            name.strip(),
            title=title,
            language=language,
            opt_in=OptIn(opt_in) if opt_in in OptIn.__members__.values() else OptIn.DOUBLE,
            visibility=ListVisibility(visibility)
            if visibility in ListVisibility.__members__.values()
            else ListVisibility.PUBLIC,
        )
    except SubscriberError as exc:
        return render(
            request,
            "desk/lists.html.j2",
            {
                "nav": "lists",
                "lists": list_summaries(db),
                "opt_ins": [str(value) for value in OptIn],
                "visibilities": [str(value) for value in ListVisibility],
                "error": _("List not created: %(reason)s.") % {"reason": exc},
                "form": {
                    "name": name,
                    "title": title,
                    "language": language,
                    "opt_in": opt_in,
                    "visibility": visibility,
                },
            },
            status_code=400,
        )
    flash(request, _("List %(name)s created.") % {"name": created.name})
    return redirect(request, "/lists")


def _list_or_404(db: DbSession, list_id: int) -> MailingList:
    mailing_list = db.get(MailingList, list_id)
    if mailing_list is None:
        raise HTTPException(
            status_code=404,
            detail=_("There is no list %(id)s. See the lists page instead.") % {"id": list_id},
        )
    return mailing_list


def _list_page(
    request: Request,
    mailing_list: MailingList,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    welcome: dict[str, Any] | None = None,
) -> Response:
    draft = mailing_list.welcome_markdown or ""
    return render(
        request,
        "desk/list.html.j2",
        {
            "nav": "lists",
            "mailing_list": mailing_list,
            "welcome": welcome
            or {
                "text": draft,
                "preview": Markup(welcome_html(draft)) if draft else None,  # noqa: S704 - sanitised
                "error": None,
                "unsaved": False,
            },
            "opt_ins": [str(value) for value in OptIn],
            "visibilities": [str(value) for value in ListVisibility],
            "error": error,
            "signup_url": f"{app_settings(request).PUBLIC_BASE_URL.rstrip('/')}"
            f"/signup/{mailing_list.name}",
            "embed_form": _embed_form(request, mailing_list),
            "form": form
            or {
                "title": mailing_list.title,
                "language": mailing_list.language,
                "opt_in": mailing_list.opt_in,
                "description": mailing_list.description,
                "visibility": mailing_list.visibility,
            },
        },
        status_code=400 if error else 200,
    )


def _embed_form(request: Request, mailing_list: MailingList) -> str:
    """A signup form to paste into the publisher's own pages (posts to our signup address).

    Readers see it, so its words are the reader pages' (public catalogue) in the list's language
    (the desk's may differ). The honeypot is clipped rather than moved off-screen, which would
    make a right-to-left page scroll sideways."""
    action = f"{app_settings(request).PUBLIC_BASE_URL.rstrip('/')}/signup/{mailing_list.name}"
    title = mailing_list.title or mailing_list.name
    field = f"signup-{mailing_list.name}-email"
    language = shipped_language(mailing_list.language)
    with use_language(language, domain="public"):
        label = _("Email address")
        button = _("Subscribe to %(title)s") % {"title": title}
    return (
        f'<form method="post" action="{escape(action)}" lang="{escape(language)}"'
        f' dir="{text_direction(language)}">\n'
        f'  <label for="{escape(field)}">{escape(label)}</label>\n'
        f'  <input type="email" id="{escape(field)}" name="email" required autocomplete="email">\n'
        "  <!-- Left empty by people; bots that fill it are ignored. -->\n"
        '  <div style="position:absolute;width:1px;height:1px;overflow:hidden;'
        'clip-path:inset(50%)" aria-hidden="true">'
        '<input type="text" name="website" tabindex="-1" autocomplete="off"></div>\n'
        f'  <button type="submit">{escape(button)}</button>\n'
        "</form>"
    )


@router.get("/lists/{list_id}")
@in_desk_language
def list_page(request: Request, *, db: DbSession, user: EditorUser, list_id: int) -> Response:
    """One list's settings, for editing."""
    return _list_page(request, _list_or_404(db, list_id))


@router.post("/lists/{list_id}", dependencies=[CsrfChecked])
@in_desk_language
def edit_list(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    list_id: int,
    title: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    opt_in: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "",
) -> Response:
    """Change a list's title, language, opt-in, description and visibility (its name stays)."""
    mailing_list = _list_or_404(db, list_id)
    form = {
        "title": title,
        "language": language,
        "opt_in": opt_in,
        "description": description,
        "visibility": visibility or mailing_list.visibility,
    }
    if opt_in not in OptIn.__members__.values():
        return _list_page(
            request, mailing_list, error=_("Choose single or double opt-in."), form=form
        )
    if visibility and visibility not in ListVisibility.__members__.values():
        return _list_page(request, mailing_list, error=_("Choose public or private."), form=form)
    try:
        update_list(
            db,
            mailing_list.name,
            title=title,
            opt_in=OptIn(opt_in),
            language=language,
            description=description,
            visibility=ListVisibility(visibility) if visibility else None,
        )
    except SubscriberError as exc:
        db.rollback()
        return _list_page(
            request,
            _list_or_404(db, list_id),
            error=_("List not changed: %(reason)s.") % {"reason": exc},
            form=form,
        )
    flash(request, _("List %(name)s updated.") % {"name": mailing_list.name})
    return redirect(request, "/lists")


@router.post("/lists/{list_id}/welcome", dependencies=[CsrfChecked])
@in_desk_language
def edit_welcome(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    list_id: int,
    welcome_markdown: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    """Preview or save the list's welcome email (Markdown; empty: no welcome email)."""
    mailing_list = _list_or_404(db, list_id)
    try:
        text = checked_markdown(welcome_markdown)
    except WelcomeError as exc:
        return _list_page(
            request,
            mailing_list,
            welcome={
                "text": welcome_markdown,
                "preview": None,
                "error": _("Not saved: %(reason)s.") % {"reason": exc},
                "unsaved": True,
            },
        )
    if action == "preview":
        return _list_page(
            request,
            mailing_list,
            welcome={
                "text": welcome_markdown,
                "preview": Markup(welcome_html(text)) if text else None,  # noqa: S704 - sanitised
                "error": None,
                "unsaved": True,
            },
        )
    set_welcome(db, mailing_list.name, text)
    flash(
        request,
        (
            _("Welcome email of %(name)s saved.")
            if text
            else _("List %(name)s sends no welcome email.")
        )
        % {"name": mailing_list.name},
    )
    return redirect(request, f"/lists/{list_id}#welcome")


@router.post("/lists/{list_id}/archive", dependencies=[CsrfChecked])
@in_desk_language
def archive_list_action(
    request: Request, *, db: DbSession, user: EditorUser, list_id: int
) -> Response:
    """Archive a list (refused while one of its issues is scheduled, sending or paused)."""
    mailing_list = _list_or_404(db, list_id)
    try:
        archive_list(db, mailing_list.name)
    except SubscriberError as exc:
        db.rollback()
        return _list_page(
            request,
            _list_or_404(db, list_id),
            error=_("List not archived: %(reason)s.") % {"reason": exc},
        )
    flash(
        request,
        _("List %(name)s archived: it takes no new readers or issues.")
        % {"name": mailing_list.name},
    )
    return redirect(request, "/lists")


@router.post("/lists/{list_id}/unarchive", dependencies=[CsrfChecked])
@in_desk_language
def unarchive_list_action(
    request: Request, *, db: DbSession, user: EditorUser, list_id: int
) -> Response:
    """Open an archived list again."""
    mailing_list = _list_or_404(db, list_id)
    unarchive_list(db, mailing_list.name)
    flash(request, _("List %(name)s is open again.") % {"name": mailing_list.name})
    return redirect(request, "/lists")


# --------------------------------------------------------------------------- suppressions
@router.get("/suppressions")
@in_desk_language
def suppressions_page(
    request: Request, *, db: DbSession, user: EditorUser, page: int = 1
) -> Response:
    """Addresses never mailed again (stored as hashes), newest first."""
    rows, total = desk_queries.list_suppressions(db, page)
    return render(
        request,
        "desk/suppressions.html.j2",
        {
            "nav": "subscribers",
            "suppressions": rows,
            "total": total,
            "page": max(1, page),
            "page_size": desk_queries.PAGE_SIZE,
        },
    )


@router.post("/suppressions", dependencies=[CsrfChecked])
@in_desk_language
def add_suppression(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    email: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
) -> Response:
    """Suppress an address by hand (it is never mailed again, from any list)."""
    if "@" not in email.strip():
        flash(
            request,
            _("Enter the full email address to suppress, e.g. reader@example.org."),
            "error",
        )
        return redirect(request, "/suppressions")
    added = suppress(
        db, email, SuppressionReason.MANUAL, detail.strip() or f"added by {user.email}"
    )
    flash(
        request,
        (_("%(email)s is suppressed.") if added else _("%(email)s was already suppressed."))
        % {"email": email.strip()},
    )
    return redirect(request, "/suppressions")


@router.post("/suppressions/remove", dependencies=[CsrfChecked])
@in_desk_language
def remove_suppression(
    request: Request,
    *,
    db: DbSession,
    user: EditorUser,
    email: Annotated[str, Form()] = "",
) -> Response:
    """Lift a suppression (only with the reader's clear wish: it may have been a complaint)."""
    if unsuppress(db, email):
        flash(request, _("%(email)s can be mailed again.") % {"email": email.strip()})
    else:
        flash(
            request,
            _("%(email)s is not on the suppression list; check the spelling.")
            % {"email": email.strip()},
            "warn",
        )
    return redirect(request, "/suppressions")
