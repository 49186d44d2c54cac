"""The ``distributor`` command: every subcommand uses the same settings as the service."""

from __future__ import annotations

import typer

from distributor.cli import (
    archive,
    audit,
    ingest,
    issues,
    partners,
    render,
    schedules,
    service,
    subscribers,
    tokens,
    users,
)

app = typer.Typer(
    name="distributor",
    help="Newsletter and syndication distribution for independent newsrooms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command("serve")(service.serve_command)
app.command("worker")(service.worker_command)
app.command("scheduler")(service.scheduler_command)
app.add_typer(service.db_app, name="db")
app.command("ingest")(ingest.ingest_command)
app.add_typer(ingest.articles_app, name="articles")
app.add_typer(ingest.sources_app, name="sources")
app.add_typer(subscribers.lists_app, name="lists")
app.add_typer(subscribers.subscribers_app, name="subscribers")
app.add_typer(issues.issues_app, name="issues")
app.add_typer(schedules.schedules_app, name="schedules")
app.command("render")(render.render_command)
app.command("feed")(partners.feed_command)
app.add_typer(partners.partners_app, name="partners")
app.add_typer(users.users_app, name="users")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(tokens.tokens_app, name="tokens")
app.command("export")(archive.export_command)
app.command("import-archive")(archive.import_archive_command)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
