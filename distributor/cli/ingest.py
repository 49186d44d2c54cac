"""Commands: ``ingest SOURCE [--source NAME]``, ``articles list|show``,
``sources add|list [--all]|poll|pause|resume|remove``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
sources_app = typer.Typer(help="Registered CMS feeds, polled on a schedule.", no_args_is_help=True)


def _print_outcome(data: dict[str, Any]) -> None:
    counts = f"{len(data['created'])} new, {len(data['revised'])} revised, "
    counts += f"{len(data['unchanged'])} unchanged"
    if data.get("not_modified"):
        counts = "not modified since the last fetch"
    console.print(f"{data['report']['source']}: {counts}", highlight=False, soft_wrap=True)
    for problem in data["report"]["problems"]:
        where = f", {problem['item']}" if problem["item"] else ""
        error_console.print(
            f"  {problem['severity']}{where}: {problem['reason']}", highlight=False, soft_wrap=True
        )


def ingest_command(
    source: str = typer.Argument(..., help="A feed URL, a feed file, or a JSON file of articles."),
    into: str | None = typer.Option(
        None,
        "--source",
        metavar="NAME",
        help="The source the articles belong to: a registered feed's name, id or URL, or the"
        " built-in 'api' or 'desk'. Default: the feed of that URL (recorded, not polled), or"
        " 'desk' for a file.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Take in articles from a feed (RSS/Atom, URL or file) or a JSON file of articles.

    A story is identified by its source and its GUID: the same GUID in another source is
    another story. Exits 0 when at least one article was taken in, 1 when nothing could be.
    """
    from distributor.adapters.feed_fetcher import FeedFetchError, HttpxFeedFetcher
    from distributor.ingest.report import NotAFeedError
    from distributor.services.ingest import (
        SourceError,
        add_source,
        find_source,
        ingest_document,
    )

    path = Path(source)
    try:
        if source.startswith(("http://", "https://")):
            fetcher = HttpxFeedFetcher.from_settings(settings())
            try:
                fetched = fetcher.fetch(source)
            finally:
                fetcher.close()
            data, base, content_type = fetched.body, fetched.url, fetched.content_type
        elif path.is_file():
            data, base, content_type = path.read_bytes(), None, None
        else:
            fail(f"{source}: no such file, and not an http(s) URL")
        with session_scope() as session:
            if into is not None:
                source_id: int | None = find_source(session, into).id
            elif base:
                source_id = add_source(session, source, poll=False).id
            else:
                source_id = None  # the desk
            outcome = ingest_document(
                session,
                data,
                source if base else path.name,
                base_url=base,
                content_type=content_type,
                source_id=source_id,
            )
    except (NotAFeedError, FeedFetchError, SourceError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{source}: {exc.strerror or exc}")
    emit(outcome.as_dict(), as_json, _print_outcome)
    if not outcome.ok:
        raise typer.Exit(1)


def _article_summary(article: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": article.id,
        "source_id": article.source_id,
        "guid": article.guid,
        "title": article.title,
        "url": article.canonical_url,
        "language": article.language,
        "byline": article.byline,
        "published_at": article.published_at,
        "revision": article.revision,
        "status": "embargoed" if article.is_embargoed(now) else str(article.status),
        "images": len(article.images),
        "images_without_credit": sum(1 for image in article.images if not image.credit),
        "authors_without_bio": [a.name for a in article.authors if not a.bio],
    }


@articles_app.command("list")
def list_articles(
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """List stored articles, newest first."""
    from distributor.services.ingest import list_articles as list_stored

    now = datetime.now(UTC)
    with session_scope() as session:
        rows = [_article_summary(a, now) for a in list_stored(session, limit=limit)]

    def human(items: list[dict[str, Any]]) -> None:
        if not items:
            console.print("No articles yet. Try: distributor ingest FEED")
        for item in items:
            flags = " [embargoed]" if item["status"] == "embargoed" else ""
            console.print(
                f"{item['id']:>5}  r{item['revision']}  {item['language']:<5} "
                f"{item['title'][:70]}{flags}",
                highlight=False,
            )

    emit(rows, as_json, human)


@articles_app.command("show")
def show_article(article_id: int, as_json: bool = JsonOption) -> None:
    """Show one article with its credits, bios and notes."""
    from distributor.services.ingest import get_article, snapshot_of

    with session_scope() as session:
        article = get_article(session, article_id)
    if article is None:
        fail(f"no article with id {article_id}")
    data = snapshot_of(article)

    def human(item: dict[str, Any]) -> None:
        console.print(f"[bold]{item['title']}[/]  (id {item['id']}, revision {item['revision']})")
        console.print(item["canonical_url"], highlight=False)
        for author in item["authors"]:
            console.print(
                f"  by {author['name']}"
                + (f": {author['bio']}" if author["bio"] else "  (no bio)"),
                highlight=False,
            )
        for image in item["images"]:
            console.print(
                f"  image {image['url']}\n    caption: {image['caption']}\n"
                f"    credit: {image['credit'] or '(none)'}",
                highlight=False,
            )
        for note in item["notes"]:
            console.print(f"  note: {note}", highlight=False)

    emit(data, as_json, human)


@sources_app.command("add")
def add_source(
    url: str,
    interval: int = typer.Option(900, "--interval", help="Seconds between polls (min 60)."),
    name: str = typer.Option("", help="A label for people."),
    as_json: bool = JsonOption,
) -> None:
    """Register a feed URL to poll (refused unless http(s) and public, see
    FETCH_ALLOW_PRIVATE_ADDRESSES)."""
    from distributor.adapters.safe_http import AddressPolicy, UnsafeURLError, check_url
    from distributor.services.ingest import SourceError
    from distributor.services.ingest import add_source as add

    try:
        url = check_url(url, AddressPolicy.from_settings(settings()), what="source URL")
    except UnsafeURLError as exc:
        fail(str(exc))
    try:
        with session_scope() as session:
            row = add(session, url, interval_seconds=interval, name=name)
            data = {"id": row.id, "url": row.url, "interval_seconds": row.interval_seconds}
    except SourceError as exc:
        fail(str(exc))
    emit(data, as_json, f"source {data['id']}: {data['url']} every {data['interval_seconds']} s")


@sources_app.command("list")
def list_sources(
    all_sources: bool = typer.Option(
        False, "--all", help="Also the built-in sources 'api' and 'desk' (once used)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List registered sources with their health."""
    from distributor.services.ingest import list_sources as list_rows
    from distributor.services.ingest import source_as_dict

    with session_scope() as session:
        rows = [source_as_dict(row) for row in list_rows(session, builtin=all_sources)]

    def human(items: list[dict[str, Any]]) -> None:
        if not items:
            console.print("No sources. Add one: distributor sources add URL")
        for item in items:
            if item["kind"] != "feed":
                console.print(
                    f"{item['id']:>4}  {'built-in':<12} {item['kind']:<5} {item['name']}",
                    highlight=False,
                )
                continue
            health = (
                f"failing x{item['consecutive_failures']}" if item["consecutive_failures"] else "ok"
            )
            if not item["active"]:
                health = "not polled"
            label = f"  ({item['name']})" if item["name"] else ""
            console.print(
                f"{item['id']:>4}  {health:<12} feed  {item['url']}{label}", highlight=False
            )

    emit(rows, as_json, human)


def _change_source(reference: str, action: str, as_json: bool) -> None:
    from distributor.services.ingest import SourceError
    from distributor.services.sources import pause_source, remove_source, resume_source

    try:
        with session_scope() as session:
            if action == "remove":
                data = {"url": remove_source(session, reference), "removed": True}
                message = f"removed {data['url']}"
            else:
                change = pause_source if action == "pause" else resume_source
                row = change(session, reference)
                data = {"id": row.id, "url": row.url, "active": row.active}
                message = (
                    f"source {row.id} paused: {row.url} is not polled until resumed"
                    if action == "pause"
                    else f"source {row.id} resumed: {row.url} is polled at the next tick"
                )
    except SourceError as exc:
        fail(str(exc))
    emit(data, as_json, message)


@sources_app.command("pause")
def pause_source(
    source: str = typer.Argument(..., help="The feed's id, URL or name."),
    as_json: bool = JsonOption,
) -> None:
    """Stop polling a feed until it is resumed (its stories and settings stay)."""
    _change_source(source, "pause", as_json)


@sources_app.command("resume")
def resume_source(
    source: str = typer.Argument(..., help="The feed's id, URL or name."),
    as_json: bool = JsonOption,
) -> None:
    """Poll a paused or failing feed again from now, its back-off forgotten."""
    _change_source(source, "resume", as_json)


@sources_app.command("remove")
def remove_source(
    source: str = typer.Argument(..., help="The feed's id, URL or name."),
    as_json: bool = JsonOption,
) -> None:
    """Forget a feed that brought no story (one that did can only be paused)."""
    _change_source(source, "remove", as_json)


@sources_app.command("poll")
def poll_sources(
    all_sources: bool = typer.Option(False, "--all", help="Poll every source, due or not."),
    as_json: bool = JsonOption,
) -> None:
    """Poll the sources that are due now (conditional GET)."""
    from distributor.adapters.feed_fetcher import HttpxFeedFetcher
    from distributor.services.ingest import ingest_source, list_sources, poll_due_sources

    fetcher = HttpxFeedFetcher.from_settings(settings())
    try:
        with session_scope() as session:
            if all_sources:
                outcomes = {
                    s.url: ingest_source(session, s, fetcher) for s in list_sources(session)
                }
            else:
                outcomes = poll_due_sources(session, fetcher)
            data = [outcome.as_dict() for outcome in outcomes.values()]
    finally:
        fetcher.close()

    def human(items: list[dict[str, Any]]) -> None:
        if not items:
            console.print("No source is due.")
        for item in items:
            _print_outcome(item)

    emit(data, as_json, human)
