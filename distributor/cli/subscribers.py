"""Lists and subscribers: create and update lists, import/export CSV, add, show, suppress,
erase."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from distributor.cli.common import JsonOption, console, emit, fail, session_scope, settings
from distributor.db.models import MailingList
from distributor.domain.subscribers import ListVisibility, OptIn, SuppressionReason

lists_app = typer.Typer(help="Newsletters (lists).", no_args_is_help=True)
subscribers_app = typer.Typer(help="Subscribers.", no_args_is_help=True)


# ----------------------------------------------------------------------------------- lists
def _list_dict(mailing_list: MailingList) -> dict[str, Any]:
    return {
        "id": mailing_list.id,
        "name": mailing_list.name,
        "title": mailing_list.title,
        "opt_in": mailing_list.opt_in,
        "language": mailing_list.language,
        "description": mailing_list.description,
        "archived": mailing_list.archived_at is not None,
        "visibility": mailing_list.visibility,
    }


@lists_app.command("create")
def create_list(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: Annotated[str, typer.Argument(help="Short name used in URLs, e.g. weekly.")],
    title: Annotated[str, typer.Option("--title", help="The name readers see.")] = "",
    opt_in: Annotated[OptIn, typer.Option("--opt-in", help="single or double.")] = OptIn.DOUBLE,
    language: Annotated[
        str, typer.Option("--language", help="Language tag, e.g. en or zh.")
    ] = "en",
    description: Annotated[
        str, typer.Option("--description", help="One line for the signup page.")
    ] = "",
    visibility: Annotated[
        ListVisibility,
        typer.Option(
            "--visibility",
            help="public (signup page, offered to every reader) or private (members only;"
            " readers join only when added by an operator).",
        ),
    ] = ListVisibility.PUBLIC,
    as_json: bool = JsonOption,
) -> None:
    """Create a list."""
    from distributor.services.subscribers import SubscriberError, create_list

    try:
        with session_scope() as session:
            created = create_list(
                session,
                name,
                title=title,
                opt_in=opt_in,
                language=language,
                description=description,
                visibility=visibility,
            )
            data = _list_dict(created)
    except SubscriberError as exc:
        fail(str(exc))
    emit(
        data,
        as_json,
        f"created list {data['name']} ({data['opt_in']} opt-in, {data['visibility']}),"
        f" id {data['id']}",
    )


@lists_app.command("update")
def update_list(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: Annotated[str, typer.Argument(help="The list's short name (it cannot change).")],
    title: Annotated[str | None, typer.Option("--title", help="The name readers see.")] = None,
    opt_in: Annotated[
        OptIn | None, typer.Option("--opt-in", help="single or double (for new signups).")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Language tag, e.g. en or zh.")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="One line for the signup page.")
    ] = None,
    visibility: Annotated[
        ListVisibility | None,
        typer.Option(
            "--visibility",
            help="public or private (private: hidden from the public, no signup).",
        ),
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Change a list's title, opt-in, language, description or visibility; the rest stay."""
    from distributor.services.subscribers import SubscriberError, update_list

    if (
        title is None
        and opt_in is None
        and language is None
        and description is None
        and visibility is None
    ):
        fail("nothing to change: give --title, --opt-in, --language, --description or --visibility")
    try:
        with session_scope() as session:
            changed = update_list(
                session,
                name,
                title=title,
                opt_in=opt_in,
                language=language,
                description=description,
                visibility=visibility,
            )
            data = _list_dict(changed)
    except SubscriberError as exc:
        fail(str(exc))
    emit(
        data,
        as_json,
        f"updated list {data['name']} ({data['opt_in']} opt-in, {data['visibility']})",
    )


def _change_list(name: str, change: str, as_json: bool, message: str) -> None:
    """Apply ``change`` (``archive`` or ``unarchive``) to the list ``name`` and report it."""
    from distributor.services import subscribers as service

    action = service.archive_list if change == "archive" else service.unarchive_list
    try:
        with session_scope() as session:
            data = _list_dict(action(session, name))
    except service.SubscriberError as exc:
        fail(str(exc))
    emit(data, as_json, message.format(name=data["name"]))


@lists_app.command("archive")
def archive_list(
    name: Annotated[str, typer.Argument(help="The list's short name.")],
    as_json: bool = JsonOption,
) -> None:
    """Archive a list: no new readers and no new issues; members and history stay.

    Refused while an issue for the list is scheduled, sending or paused.
    """
    _change_list(
        name, "archive", as_json, "archived list {name}: it takes no new readers or issues"
    )


@lists_app.command("unarchive")
def unarchive_list(
    name: Annotated[str, typer.Argument(help="The list's short name.")],
    as_json: bool = JsonOption,
) -> None:
    """Open an archived list again, as it was."""
    _change_list(name, "unarchive", as_json, "list {name} is open again")


@lists_app.command("welcome")
def welcome(
    name: Annotated[str, typer.Argument(help="The list's short name.")],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A Markdown file (UTF-8) with the welcome email; '-' reads standard input.",
            allow_dash=True,
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Send no welcome email on this list.")
    ] = False,
    as_json: bool = JsonOption,
) -> None:
    """Set the welcome email a reader gets once, right after their subscription becomes active
    (Markdown; raw HTML and images are not allowed). Without --file or --clear, print it."""
    from distributor.services.subscribers import SubscriberError, require_list
    from distributor.services.welcome import WelcomeError, set_welcome

    if file is not None and clear:
        fail("give --file or --clear, not both")
    text: str | None = None
    if file is not None:
        try:
            raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
            text = raw.decode("utf-8")
        except OSError as error:
            fail(f"{file}: cannot read it ({error.strerror or error})")
        except UnicodeDecodeError as error:
            fail(f"{file}: not UTF-8 text (byte {error.start}); save it as UTF-8")
    try:
        with session_scope() as session:
            if file is None and not clear:
                current = require_list(session, name).welcome_markdown
            else:
                current = set_welcome(session, name, text).welcome_markdown
    except (WelcomeError, SubscriberError) as error:
        fail(str(error))
    data = {"list": name, "welcome_markdown": current}
    if file is None and not clear:
        emit(data, as_json, current if current else f"list {name} sends no welcome email")
        return
    emit(
        data,
        as_json,
        f"list {name}: welcome email saved ({len(current)} characters)"
        if current
        else f"list {name} sends no welcome email",
    )


@lists_app.command("list")
def list_lists(as_json: bool = JsonOption) -> None:
    """Show every list with member counts."""
    from distributor.services.subscribers import list_summaries

    with session_scope() as session:
        data = list_summaries(session)

    def table(rows: list[dict[str, Any]]) -> None:
        if not rows:
            console.print("no lists yet: create one with 'distributor lists create NAME'")
            return
        view = Table(
            "name",
            "title",
            "opt-in",
            "visibility",
            "language",
            "confirmed",
            "unconfirmed",
            "left",
        )
        for row in rows:
            view.add_row(
                row["name"] + (" (archived)" if row["archived"] else ""),
                row["title"],
                row["opt_in"],
                row["visibility"],
                row["language"],
                str(row["confirmed"]),
                str(row["unconfirmed"]),
                str(row["unsubscribed"]),
            )
        console.print(view)

    emit(data, as_json, table)


# ----------------------------------------------------------------------------- subscribers
@subscribers_app.command("import")
def import_subscribers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    list_name: Annotated[str, typer.Option("--list", help="The list every row joins.")],
    as_json: bool = JsonOption,
) -> None:
    """Import subscribers from a CSV file (columns: email, name, language, lists, status,
    attributes, attr.<name>). Bad rows are reported by line and skipped."""
    from distributor.services.subscriber_import import import_subscribers as run_import
    from distributor.services.subscribers import SubscriberError

    show_bar = not as_json and sys.stderr.isatty()
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not show_bar,
    )
    try:
        with progress, session_scope() as session:
            task = progress.add_task("import", total=file.stat().st_size)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = run_import(session, file, list_name, progress=advance)
    except SubscriberError as exc:
        fail(str(exc))

    def human(_: Any) -> None:
        console.print(report.summary(), highlight=False, soft_wrap=True)
        for problem in report.problems:
            console.print(f"  {problem}", highlight=False, soft_wrap=True, markup=False)

    emit(report.as_dict(), as_json, human)
    if report.rejected:
        raise typer.Exit(1)


@subscribers_app.command("export")
def export_subscribers(
    list_name: Annotated[str, typer.Option("--list", help="The list to export.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV file to write (default: stdout).")
    ] = None,
) -> None:
    """Export a list's members as CSV (the format 'import' reads)."""
    from distributor.services.subscriber_import import export_subscribers as run_export
    from distributor.services.subscribers import SubscriberError

    try:
        with session_scope() as session:
            if out is None:
                count = run_export(session, list_name, sys.stdout)
            else:
                temporary = out.with_name(out.name + ".partial")
                with temporary.open("w", encoding="utf-8", newline="") as handle:
                    count = run_export(session, list_name, handle)
                temporary.replace(out)
    except SubscriberError as exc:
        fail(str(exc))
    if out is not None:
        console.print(f"exported {count} members of {list_name} to {out}", highlight=False)


@subscribers_app.command("add")
def add_subscriber(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    email: str,
    list_name: Annotated[str, typer.Option("--list", help="The list to join.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    confirmed: Annotated[
        bool,
        typer.Option("--confirmed", help="The reader already agreed (no confirmation email)."),
    ] = False,
    as_json: bool = JsonOption,
) -> None:
    """Add one subscriber to a list."""
    from distributor.services.subscribers import SubscriberError
    from distributor.services.subscribers import add_subscriber as add

    try:
        with session_scope() as session:
            membership = add(
                session, email, list_name, name=name, language=language, confirmed=confirmed
            )
            data = {
                "subscriber_id": membership.subscriber_id,
                "list": list_name,
                "status": membership.status,
            }
    except SubscriberError as exc:
        fail(str(exc))
    emit(data, as_json, f"{email} is {data['status']} on {list_name}")


@subscribers_app.command("show")
def show_subscriber(email: str, as_json: bool = JsonOption) -> None:
    """Everything stored about one address."""
    from distributor.services.subscribers import subscriber_details

    with session_scope() as session:
        details = subscriber_details(session, email)
    if details is None:
        fail(f"nothing is stored about {email}")

    def human(data: dict[str, Any]) -> None:
        person = data["subscriber"]
        blocked = data["suppressed"]
        console.print(f"[bold]{data['email']}[/]", highlight=False)
        if blocked:
            console.print(f"  suppressed: {blocked['reason']} since {blocked['since']}")
        if person is None:
            return
        console.print(f"  name: {person['name'] or '-'}; language: {person['language'] or '-'}")
        console.print(f"  status: {person['status']}; soft bounces: {person['soft_bounces']}")
        for membership in person["lists"]:
            console.print(f"  list {membership['list']}: {membership['status']}", highlight=False)

    emit(details, as_json, human)


@subscribers_app.command("suppress")
def suppress_subscriber(
    email: str,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept with the suppression).")
    ] = "manual",
) -> None:
    """Never mail this address again, from any list."""
    from distributor.domain.addresses import canonical_email, email_problem
    from distributor.services.suppression import suppress

    problem = email_problem(email)
    if problem:
        fail(f"{email!r}: {problem}")
    with session_scope() as session:
        added = suppress(session, canonical_email(email), SuppressionReason.MANUAL, reason)
    console.print(
        f"{email} is now suppressed" if added else f"{email} was already suppressed",
        highlight=False,
    )


@subscribers_app.command("unsuppress")
def unsuppress_subscriber(email: str) -> None:
    """Lift a suppression (only when you know the address works and the reader agrees)."""
    from distributor.domain.addresses import canonical_email
    from distributor.services.suppression import unsuppress

    with session_scope() as session:
        lifted = unsuppress(session, canonical_email(email))
    console.print(
        f"{email} may be mailed again" if lifted else f"{email} was not suppressed",
        highlight=False,
    )


@subscribers_app.command("erase")
def erase_subscriber(
    email: str,
    keep_suppressed: Annotated[
        bool,
        typer.Option(
            "--suppress/--no-suppress",
            help="Keep the address hash as a suppression (default) so it is never mailed again.",
        ),
    ] = True,
) -> None:
    """Erase a reader's personal data on request (only a hash of the address is kept)."""
    from distributor.services.subscribers import erase_subscriber as erase

    outbox_dir = settings().outbox_dir
    with session_scope() as session:
        found = erase(session, email, keep_suppressed=keep_suppressed, outbox_dir=outbox_dir)
    if found:
        console.print(f"erased {email}; only its hash is kept", highlight=False)
    else:
        console.print(f"no subscriber with address {email}; nothing to erase", highlight=False)
