"""Running the service: serve (all in one), worker, scheduler, db upgrade."""

from __future__ import annotations

import logging

import typer

from distributor.cli.common import console, fail, settings
from distributor.config import Settings
from distributor.logging_setup import configure_logging

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from distributor.db.migrate import upgrade

    current = settings()
    upgrade(current.database_url)
    console.print(f"database at {_redact(current.database_url)} is up to date")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Demo mode (as DEMO_MODE=true): load the demo stories and the demo editor.",
    ),
    embedded: bool | None = typer.Option(
        None,
        "--embedded/--no-embedded",
        help="Run the worker and scheduler in this process (default: when REDIS_URL is unset).",
    ),
) -> None:
    """Run the web app; in embedded mode also the worker and the scheduler."""
    import uvicorn

    from distributor.db.migrate import upgrade
    from distributor.web.app import create_app

    current = settings()
    if demo and not current.DEMO_MODE:
        current = current.model_copy(update={"DEMO_MODE": True})
    configure_logging(current)
    upgrade(current.database_url)
    if current.DEMO_MODE:
        _load_demo(current)
    _settle_demo_account(current)
    run_embedded = current.embedded if embedded is None else embedded
    runtime = None
    if run_embedded:
        from workers.celery_app import app as celery_app
        from workers.embedded import EmbeddedRuntime

        runtime = EmbeddedRuntime(celery_app, current.SCHEDULER_TICK_SECONDS)
        runtime.start()
    mode = "embedded worker + scheduler" if run_embedded else "web only"
    console.print(f"Distributor on http://{host}:{port} ({mode}; sender: {current.sender_kind})")
    try:
        uvicorn.run(create_app(current), host=host, port=port, log_config=None)
    finally:
        if runtime is not None:
            runtime.stop()


def _load_demo(current: Settings) -> None:
    from distributor.cli.common import session_scope
    from distributor.services.demo import DEMO_LIST, load_demo
    from distributor.services.users import DEMO_EMAIL, DEMO_PASSWORD

    with session_scope() as session:
        summary = load_demo(session, current)
    stories = len(summary.created) + len(summary.revised) + len(summary.unchanged)
    console.print(f"demo: {stories} stories, list '{DEMO_LIST}' with 3 readers")
    if current.embedded:
        console.print(f"demo editor sign-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")


def _settle_demo_account(current: Settings) -> None:
    """Outside demo mode the demo account (published password) is disabled at every start."""
    from distributor.cli.common import session_scope
    from distributor.services.users import demo_mode_on, disable_demo_user

    if demo_mode_on(current):
        return
    with session_scope() as session:
        disabled = disable_demo_user(session)
    if disabled:
        console.print("demo mode is off: the demo editor account is disabled")


def worker_command(
    queues: str = typer.Option(
        "default,send,render,feeds,webhooks,ingest", "--queues", "-Q", help="Queues to consume."
    ),
    concurrency: int = typer.Option(2, "--concurrency", "-c", help="Worker processes."),
    pool: str = typer.Option("prefork", "--pool", help="prefork, threads or solo."),
) -> None:
    """Run a Celery worker against REDIS_URL."""
    current = settings()
    if current.embedded:
        fail("REDIS_URL is not set: a separate worker needs Redis (use 'serve' for embedded)")
    configure_logging(current)
    from workers.celery_app import app as celery_app

    celery_app.worker_main(
        [
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def scheduler_command() -> None:
    """Run the periodic scheduler (publishes the idempotent ticks) against REDIS_URL."""
    current = settings()
    if current.embedded:
        fail("REDIS_URL is not set: a separate scheduler needs Redis (use 'serve' for embedded)")
    configure_logging(current)
    from workers.celery_app import app as celery_app
    from workers.embedded import PeriodicScheduler

    celery_app.loader.import_default_modules()
    logging.getLogger("distributor").info("scheduler started")
    PeriodicScheduler(celery_app, current.SCHEDULER_TICK_SECONDS).run_forever()
