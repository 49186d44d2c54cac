"""``distributor render ISSUE --out DIR``: the email as files, plus screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from distributor.cli.common import JsonOption, console, emit, fail, session_scope, settings


def render_command(
    issue: Annotated[int, typer.Argument(help="The issue id.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    as_json: bool = JsonOption,
) -> None:
    """Render an issue's HTML, text and screenshots into a folder.

    Writes issue.html and issue.txt exactly as sent (with the -placeholders- that are filled
    per recipient), preview.html (a sample subscriber's copy) and, when Chromium is installed,
    desktop-800.png and mobile-375.png.
    """
    from distributor.adapters.browser_screenshots import (
        DEFAULT_CHROMIUM,
        BrowserUnavailableError,
        chromium_available,
        render_in_chromium,
    )
    from distributor.rendering.email import BrandingError, EmailRenderError
    from distributor.services.rendering import IssueNotFoundError, preview_issue

    config = settings()
    try:
        with session_scope() as session:
            preview = preview_issue(session, config, issue)
    except IssueNotFoundError as exc:
        fail(f"{exc}. List issues with 'distributor issues list'.")
    except EmailRenderError as exc:
        fail(f"issue {issue} cannot be rendered: {exc}")
    except BrandingError as exc:
        fail(f"the house style settings are unusable: {exc}", code=2)

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "issue.html": preview.rendered.html,
        "issue.txt": preview.rendered.text,
        "preview.html": preview.html,
    }
    for name, body in files.items():
        (out / name).write_text(body, encoding="utf-8")

    result: dict[str, Any] = {
        "issue_id": issue,
        "html_bytes": preview.rendered.html_bytes,
        "text_bytes": len(preview.rendered.text.encode("utf-8")),
        "budget": preview.budget_bytes,
        "over_budget": preview.rendered.over_budget,
        "warning": preview.warning,
        "files": [str(out / name) for name in files],
        "screenshots": [],
        "layout": [],
        "screenshot_note": None,
    }
    if chromium_available():
        try:
            reports = render_in_chromium(preview.html, screenshot_dir=out)
        except BrowserUnavailableError as exc:
            result["screenshot_note"] = f"screenshots skipped: {exc}"
        else:
            for report in reports:
                result["screenshots"].append(str(report.screenshot))
                result["layout"].append(
                    {
                        "width": report.width,
                        "scrolls_horizontally": report.scrolls_horizontally,
                        "overflowing_images": [image.src for image in report.overflowing_images],
                    }
                )
    else:
        result["screenshot_note"] = (
            f"screenshots skipped: Chromium was not found at {DEFAULT_CHROMIUM} "
            "(install the 'chromium' package or set CHROMIUM_PATH)"
        )

    emit(result, as_json, _print_summary)


def _print_summary(result: dict[str, Any]) -> None:
    size = f"{result['html_bytes'] / 1000:.1f} KB of HTML (budget {result['budget'] / 1000:.0f} KB)"
    console.print(f"Issue {result['issue_id']}: {size}", highlight=False)
    if result["warning"]:
        console.print(f"[bold yellow]warning:[/] {result['warning']}", highlight=False)
    for path in result["files"] + result["screenshots"]:
        console.print(f"  wrote {path}", highlight=False)
    for layout in result["layout"]:
        if layout["scrolls_horizontally"] or layout["overflowing_images"]:
            console.print(
                f"[bold yellow]warning:[/] at {layout['width']} px the email is wider than "
                f"the screen (images: {', '.join(layout['overflowing_images']) or 'none'})",
                highlight=False,
            )
    if result["screenshot_note"]:
        console.print(result["screenshot_note"], highlight=False)
