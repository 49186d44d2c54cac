"""Oversized request bodies are refused while they arrive, against a real ``distributor serve``.

Each attack streams hundreds of megabytes over a real socket. The server must answer (413,
or 403 for an upload without a signed-in session and its CSRF token) long before the body
ends, while its memory and its temporary folder stay small.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from distributor.db.session import engine_for, unit_of_work
from distributor.domain.links import MANAGE_PURPOSE
from distributor.domain.tokens import make_token
from distributor.services.subscribers import add_subscriber, create_list
from distributor.services.users import create_user
from tests.security.edge_server import SECRET, Served, migrate, serve, stream_post
from tests.support.webhook_signing import EventSigner

pytestmark = pytest.mark.slow

EDITOR = ("edge.editor@example.org", "edge editor password 1")
ATTACK_BYTES = 400 * 1024 * 1024
# Nothing close to the attack may be read: the limits are 16 kB (forms) and 1 MB (import).
MOST_SENT_BYTES = 48 * 1024 * 1024
MOST_MEMORY_GROWTH = 96 * 1024 * 1024
IMPORT_LIMIT = 1024 * 1024


@dataclass
class Site:
    """The served app and what the attacks need from it."""

    served: Served
    baseline_rss: int
    manage_token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp_path = tmp_path_factory.mktemp("edge-body")
    url = migrate(tmp_path / "var")
    with unit_of_work(url) as db:
        mailing_list = create_list(db, "weekly", title="The Weekly")
        subscription = add_subscriber(db, "reader@example.org", "weekly", confirmed=True)
        create_user(db, EDITOR[0], EDITOR[1], name="Edge Editor", role="editor")
        token = make_token(SECRET, MANAGE_PURPOSE, subscription.subscriber_id, mailing_list.id)
    engine_for(url).dispose()
    with serve(
        tmp_path,
        IMPORT_MAX_BYTES=str(IMPORT_LIMIT),
        SIGNUP_RATE_LIMIT_PER_HOUR="1000",
        SENDGRID_WEBHOOK_PUBLIC_KEY=EventSigner().public_key_b64,
    ) as served:
        # Warm the app up (templates, ORM) so the baseline is the working size.
        httpx.get(f"{served.base_url}/signup/weekly", timeout=10)
        httpx.get(f"{served.base_url}/login", timeout=10)
        yield Site(served, served.peak_rss_bytes(), token)


class TempFolderWatcher:
    """Samples the total size of the server's temporary folder (where uploads spool)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for root, _dirs, files in os.walk(self.folder):
                for name in files:
                    with contextlib.suppress(FileNotFoundError):
                        total += os.stat(os.path.join(root, name)).st_size
            self.largest = max(self.largest, total)
            time.sleep(0.01)

    def __enter__(self) -> TempFolderWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _assert_small_footprint(site: Site) -> None:
    growth = site.served.peak_rss_bytes() - site.baseline_rss
    assert growth < MOST_MEMORY_GROWTH, f"server memory grew by {growth / 2**20:.0f} MB"


def _signed_in(site: Site) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=site.served.base_url, timeout=10, follow_redirects=True)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": token.group(1)},
    )
    assert response.status_code == 200, response.text
    import_page = client.get("/subscribers/import").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', import_page)
    assert csrf
    return client, csrf.group(1)


def _cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


@pytest.mark.parametrize("form_type", ["application/x-www-form-urlencoded", "application/json"])
def test_streamed_signup_body_is_cut_early(site: Site, form_type: str) -> None:
    result = stream_post(
        site.served.port,
        "/signup/weekly",
        total_bytes=ATTACK_BYTES,
        headers={"Content-Type": form_type},
    )
    assert result.status == 413, result
    assert b"larger than this address accepts" in result.body
    assert result.sent < MOST_SENT_BYTES
    _assert_small_footprint(site)


def test_streamed_preferences_body_is_cut_early(site: Site) -> None:
    result = stream_post(
        site.served.port,
        f"/preferences/{site.manage_token}",
        total_bytes=ATTACK_BYTES,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status == 413, result
    assert result.sent < MOST_SENT_BYTES
    _assert_small_footprint(site)


def test_streamed_webhook_body_is_cut_at_its_limit(site: Site) -> None:
    # Chunked, so no Content-Length to check: the bytes are counted as they arrive.
    result = stream_post(
        site.served.port,
        "/webhooks/sendgrid",
        total_bytes=ATTACK_BYTES,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": "c2lnbmF0dXJl",
            "X-Twilio-Email-Event-Webhook-Timestamp": "1700000000",
        },
    )
    assert result.status == 413, result
    assert result.sent < MOST_SENT_BYTES
    _assert_small_footprint(site)


def test_declared_oversized_body_is_refused_before_it_is_sent(site: Site) -> None:
    result = stream_post(
        site.served.port,
        "/signup/weekly",
        total_bytes=ATTACK_BYTES,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        declare_length=True,
    )
    assert result.status == 413, result
    assert result.sent < MOST_SENT_BYTES
    _assert_small_footprint(site)


def _multipart_file_first(boundary: str) -> bytes:
    return (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="readers.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        "email\r\n"
    ).encode("ascii")


def test_anonymous_upload_is_refused_before_it_is_spooled(site: Site) -> None:
    boundary = "edgeboundary0123456789"
    with TempFolderWatcher(site.served.tmpdir) as watcher:
        result = stream_post(
            site.served.port,
            "/subscribers/import",
            total_bytes=ATTACK_BYTES,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            prefix=_multipart_file_first(boundary),
        )
    assert result.sent < MOST_SENT_BYTES
    assert watcher.largest < IMPORT_LIMIT, f"{watcher.largest} bytes spooled to disk"
    assert result.status == 403, result
    assert b"Sign in" in result.body
    _assert_small_footprint(site)


def test_upload_without_the_csrf_token_is_refused_before_the_file(site: Site) -> None:
    client, _csrf = _signed_in(site)
    boundary = "edgeboundary0123456789"
    with closing(client), TempFolderWatcher(site.served.tmpdir) as watcher:
        result = stream_post(
            site.served.port,
            "/subscribers/import",
            total_bytes=ATTACK_BYTES,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": _cookie_header(client),
            },
            prefix=_multipart_file_first(boundary),
        )
    assert result.status == 403, result
    assert b"security token" in result.body
    assert result.sent < MOST_SENT_BYTES
    assert watcher.largest < IMPORT_LIMIT, f"{watcher.largest} bytes spooled to disk"


def test_signed_in_upload_stops_at_the_import_limit(site: Site) -> None:
    client, csrf = _signed_in(site)
    # A file within the limit is imported as before.
    rows = "email,name\n" + "".join(f"edge.reader{n}@example.org,Reader {n}\n" for n in range(50))
    imported = client.post(
        "/subscribers/import",
        data={"csrf_token": csrf, "list_name": "weekly"},
        files={"file": ("readers.csv", rows.encode(), "text/csv")},
    )
    assert imported.status_code == 200, imported.text
    assert 'id="import-report"' in imported.text
    boundary = "edgeboundary0123456789"
    prefix = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{csrf}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="list_name"\r\n\r\n'
        "weekly\r\n"
    ).encode("ascii") + _multipart_file_first(boundary)
    with closing(client), TempFolderWatcher(site.served.tmpdir) as watcher:
        result = stream_post(
            site.served.port,
            "/subscribers/import",
            total_bytes=ATTACK_BYTES,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": _cookie_header(client),
                "Accept": "text/html",
            },
            prefix=prefix,
        )
    assert result.status == 413, result
    assert b"larger than this address accepts" in result.body
    assert result.sent < MOST_SENT_BYTES
    assert watcher.largest < 4 * IMPORT_LIMIT, f"{watcher.largest} bytes spooled to disk"
    _assert_small_footprint(site)
