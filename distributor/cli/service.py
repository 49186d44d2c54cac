"""Running the service: serve (all in one), worker, scheduler, db upgrade."""

from __future__ import annotations

import logging
import os

import typer

from distributor.cli.common import console, fail, served_base_url_file, settings
from distributor.config import ConfigurationError, Settings, get_settings
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

    try:
        given = get_settings()  # not settings(): this serve decides the address afresh
    except ConfigurationError as exc:
        fail(str(exc), code=2)
    require_deployment_settings(
        given.model_copy(update={"DEMO_MODE": True}) if demo else given, "web process"
    )
    current = given if given.public_base_url_set else _links_from_serving_address(host, port)
    if demo and not current.DEMO_MODE:
        current = current.model_copy(update={"DEMO_MODE": True})
    if current.DEMO_MODE and "LOG_FORMAT" not in current.model_fields_set:
        # A person reads a demo's console; a service's logs go to a collector (JSON).
        current = current.model_copy(update={"LOG_FORMAT": "text"})
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
    if run_embedded or not current.embedded:
        # A worker consumes this process's tasks: feed rebuilds after a change go to it.
        from distributor.services.feeds import send_rebuilds_with
        from workers.tasks import enqueue_feed_changes

        send_rebuilds_with(enqueue_feed_changes)
    _print_banner(current, _url_of(host, port), run_embedded, given.public_base_url_set)
    try:
        # X-Forwarded-For is honoured by the app only from TRUSTED_PROXIES (uvicorn's own
        # default would believe it from any local peer).
        uvicorn.run(create_app(current), host=host, port=port, log_config=None, proxy_headers=False)
    finally:
        if runtime is not None:
            runtime.stop()


_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - recognised, not bound


def _url_of(host: str, port: int) -> str:
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"  # links must name a host a browser can reach
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def require_deployment_settings(current: Settings, what: str) -> None:
    """Stop a scaled-out process (REDIS_URL set) that lacks a setting a deployment must make
    itself (:data:`distributor.config.DEPLOYMENT_REQUIRED`): without PUBLIC_BASE_URL every link
    in every email and feed would point at a guess, without the publisher's name and address
    production mail would go out as the demo magazine."""
    if current.embedded:
        return
    missing = current.missing_for_deployment()
    if not missing:
        return
    lines = [f"{name} is not set: {why}" for name, why in missing]
    fail(
        f"the {what} of a scaled-out deployment (REDIS_URL is set) needs these settings"
        " (see .env.example):\n  " + "\n  ".join(lines) + "\n"
        "e.g. PUBLIC_BASE_URL=https://news.example.org; set DEMO_MODE=true only for a demo",
        code=2,
    )


def _links_from_serving_address(host: str, port: int) -> Settings:
    """With PUBLIC_BASE_URL unset in embedded mode, links use the address served on; the
    environment carries it to every part of this process (web, embedded worker)."""
    base_url = _url_of(host, port)
    os.environ["PUBLIC_BASE_URL"] = base_url
    get_settings.cache_clear()
    current = settings()
    # Commands run beside this server (issues send, ingest…) build the same links.
    current.DATA_DIR.mkdir(parents=True, exist_ok=True)
    served_base_url_file(current).write_text(base_url + "\n", encoding="utf-8")
    return current


def _load_demo(current: Settings) -> None:
    from distributor.cli.common import session_scope
    from distributor.services.demo import DEMO_LIST, load_demo

    with session_scope() as session:
        summary = load_demo(session, current)
    stories = len(summary.created) + len(summary.revised) + len(summary.unchanged)
    console.print(f"demo: {stories} stories, list '{DEMO_LIST}' with 3 readers")


def _print_banner(current: Settings, url: str, run_embedded: bool, base_url_set: bool) -> None:
    """Where to go and how to sign in (one line), then how this process runs (one line)."""
    from distributor.services.users import DEMO_EMAIL, DEMO_PASSWORD, demo_mode_on

    sign_in = (
        f" · sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
        if current.embedded and demo_mode_on(current)
        else ""
    )
    console.print(f"Distributor on {url}{sign_in}", highlight=False, soft_wrap=True)
    mode = "embedded worker + scheduler" if run_embedded else "web only"
    sender = (
        f"emails to {current.outbox_dir}"
        if current.sender_kind == "outbox"
        else f"sender: {current.sender_kind}"
    )
    origin = "" if base_url_set else " (PUBLIC_BASE_URL is not set: from --host/--port)"
    console.print(
        f"  {mode}; {sender}; links in emails and feeds use {current.PUBLIC_BASE_URL}{origin}",
        highlight=False,
        soft_wrap=True,
    )


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
        "default,send,feeds,webhooks,ingest", "--queues", "-Q", help="Queues to consume."
    ),
    concurrency: int = typer.Option(2, "--concurrency", "-c", help="Worker processes."),
    pool: str = typer.Option("prefork", "--pool", help="prefork, threads or solo."),
    metrics_port: int = typer.Option(
        0,
        "--metrics-port",
        help="Serve the pool's Prometheus figures on this internal port (0: off); needs "
        "PROMETHEUS_MULTIPROC_DIR in the environment.",
    ),
) -> None:
    """Run a Celery worker against REDIS_URL."""
    current = settings()
    if current.embedded:
        fail("REDIS_URL is not set: a separate worker needs Redis (use 'serve' for embedded)")
    require_deployment_settings(current, "worker")
    configure_logging(current)
    if metrics_port:
        from distributor.metrics import serve_pool_metrics

        try:
            serve_pool_metrics(metrics_port)
        except (RuntimeError, OSError) as exc:
            fail(f"cannot serve metrics on port {metrics_port}: {exc}", code=2)
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
