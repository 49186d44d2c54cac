"""Security headers: the desk cannot be framed, pages carry a Content-Security-Policy,
nosniff and a Referrer-Policy, and the desk and the reader pages still work under them in a
real Chromium against a real ``distributor serve``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from distributor.db.session import engine_for, unit_of_work
from distributor.services.subscribers import create_list
from distributor.services.users import create_user
from distributor.web.app import create_app
from tests.conftest import make_settings
from tests.security.edge_server import Served, migrate, serve

EDITOR = ("headers.editor@example.org", "headers editor password 1")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def client(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, sqlite_url)
    with unit_of_work(settings.database_url) as db:
        create_list(db, "weekly", title="The Weekly")
    with TestClient(create_app(settings), base_url="https://testserver") as test_client:
        yield test_client


def test_desk_pages_forbid_framing_and_sniffing(client: TestClient) -> None:
    response = client.get("/login")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_every_answer_carries_the_headers(client: TestClient) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/static/desk.css"),
        client.get("/no/such/page"),
        client.get("/signup/weekly"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path", ["/preferences/not-a-token", "/unsubscribe/not-a-token", "/confirm/not-a-token"]
)
def test_token_pages_send_no_referrer(client: TestClient, path: str) -> None:
    assert client.get(path).headers["referrer-policy"] == "no-referrer"
    # Also when the edge answers before the page runs (here: a body over the form limit).
    refused = client.post(path, content=b"x" * 20_000)
    assert refused.status_code == 413
    assert refused.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


# ------------------------------------------------------------------------- in Chromium
@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = migrate(tmp_path / "var")
    with unit_of_work(url) as db:
        create_list(db, "weekly", title="The Weekly")
        create_user(db, EDITOR[0], EDITOR[1], name="Headers Editor", role="editor")
    engine_for(url).dispose()
    with serve(tmp_path) as running:
        yield running


@pytest.mark.browser
@pytest.mark.slow
def test_desk_and_reader_pages_work_under_the_policy_and_cannot_be_framed(
    served: Served, chromium_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base = served.base_url
    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    violations.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.on("pageerror", lambda error: violations.append(str(error)))

            # Reader page: its inline style sheet still applies.
            page.goto(f"{base}/signup/weekly")
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(246, 243, 238)"

            # Desk: sign in through the form, then the pages of every area.
            page.goto(f"{base}/login")
            page.fill("input[name=email]", EDITOR[0])
            page.fill("input[name=password]", EDITOR[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for path in ("/", "/issues", "/subscribers", "/lists", "/subscribers/import"):
                page.goto(f"{base}{path}")
                # desk.css applies (the top bar is a flex row)...
                assert (
                    page.evaluate("getComputedStyle(document.querySelector('.topbar')).display")
                    == "flex"
                ), path
            # The browser's own upload form passes the edge's session and token check.
            page.goto(f"{base}/subscribers/import")
            page.set_input_files(
                "input[name=file]",
                files=[
                    {
                        "name": "readers.csv",
                        "mimeType": "text/csv",
                        "buffer": b"email,name\nbrowser.reader@example.org,Browser Reader\n",
                    }
                ],
            )
            page.select_option("select[name=list_name]", "weekly")
            page.click("form[action='/subscribers/import'] button[type=submit]")
            page.wait_for_selector("#import-report")
            # ...and desk.js runs: a data-confirm form asks first.
            page.goto(f"{base}/suppressions")
            questions: list[str] = []

            def answer(dialog: object) -> None:
                questions.append(dialog.message)  # type: ignore[attr-defined]
                dialog.dismiss()  # type: ignore[attr-defined]

            page.on("dialog", answer)
            page.locator("form[data-confirm] input[name=email]").fill("someone@example.org")
            page.locator("form[data-confirm] button[type=submit]").click()
            assert questions == ["Allow this address to be mailed again?"]
            assert violations == []

            # Another site framing the desk gets nothing.
            framing = browser.new_page()
            framing.set_content(
                f'<iframe id="desk" src="{base}/login" width="600" height="400"></iframe>'
            )
            framing.wait_for_timeout(1500)
            framed = [frame for frame in framing.frames if frame != framing.main_frame]
            assert framed, "the iframe was not created"
            for frame in framed:
                assert not re.match(rf"{re.escape(base)}/login", frame.url) or (
                    frame.evaluate("document.querySelector('form[action=\"/login\"]') === null")
                ), "the desk sign-in form loaded inside another site's frame"
        finally:
            browser.close()
