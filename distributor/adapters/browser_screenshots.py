"""Headless Chromium (through Playwright) to look at an email the way a reader's client would.

Used by ``distributor render`` for screenshots and by the layout tests: it loads the HTML at a
given viewport width, measures horizontal overflow and image boxes, records every request
the page makes, and optionally writes a full-page PNG.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Route

DEFAULT_CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")
DESKTOP_WIDTH = 800
MOBILE_WIDTH = 375
_VIEWPORT_HEIGHT = 900
# Sub-pixel layout can put an edge a fraction of a pixel past the viewport.
_TOLERANCE_PX = 0.5

_MEASURE = """
() => {
  const root = document.documentElement;
  const images = Array.from(document.images).map((img) => {
    const box = img.getBoundingClientRect();
    return {src: img.getAttribute('src') || '', left: box.left, right: box.right,
            width: box.width, height: box.height};
  });
  return {
    scrollWidth: Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0),
    clientWidth: root.clientWidth,
    images: images,
  };
}
"""


class BrowserUnavailableError(RuntimeError):
    """Chromium or Playwright is not installed where expected."""


@dataclass(frozen=True)
class ImageBox:
    """Where an <img> ended up on the page (CSS pixels)."""

    src: str
    left: float
    right: float
    width: float
    height: float


@dataclass(frozen=True)
class ViewportReport:
    """What the page looked like at one viewport width."""

    width: int
    scroll_width: int
    client_width: int
    images: tuple[ImageBox, ...]
    requested_urls: tuple[str, ...]
    screenshot: Path | None

    @property
    def scrolls_horizontally(self) -> bool:
        """True when the content is wider than the viewport."""
        return self.scroll_width > self.client_width

    @property
    def overflowing_images(self) -> tuple[ImageBox, ...]:
        """Images that stick out of the viewport on either side."""
        limit = self.client_width + _TOLERANCE_PX
        return tuple(
            image for image in self.images if image.right > limit or image.left < -_TOLERANCE_PX
        )


def chromium_available(chromium: Path = DEFAULT_CHROMIUM) -> bool:
    """True when the Chromium binary exists and Playwright can be imported."""
    if not chromium.exists():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def screenshot_name(width: int) -> str:
    """``mobile-375.png`` for phone widths, ``desktop-800.png`` otherwise."""
    kind = "mobile" if width < 600 else "desktop"
    return f"{kind}-{width}.png"


def _request_handler(
    requested: list[str], image_body: bytes | None, image_content_type: str
) -> Callable[[Route], None]:
    """Record every request; serve or pass images; refuse everything else (fonts, scripts)."""

    def handle(route: Route) -> None:
        request = route.request
        requested.append(request.url)
        if request.resource_type != "image":
            route.abort()
        elif image_body is not None:
            route.fulfill(status=200, body=image_body, content_type=image_content_type)
        else:
            route.continue_()

    return handle


def render_in_chromium(
    html: str,
    widths: Sequence[int] = (DESKTOP_WIDTH, MOBILE_WIDTH),
    *,
    screenshot_dir: Path | None = None,
    chromium: Path = DEFAULT_CHROMIUM,
    image_body: bytes | None = None,
    image_content_type: str = "image/png",
    timeout_ms: int = 15_000,
) -> list[ViewportReport]:
    """Load ``html`` at each width; measure it and (with ``screenshot_dir``) screenshot it.

    With ``image_body``, every image request is answered with those bytes and every other
    request is refused, so the page is rendered without any network. Without it, images are
    fetched from their real URLs and everything else is still refused. Either way, every URL
    the page asked for is reported in ``requested_urls``.
    """
    if not chromium.exists():
        raise BrowserUnavailableError(f"Chromium was not found at {chromium}")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailableError("the 'playwright' package is not installed") from exc

    if screenshot_dir is not None:
        screenshot_dir.mkdir(parents=True, exist_ok=True)
    reports: list[ViewportReport] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            for width in widths:
                requested: list[str] = []
                handle = _request_handler(requested, image_body, image_content_type)

                context = browser.new_context(
                    viewport={"width": width, "height": _VIEWPORT_HEIGHT},
                    java_script_enabled=True,
                    service_workers="block",
                )
                try:
                    page = context.new_page()
                    page.route("**/*", handle)
                    # A slow image must not stop the measurement.
                    with contextlib.suppress(PlaywrightError):
                        page.set_content(html, wait_until="load", timeout=timeout_ms)
                    measured: dict[str, Any] = page.evaluate(_MEASURE)
                    shot: Path | None = None
                    if screenshot_dir is not None:
                        shot = screenshot_dir / screenshot_name(width)
                        page.screenshot(path=str(shot), full_page=True)
                finally:
                    context.close()
                reports.append(
                    ViewportReport(
                        width=width,
                        scroll_width=int(measured["scrollWidth"]),
                        client_width=int(measured["clientWidth"]),
                        images=tuple(
                            ImageBox(
                                src=str(item["src"]),
                                left=float(item["left"]),
                                right=float(item["right"]),
                                width=float(item["width"]),
                                height=float(item["height"]),
                            )
                            for item in measured["images"]
                        ),
                        requested_urls=tuple(requested),
                        screenshot=shot,
                    )
                )
        finally:
            browser.close()
    return reports
