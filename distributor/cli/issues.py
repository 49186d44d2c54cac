"""Issues: create, schedule, send, pause, resume, cancel, status, test sends."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from distributor.cli.common import (
    JsonOption,
    console,
    emit,
    error_console,
    fail,
    session_scope,
    settings,
)

if TYPE_CHECKING:
    from distributor.domain.preflight import Preflight

issues_app = typer.Typer(help="Newsletter issues.", no_args_is_help=True)

YesOption = typer.Option(
    False,
    "--yes",
    "-y",
    help="Confirm the pre-flight summary without a prompt (for scripts). Blocking problems"
    " (embargoes) are refused all the same.",
)


def _issue_errors() -> tuple[type[Exception], ...]:
    from distributor.domain.issues import ScheduleError
    from distributor.services.issues import IssueError

    return (IssueError, ScheduleError)


def _show_progress(data: dict[str, Any]) -> None:
    console.print(
        f"issue {data['id']} [bold]{data['status']}[/]: {data['sent']} sent, "
        f"{data['queued']} queued, {data['failed']} failed, {data['suppressed']} suppressed, "
        f"{data['skipped']} skipped (of {data['total']})",
        highlight=False,
    )
    if data.get("send_at"):
        console.print(
            f"  scheduled for {data['schedule_local']} {data['schedule_timezone']} "
            f"({data['send_at']} UTC)",
            highlight=False,
        )
    if data.get("paused_reason"):
        console.print(f"  [yellow]paused:[/] {data['paused_reason']}", highlight=False)


@issues_app.command("create")
def create(
    *,
    list_name: Annotated[list[str], typer.Option("--list", help="List name (repeatable).")],
    subject: str = typer.Option(..., "--subject"),
    article: Annotated[
        list[int], typer.Option("--article", help="Article id (repeatable, in order).")
    ],
    preheader: str = typer.Option("", "--preheader", help="Preview text shown by mail apps."),
    note: str = typer.Option("", "--note", help="Editor's note at the top of the issue."),
    layout: str = typer.Option(
        "excerpt",
        "--layout",
        help="excerpt (opening paragraphs and a link) or full (every story in full).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a draft issue from articles; prints its id."""
    from distributor.services.issues import create_issue

    try:
        with session_scope() as session:
            issue = create_issue(
                session,
                list(list_name),
                subject,
                list(article),
                preheader=preheader,
                editor_note=note,
                layout=layout,
            )
            data = {
                "id": issue.id,
                "status": issue.status,
                "language": issue.language,
                "layout": issue.layout,
            }
    except _issue_errors() as error:
        fail(str(error))
    emit(data, as_json, str(data["id"]))


@issues_app.command("layout")
def layout_command(
    issue_id: int,
    layout: str = typer.Argument(..., help="full (whole stories) or excerpt."),
    *,
    excerpt: Annotated[
        list[int] | None,
        typer.Option(
            "--excerpt",
            help="Article id to show as an excerpt in a full issue (repeatable).",
        ),
    ] = None,
    fit: bool = typer.Option(
        False,
        "--fit",
        help="Show the longest whole stories as excerpts until the HTML fits the size budget.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Choose an issue's layout: every story in full, or excerpts with a link.

    In a full issue, --excerpt names stories to show as excerpts; --fit switches the longest
    whole stories to excerpts until the email fits EMAIL_HTML_BUDGET_BYTES (Gmail clips larger
    messages).
    """
    from distributor.services.issue_layouts import set_issue_layout

    try:
        with session_scope() as session:
            result = set_issue_layout(
                session,
                settings(),
                issue_id,
                layout,
                excerpt_article_ids=excerpt or (),
                fit=fit,
            )
            data = result.as_dict()
    except _issue_errors() as error:
        fail(str(error))

    def show(values: dict[str, Any]) -> None:
        excerpts = ", ".join(str(item) for item in values["excerpt_articles"]) or "none"
        console.print(
            f"issue {values['id']}: layout {values['layout']}; stories shown as excerpts: "
            f"{excerpts}; HTML {values['html_bytes'] / 1000:.1f} KB "
            f"(budget {values['budget_bytes'] / 1000:.0f} KB)",
            highlight=False,
        )
        if values["fitted_articles"]:
            fitted = ", ".join(str(item) for item in values["fitted_articles"])
            console.print(f"  fitted: article(s) {fitted} now excerpts", highlight=False)
        if values["over_budget"]:
            console.print(
                "  [yellow]warning:[/] still over the size budget: Gmail would clip it. "
                "Use --fit, the excerpt layout, or remove a story.",
                highlight=False,
            )

    emit(data, as_json, show)


def preflight_data(verdict: Preflight) -> dict[str, Any]:
    """The pre-flight verdict as JSON values."""
    return verdict.as_dict()


def _confirm_preflight(verdict: Preflight, *, yes: bool, as_json: bool) -> None:
    """Print the pre-flight summary; refuse blocking problems; ask (or take --yes).

    Never waits for an answer that cannot come: without a terminal and without --yes it refuses.
    """
    out = error_console if as_json else console
    for line in verdict.summary_lines():
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    if not verdict.may_send:
        fail(verdict.refusal())
    if yes:
        return
    if not sys.stdin.isatty():
        fail(
            f"not sent: confirm sending issue {verdict.issue_id} to {verdict.recipients} "
            "recipient(s) with --yes (no terminal to ask on)"
        )
    question = (
        f"Send issue {verdict.issue_id} to {verdict.recipients} recipient(s) "
        f"{verdict.when_text()}"
        + (f", despite {len(verdict.warnings)} warning(s)" if verdict.warnings else "")
        + "?"
    )
    if not typer.confirm(question, default=False, err=as_json):
        fail("not sent: not confirmed")


@issues_app.command("schedule")
def schedule(
    issue_id: int,
    at: str = typer.Option(..., "--at", help="ISO-8601 time, e.g. 2026-12-01T08:00."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA zone, e.g. Europe/London."),
    yes: bool = YesOption,
    as_json: bool = JsonOption,
) -> None:
    """Schedule (or reschedule) an issue at a wall-clock time in a time zone.

    Prints the pre-flight summary (recipients, embargoes, missing credits or alt text, size,
    languages) and asks for a confirmation (--yes to skip it). An embargo that has not passed
    by that time refuses the schedule.
    """
    from distributor.domain.issues import parse_schedule
    from distributor.services.issues import issue_progress, preflight_issue, schedule_issue

    current = settings()
    try:
        with session_scope() as session:
            send_at, zone = parse_schedule(at, timezone)
            verdict = preflight_issue(session, current, issue_id, send_at=send_at, timezone=zone)
    except _issue_errors() as error:
        fail(str(error))
    _confirm_preflight(verdict, yes=yes, as_json=as_json)
    try:
        with session_scope() as session:
            schedule_issue(session, issue_id, at, timezone)
            data = issue_progress(session, issue_id)
    except _issue_errors() as error:
        fail(str(error))
    data["preflight"] = preflight_data(verdict)
    emit(data, as_json, _show_progress)


def _wait_with_progress(issue_id: int, as_json: bool) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from distributor.services.issues import issue_progress

    def read() -> dict[str, Any]:
        with session_scope() as session:
            return issue_progress(session, issue_id)

    data = read()
    if as_json:
        while data["status"] in {"scheduled", "sending"}:
            time.sleep(0.5)
            data = read()
        return data
    with Progress(
        TextColumn("[bold]issue {task.fields[issue]}[/] {task.fields[status]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(
            "send",
            total=data["total"] or None,
            issue=issue_id,
            status=data["status"],
            failed=data["failed"],
        )
        while True:
            done = data["total"] - data["queued"]
            progress.update(
                task,
                total=data["total"] or None,
                completed=done,
                status=data["status"],
                failed=data["failed"],
            )
            if data["status"] not in {"scheduled", "sending"}:
                break
            time.sleep(0.5)
            data = read()
    return data


@issues_app.command("send")
def send(
    issue_id: int,
    *,
    now: bool = typer.Option(False, "--now", help="Start now, whatever the schedule says."),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the send ends."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA zone to show times in (default: the issue's)."
    ),
    yes: bool = YesOption,
    as_json: bool = JsonOption,
) -> None:
    """Send an issue now (--now) and optionally wait (--wait) with a progress bar.

    With --now the pre-flight summary is printed and confirmed first (--yes to skip the
    prompt); an embargo that has not passed refuses the send.

    With Redis, the ledger is written here and the workers send it. Without Redis (embedded
    mode) there is no broker shared with a server, so this command sends in-process.
    """
    from distributor.services.issues import get_issue, issue_progress, preflight_issue
    from distributor.services.sending import dispatch_due, start_issue_now

    current = settings()
    verdict = None
    try:
        with session_scope() as session:
            issue = get_issue(session, issue_id)
            if issue.status == "draft" and not now:
                fail(f"issue {issue_id} is a draft: use --now, or schedule it first")
            if now:
                verdict = preflight_issue(session, current, issue_id, timezone=timezone)
    except _issue_errors() as error:
        fail(str(error))
    if verdict is not None:
        _confirm_preflight(verdict, yes=yes, as_json=as_json)
        try:
            with session_scope() as session:
                start_issue_now(session, issue_id)
        except _issue_errors() as error:
            fail(str(error))
    from distributor.db.session import session_factory

    session = session_factory(current.database_url)()
    try:
        if current.embedded:
            from distributor.adapters.email_base import email_sender_for
            from distributor.services.sending import run_sending_inline

            dispatch_due(session, current)
            sender = email_sender_for(current)
            try:
                run_sending_inline(session, current, sender, issue_id)
            finally:
                sender.close()
        else:
            from distributor.services.sending import publish_pending_batches
            from workers.celery_app import app as celery_app

            def publish(batch_id: int) -> None:
                celery_app.send_task("distributor.send_batch", args=[batch_id])

            # Batches go to the workers after each ledger chunk, while the rest is written.
            dispatch_due(session, current, publish=publish)
            publish_pending_batches(session, current, publish)
    finally:
        session.close()
    if wait:
        data = _wait_with_progress(issue_id, as_json)
    else:
        with session_scope() as session:
            data = issue_progress(session, issue_id)
    if verdict is not None:
        data["preflight"] = preflight_data(verdict)
    emit(data, as_json, _show_progress)


def _simple_transition(verb: str, issue_id: int, as_json: bool) -> None:
    from distributor.services import issues as service

    action = {
        "cancel": service.cancel_issue,
        "pause": service.pause_issue,
        "resume": service.resume_issue,
    }[verb]
    try:
        with session_scope() as session:
            action(session, issue_id)
            data = service.issue_progress(session, issue_id)
    except _issue_errors() as error:
        fail(str(error))
    emit(data, as_json, _show_progress)


@issues_app.command("cancel")
def cancel(issue_id: int, as_json: bool = JsonOption) -> None:
    """Cancel an issue that has not started sending."""
    _simple_transition("cancel", issue_id, as_json)


@issues_app.command("pause")
def pause(issue_id: int, as_json: bool = JsonOption) -> None:
    """Pause a sending issue (batches already in flight finish)."""
    _simple_transition("pause", issue_id, as_json)


@issues_app.command("resume")
def resume(issue_id: int, as_json: bool = JsonOption) -> None:
    """Resume a paused issue where it stopped."""
    _simple_transition("resume", issue_id, as_json)


@issues_app.command("status")
def status(issue_id: int, as_json: bool = JsonOption) -> None:
    """Show an issue's progress: queued, sent, failed, suppressed."""
    from distributor.services.issues import issue_progress

    try:
        with session_scope() as session:
            data = issue_progress(session, issue_id)
    except _issue_errors() as error:
        fail(str(error))
    emit(data, as_json, _show_progress)


@issues_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """List recent issues."""
    from distributor.services.issues import list_issues

    with session_scope() as session:
        rows = list_issues(session)

    def show(items: list[dict[str, Any]]) -> None:
        for item in items:
            console.print(
                f"{item['id']:>5}  {item['status']:<16} {item['send_at'] or '-':<26} "
                f"{item['subject']}",
                highlight=False,
            )

    emit(rows, as_json, show)


@issues_app.command("test-send")
def send_test_command(
    issue_id: int,
    to: Annotated[list[str], typer.Option("--to", help="Address (repeatable).")],
    as_json: bool = JsonOption,
) -> None:
    """Send a "[TEST]" copy to the given addresses (not recorded in the send ledger)."""
    from distributor.adapters.email_base import DeliveryError, email_sender_for
    from distributor.services.sending import send_test_copies

    current = settings()
    sender = email_sender_for(current)
    try:
        with session_scope() as session:
            receipt = send_test_copies(session, current, sender, issue_id, list(to))
    except _issue_errors() as error:
        fail(str(error))
    except ValueError as error:
        fail(str(error))
    except DeliveryError as error:
        fail(f"the test send failed: {error.message}")
    finally:
        sender.close()
    data = {
        "issue": issue_id,
        "accepted": len(receipt.accepted_ids),
        "rejected": receipt.rejected,
        "sender": current.sender_kind,
    }
    emit(
        data,
        as_json,
        f"test copy sent to {len(receipt.accepted_ids)} address(es) via {current.sender_kind}",
    )
