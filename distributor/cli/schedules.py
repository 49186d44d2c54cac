"""Recurring schedules: ``distributor schedules create|list|show|update|pause|resume|delete``
and ``schedules run-due``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from distributor.cli.common import JsonOption, console, emit, fail, session_scope, settings

schedules_app = typer.Typer(
    help="Recurring issues made from new stories on a schedule.", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="The schedule's name.")]
ListOption = typer.Option("--list", help="The list the issues go to.")
CronOption = typer.Option("--cron", help='Standard 5-field cron, e.g. "0 8 * * fri".')
ZoneOption = typer.Option("--timezone", help="IANA zone the cron runs in, e.g. Asia/Hong_Kong.")
ModeOption = typer.Option(
    "--mode", help="draft (the desk is emailed to review it) or auto (sent at the occurrence)."
)
LayoutOption = typer.Option("--layout", help="full (whole stories) or excerpt.")
MinOption = typer.Option("--min-stories", help="Fewer new stories: no issue.")
MaxOption = typer.Option("--max-stories", help="At most this many (the newest).")
SubjectOption = typer.Option(
    "--subject", help="Subject template with {date}, {count} and {first_title}."
)
SectionOption = typer.Option("--section", help="Only stories in this section.")
TagOption = typer.Option("--tag", help="Only stories with this tag.")
LanguageOption = typer.Option("--language", help="Only stories in this language (zh: zh-Hant too).")
SourceOption = typer.Option("--source", help="Only stories from this source (name, URL or id).")


def _errors() -> tuple[type[Exception], ...]:
    from distributor.services.schedules import ScheduleError

    return (ScheduleError,)


def _show_one(data: dict[str, Any]) -> None:
    state = "[yellow]paused[/]" if data["paused"] else "active"
    console.print(
        f"[bold]{data['name']}[/] ({state}): {data['cron']} {data['timezone']} -> list "
        f"{data['list']}, {data['mode']}, {data['layout']}, {data['min_stories']}-"
        f"{data['max_stories']} stories",
        highlight=False,
    )
    console.print(f"  subject: {data['subject']}", highlight=False, markup=False)
    filters = [
        f"{key} {data[key]}" for key in ("section", "tag", "language", "source") if data[key]
    ]
    console.print(f"  filters: {', '.join(filters) or 'none'}", highlight=False, markup=False)
    if data["next_occurrence"]:
        console.print(
            f"  next: {data['next_occurrence_local']} ({data['next_occurrence']} UTC)",
            highlight=False,
        )
    for row in data.get("occurrences", []):
        issue = f"issue {row['issue_id']}" if row["issue_id"] else ""
        console.print(
            f"  {row['occurs_at']} {row['status']} {issue} {row['reason'] or ''}".rstrip(),
            highlight=False,
            markup=False,
        )


@schedules_app.command("create")
def create_command(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: NameArgument,
    list_name: Annotated[str, ListOption],
    cron: Annotated[str, CronOption],
    timezone: Annotated[str, ZoneOption],
    mode: Annotated[str, ModeOption] = "draft",
    layout: Annotated[str, LayoutOption] = "excerpt",
    min_stories: Annotated[int, MinOption] = 1,
    max_stories: Annotated[int, MaxOption] = 10,
    subject: Annotated[str | None, SubjectOption] = None,
    section: Annotated[str | None, SectionOption] = None,
    tag: Annotated[str | None, TagOption] = None,
    language: Annotated[str | None, LanguageOption] = None,
    source: Annotated[str | None, SourceOption] = None,
    as_json: bool = JsonOption,
) -> None:
    """Create a schedule: each time the cron fires, the new stories become an issue."""
    from distributor.services.schedules import create_schedule, schedule_data

    try:
        with session_scope() as session:
            schedule = create_schedule(
                session,
                name,
                list_name=list_name,
                cron=cron,
                timezone=timezone,
                mode=mode,
                layout=layout,
                min_stories=min_stories,
                max_stories=max_stories,
                subject=subject,
                section=section,
                tag=tag,
                language=language,
                source=source,
            )
            data = schedule_data(session, schedule)
    except _errors() as error:
        fail(str(error))
    emit(data, as_json, _show_one)


@schedules_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """List the schedules with their next occurrence."""
    from distributor.services.schedules import list_schedules, schedule_data

    with session_scope() as session:
        rows = [schedule_data(session, item) for item in list_schedules(session)]

    def show(data: list[dict[str, Any]]) -> None:
        table = Table("name", "list", "cron", "zone", "mode", "layout", "state", "next")
        for row in data:
            table.add_row(
                row["name"],
                row["list"],
                row["cron"],
                row["timezone"],
                row["mode"],
                row["layout"],
                "paused" if row["paused"] else "active",
                row["next_occurrence_local"] or "",
            )
        console.print(table)

    emit(rows, as_json, show)


@schedules_app.command("show")
def show_command(name: NameArgument, as_json: bool = JsonOption) -> None:
    """Show a schedule, its next occurrence and its latest occurrences."""
    from distributor.services.schedules import get_schedule, schedule_data

    try:
        with session_scope() as session:
            data = schedule_data(session, get_schedule(session, name), history=20)
    except _errors() as error:
        fail(str(error))
    emit(data, as_json, _show_one)


@schedules_app.command("update")
def update_command(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: NameArgument,
    list_name: Annotated[str | None, ListOption] = None,
    cron: Annotated[str | None, CronOption] = None,
    timezone: Annotated[str | None, ZoneOption] = None,
    mode: Annotated[str | None, ModeOption] = None,
    layout: Annotated[str | None, LayoutOption] = None,
    min_stories: Annotated[int | None, MinOption] = None,
    max_stories: Annotated[int | None, MaxOption] = None,
    subject: Annotated[str | None, SubjectOption] = None,
    section: Annotated[str | None, SectionOption] = None,
    tag: Annotated[str | None, TagOption] = None,
    language: Annotated[str | None, LanguageOption] = None,
    source: Annotated[str | None, SourceOption] = None,
    as_json: bool = JsonOption,
) -> None:
    """Change the given settings; the rest stay. An empty filter ("") clears it."""
    from distributor.services.schedules import schedule_data, update_schedule

    filters: dict[str, Any] = {
        key: value
        for key, value in {
            "section": section,
            "tag": tag,
            "language": language,
            "source": source,
        }.items()
        if value is not None
    }
    try:
        with session_scope() as session:
            schedule = update_schedule(
                session,
                name,
                list_name=list_name,
                cron=cron,
                timezone=timezone,
                mode=mode,
                layout=layout,
                min_stories=min_stories,
                max_stories=max_stories,
                subject=subject,
                **filters,
            )
            data = schedule_data(session, schedule)
    except _errors() as error:
        fail(str(error))
    emit(data, as_json, _show_one)


def _change(name: str, verb: str, as_json: bool) -> None:
    from distributor.services import schedules

    action = {
        "pause": schedules.pause_schedule,
        "resume": schedules.resume_schedule,
    }[verb]
    try:
        with session_scope() as session:
            data = schedules.schedule_data(session, action(session, name))
    except _errors() as error:
        fail(str(error))
    emit(data, as_json, _show_one)


@schedules_app.command("pause")
def pause_command(name: NameArgument, as_json: bool = JsonOption) -> None:
    """Pause a schedule: its occurrences while paused never run."""
    _change(name, "pause", as_json)


@schedules_app.command("resume")
def resume_command(name: NameArgument, as_json: bool = JsonOption) -> None:
    """Resume a paused schedule from its next occurrence."""
    _change(name, "resume", as_json)


@schedules_app.command("delete")
def delete_command(name: NameArgument, as_json: bool = JsonOption) -> None:
    """Delete a schedule (the issues it made stay)."""
    from distributor.services.schedules import delete_schedule

    try:
        with session_scope() as session:
            delete_schedule(session, name)
    except _errors() as error:
        fail(str(error))
    emit({"deleted": name}, as_json, f"deleted schedule {name}")


def _parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"--at {text!r}: not an ISO-8601 time (e.g. 2026-12-04T08:00+08:00)")
    # A time without an offset is UTC, like the rest of the command line's instants.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@schedules_app.command("run-due")
def run_due_command(
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Evaluate as of this ISO-8601 instant (default: now; UTC when it has no"
            " offset). A future instant runs those occurrences ahead of time, once.",
        ),
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Run every schedule's latest due occurrence once; print the issues it created."""
    from distributor.services.desk_notifications import deliver_notifications
    from distributor.services.schedules import run_due

    moment = _parse_instant(at) if at is not None else None
    current = settings()
    with session_scope() as session:
        report = run_due(session, moment)
        if current.embedded:
            # Without a worker outside `serve`, the desk hears of new drafts from here.
            deliver_notifications(session, current)
    rows = [item.as_dict() for item in report.occurrences]

    def show(data: list[dict[str, Any]]) -> None:
        if not data:
            console.print("no schedule was due")
            return
        for row in data:
            if row["issue_id"]:
                line = f"{row['schedule']}: issue {row['issue_id']} ({row['issue_status']})"
                line += f", {row['stories']} stories, for {row['occurs_at']}"
            else:
                line = f"{row['schedule']}: {row['status']} for {row['occurs_at']}"
            if row["skipped"]:
                line += f"; {row['skipped']} missed occurrence(s) skipped"
            if row["reason"]:
                line += f": {row['reason']}"
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    emit(rows, as_json, show)
