"""Partners and feeds: ``distributor partners create|list|show|update|rotate-key|log`` and
``distributor feed --format rss|atom|jsonfeed|ninjs [--partner NAME]``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from distributor.cli.common import JsonOption, console, emit, fail, session_scope, settings
from distributor.db.models import PartnerPush
from distributor.domain.partners import FeedFormat
from distributor.services.feeds.partners import partner_as_dict

ALL_FORMATS = tuple(feed_format.value for feed_format in FeedFormat)
# "rss, atom, jsonfeed or ninjs", for option help.
FORMAT_CHOICES = f"{', '.join(ALL_FORMATS[:-1])} or {ALL_FORMATS[-1]}"

partners_app = typer.Typer(help="Partner outlets that republish stories.", no_args_is_help=True)


def _checked_push_url(push_url: str | None) -> str | None:
    """``--push-url`` refused unless http(s) and public (see FETCH_ALLOWED_NETWORKS)."""
    from distributor.adapters.safe_http import AddressPolicy, UnsafeURLError, check_url

    if not push_url or not push_url.strip():
        return push_url
    try:
        return check_url(
            push_url,
            AddressPolicy.from_settings(settings()),
            what="--push-url",
        )
    except UnsafeURLError as exc:
        fail(str(exc))


def _push_dict(push: PartnerPush) -> dict[str, Any]:
    return {
        "id": push.id,
        "article_id": push.article_id,
        "revision": push.revision,
        "event": push.event,
        "status": push.status,
        "attempts": push.attempts,
        "last_status_code": push.last_status_code,
        "last_error": push.last_error,
        "next_attempt_at": push.next_attempt_at.isoformat() if push.next_attempt_at else None,
        "delivered_at": push.delivered_at.isoformat() if push.delivered_at else None,
        "created_at": push.created_at.isoformat() if push.created_at else None,
    }


def _feed_urls(formats: list[str]) -> dict[str, str]:
    from distributor.domain.partners import parse_feed_format
    from distributor.services.feeds import partner_path

    base = settings().PUBLIC_BASE_URL
    return {name: base + partner_path(parse_feed_format(name)) for name in formats}


FormatOption = typer.Option([], "--format", help=f"{FORMAT_CHOICES} (repeat; default all).")
SectionOption = typer.Option([], "--section", help="Only stories in this section (repeatable).")
TagOption = typer.Option([], "--tag", help="Only stories with this tag (repeatable).")
LanguageOption = typer.Option(
    [], "--language", help="Only stories in this language, e.g. en or zh."
)
TerritoryOption = typer.Option(
    None, "--territory", help="The partner's country (ISO 3166, e.g. GB)."
)
EmbargoOption = typer.Option(
    False, "--allow-embargoed", help="ninjs only: receive embargoed stories early as withheld."
)
NinjsOption = typer.Option("3.1", "--ninjs-version", help="3.1 (default) or 2.2.")
PushOption = typer.Option(None, "--push-url", help="Receive signed webhook pushes at this URL.")
AttributionOption = typer.Option(
    None,
    "--attribution",
    help="Attribution line; {publisher}, {url} and {title} are filled in. "
    "Default: 'First published by {publisher} — read the original at {url}'.",
)
RateOption = typer.Option(None, "--rate-limit", help="Requests per minute (default from settings).")


@partners_app.command("create")
def create_command(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: str = typer.Argument(..., help="Partner name (unique)."),
    formats: list[str] = FormatOption,
    sections: list[str] = SectionOption,
    tags: list[str] = TagOption,
    languages: list[str] = LanguageOption,
    territory: str | None = TerritoryOption,
    allow_embargoed: bool = EmbargoOption,
    ninjs_version: str = NinjsOption,
    push_url: str | None = PushOption,
    attribution: str | None = AttributionOption,
    rate_limit: int | None = RateOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a partner and print its API key ONCE (it is stored only as a hash)."""
    from distributor.services.feeds import PartnerError, PartnerSettings, create_partner

    push_url = _checked_push_url(push_url)
    values = PartnerSettings(
        formats=tuple(formats),
        sections=tuple(sections),
        tags=tuple(tags),
        languages=tuple(languages),
        territory=territory,
        allow_embargoed=allow_embargoed,
        ninjs_version=ninjs_version,
        push_url=push_url,
        attribution=attribution,
        rate_limit_per_minute=rate_limit,
    )
    try:
        with session_scope() as session:
            created = create_partner(session, name, values, datetime.now(UTC))
            data = partner_as_dict(created.partner)
    except PartnerError as exc:
        fail(str(exc))
    data["api_key"] = created.api_key.key
    data["push_secret"] = created.push_secret
    data["feeds"] = _feed_urls(data["formats"])

    def show(info: dict[str, Any]) -> None:
        console.print(f"created partner [bold]{info['name']}[/] (id {info['id']})", highlight=False)
        console.print(
            f"API key (shown once, store it now): [bold]{info['api_key']}[/]", highlight=False
        )
        if info["push_secret"]:
            console.print(
                f"push signing secret (shown once): [bold]{info['push_secret']}[/]", highlight=False
            )
        for feed_format, url in info["feeds"].items():
            console.print(
                f"  {feed_format:9} {url}  (header X-Api-Key)", highlight=False, soft_wrap=True
            )

    emit(data, as_json, show)


# Settings ``partners update --clear`` can empty, and the field each one names.
CLEARABLE = {
    "format": "formats",
    "section": "sections",
    "tag": "tags",
    "language": "languages",
    "territory": "territory",
    "push-url": "push_url",
    "attribution": "attribution",
    "rate-limit": "rate_limit_per_minute",
}
ClearOption = typer.Option(
    [], "--clear", help="Empty a setting (repeatable): " + ", ".join(CLEARABLE) + "."
)
EmbargoChangeOption = typer.Option(
    None,
    "--allow-embargoed/--no-allow-embargoed",
    help="ninjs only: receive embargoed stories early as withheld (or stop).",
)
NinjsChangeOption = typer.Option(None, "--ninjs-version", help="3.1 or 2.2.")


@partners_app.command("update")
def update_command(  # noqa: PLR0917 (Typer maps each parameter to a CLI option)
    name: str = typer.Argument(..., help="Partner name."),
    formats: list[str] = FormatOption,
    sections: list[str] = SectionOption,
    tags: list[str] = TagOption,
    languages: list[str] = LanguageOption,
    territory: str | None = TerritoryOption,
    allow_embargoed: bool | None = EmbargoChangeOption,
    ninjs_version: str | None = NinjsChangeOption,
    push_url: str | None = PushOption,
    attribution: str | None = AttributionOption,
    rate_limit: int | None = RateOption,
    clear: list[str] = ClearOption,
    as_json: bool = JsonOption,
) -> None:
    """Change the settings given; every other setting keeps its value (``--clear`` empties one)."""
    from distributor.services.feeds import PartnerError, PartnerSettings, change_partner

    push_url = _checked_push_url(push_url)
    given: dict[str, Any] = {
        "formats": tuple(formats) or None,
        "sections": tuple(sections) or None,
        "tags": tuple(tags) or None,
        "languages": tuple(languages) or None,
        "territory": territory,
        "allow_embargoed": allow_embargoed,
        "ninjs_version": ninjs_version,
        "push_url": push_url,
        "attribution": attribution,
        "rate_limit_per_minute": rate_limit,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    empty = PartnerSettings()
    for option in clear:
        field = CLEARABLE.get(option.strip().lower())
        if field is None:
            fail(f"--clear {option!r}: choose one of {', '.join(CLEARABLE)}")
        if field in changes:
            fail(f"--clear {option} and a new value for it were both given; choose one")
        changes[field] = getattr(empty, field)
    if not changes:
        fail("nothing to change: give at least one option (see --help)")
    try:
        with session_scope() as session:
            data = partner_as_dict(change_partner(session, name, changes))
    except PartnerError as exc:
        fail(str(exc))
    emit(data, as_json, f"updated partner {data['name']}; its feeds are rebuilt")


@partners_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """List partners (keys are shown by prefix only)."""
    from distributor.services.feeds import list_partners

    with session_scope() as session:
        rows = [partner_as_dict(partner) for partner in list_partners(session)]

    def show(data: list[dict[str, Any]]) -> None:
        table = Table("id", "name", "key", "formats", "selection", "territory", "push", "fetches")
        for row in data:
            selection = ", ".join(row["sections"] + row["tags"] + row["languages"]) or "everything"
            table.add_row(
                str(row["id"]),
                row["name"],
                f"dst_{row['api_key_prefix']}_…",
                ", ".join(row["formats"]),
                selection,
                row["territory"] or "",
                "yes" if row["push_url"] else "",
                str(row["fetch_count"]),
            )
        console.print(table)

    emit(rows, as_json, show)


@partners_app.command("show")
def show_command(name: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Show one partner's settings and feed URLs."""
    from distributor.services.feeds import PartnerError, find_partner

    try:
        with session_scope() as session:
            data = partner_as_dict(find_partner(session, name))
    except PartnerError as exc:
        fail(str(exc))
    data["feeds"] = _feed_urls(data["formats"])

    def show(info: dict[str, Any]) -> None:
        for field_name, value in info.items():
            console.print(f"{field_name:22} {value}", highlight=False, soft_wrap=True)

    emit(data, as_json, show)


@partners_app.command("rotate-key")
def rotate_key_command(name: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Issue a new API key (printed ONCE); the old key stops working within seconds."""
    from distributor.services.feeds import PartnerError, rotate_partner_key

    try:
        with session_scope() as session:
            issued = rotate_partner_key(session, name, datetime.now(UTC))
    except PartnerError as exc:
        fail(str(exc))
    emit(
        {"name": name, "api_key": issued.key, "api_key_prefix": issued.prefix},
        as_json,
        f"new API key for {name} (shown once, store it now): {issued.key}",
    )


@partners_app.command("log")
def log_command(
    name: str = typer.Argument(...),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """Show a partner's recent webhook pushes (the delivery log)."""
    from distributor.services.feeds import PartnerError, partner_push_log

    try:
        with session_scope() as session:
            rows = [_push_dict(push) for push in partner_push_log(session, name, limit)]
    except PartnerError as exc:
        fail(str(exc))

    def show(data: list[dict[str, Any]]) -> None:
        if not data:
            console.print(f"no pushes for {name} yet")
            return
        table = Table(
            "id", "article", "rev", "event", "status", "attempts", "HTTP", "error", "created"
        )
        for row in data:
            table.add_row(
                str(row["id"]),
                str(row["article_id"]),
                str(row["revision"]),
                row["event"],
                row["status"],
                str(row["attempts"]),
                str(row["last_status_code"] or ""),
                (row["last_error"] or "")[:60],
                row["created_at"] or "",
            )
        console.print(table)

    emit(rows, as_json, show)


def feed_command(
    format: str = typer.Option(..., "--format", help=f"{FORMAT_CHOICES}."),
    partner: str | None = typer.Option(None, "--partner", help="Render this partner's feed."),
) -> None:
    """Print the current feed document (rendered from the database now) on stdout."""
    from distributor.domain.partners import parse_feed_format
    from distributor.services.feeds import PartnerError, render_for

    try:
        feed_format = parse_feed_format(format)
    except ValueError as exc:
        fail(str(exc))
    try:
        with session_scope() as session:
            document = render_for(session, settings(), feed_format, partner, datetime.now(UTC))
    except PartnerError as exc:
        fail(str(exc))
    sys.stdout.buffer.write(document.body)
    sys.stdout.buffer.flush()
