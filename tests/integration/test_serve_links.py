"""Every link works: ``distributor serve --port P`` with PUBLIC_BASE_URL unset builds every link
from the address it serves on (a real server process), and a scaled-out process refuses to start
without PUBLIC_BASE_URL."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port
from tests.support.serve_process import running_serve

# Exhaustive or process-spawning: left out of `make test-fast`.
pytestmark = pytest.mark.slow


def _environment(tmp_path: Path) -> dict[str, str]:
    """The process environment without any Distributor setting, then a private DATA_DIR."""
    from distributor.config import Settings

    env = {key: value for key, value in os.environ.items() if key not in Settings.model_fields}
    env.update(
        {
            "DATA_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "serve-links-secret-0123456789abcdef",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
            "SCHEDULER_TICK_SECONDS": "1",
        }
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distributor.cli.main", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A real ``distributor serve --demo --port P`` (embedded), PUBLIC_BASE_URL unset."""
    env = _environment(tmp_path)
    assert _cli(env, "db", "upgrade").returncode == 0
    created = _cli(env, "lists", "create", "letters", "--opt-in", "double")
    assert created.returncode == 0, created.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with running_serve(["--demo"], env, port, log, stop=signal.SIGINT):
        yield f"http://127.0.0.1:{port}", env, log


def _wait_for_mail(
    outbox: Path, seen: set[Path], seconds: float = 30, pattern: str = "*.eml"
) -> list[Path]:
    """New messages matching ``pattern``; the desk's notifications only when asked for."""

    def new_messages() -> list[Path]:
        found = set(outbox.glob(pattern)) - seen if outbox.is_dir() else set()
        if not pattern.startswith("desk-notification-"):
            found = {path for path in found if not path.name.startswith("desk-notification-")}
        return sorted(found)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if new_messages():
            time.sleep(0.5)  # let a batch finish writing
            return new_messages()
        time.sleep(0.2)
    pytest.fail(f"no new email in {outbox} within {seconds} s")


def _links(path: Path) -> tuple[email.message.EmailMessage, set[str]]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    found: set[str] = set()
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found.update(re.findall(r"https?://[^\s\"'<>]+", part.get_content()))
    for header in ("List-Unsubscribe",):
        found.update(re.findall(r"https?://[^\s\"'<>,]+", str(message.get(header, ""))))
    return message, found


def test_links_in_emails_and_feeds_use_the_port_served_on(
    served: tuple[str, dict[str, str], Path], tmp_path: Path
) -> None:
    base, env, log = served
    outbox = tmp_path / "var" / "outbox"
    assert f"links in emails and feeds use {base}" in log.read_text()

    # Feed self links (public, then a new partner's).
    deadline = time.monotonic() + 30
    while (response := httpx.get(f"{base}/feeds/public.rss")).status_code != 200:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)
    feed = feedparser.parse(response.content)
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [f"{base}/feeds/public.rss"]
    partner = _cli(env, "partners", "create", "Harbour Times")
    assert partner.returncode == 0, partner.stderr
    key = re.search(r"dst_[A-Za-z0-9_-]+", partner.stdout)
    assert key, partner.stdout
    assert f"{base}/partners/feed/rss" in partner.stdout
    partner_feed = httpx.get(f"{base}/partners/feed/atom", headers={"X-Api-Key": key.group()})
    assert partner_feed.status_code == 200, partner_feed.text
    atom_self = [
        link.href
        for link in feedparser.parse(partner_feed.content).feed.links
        if link.rel == "self"
    ]
    assert atom_self == [f"{base}/partners/feed/atom"]

    # The confirmation email of a signup, sent by the server's embedded worker.
    seen: set[Path] = set()
    signup = httpx.post(f"{base}/signup/letters", data={"email": "new.reader@example.org"})
    assert signup.status_code == 200, signup.text
    confirmation = _wait_for_mail(outbox, seen)
    seen.update(confirmation)
    _message, links = _links(confirmation[0])
    assert any(link.startswith(f"{base}/confirm/") for link in links), links
    assert all(link.startswith(base) for link in links if "/confirm/" in link)

    # An issue sent by a command run beside the server: unsubscribe (and one-click),
    # preferences and the web archive all point at the server.
    stories = json.loads(_cli(env, "articles", "list", "--json").stdout)
    open_story = next(story for story in stories if story["status"] != "embargoed")
    created = _cli(
        env,
        "issues",
        "create",
        "--list",
        "weekly",
        "--subject",
        "Links",
        "--article",
        str(open_story["id"]),
    )
    assert created.returncode == 0, created.stderr
    sent = _cli(env, "issues", "send", created.stdout.strip(), "--now", "--yes")
    assert sent.returncode == 0, sent.stderr
    issue_mail = _wait_for_mail(outbox, seen)
    message, links = _links(issue_mail[0])
    unsubscribe_header = str(message["List-Unsubscribe"])
    assert f"<{base}/unsubscribe/" in unsubscribe_header
    ours = [link for link in links if "/unsubscribe/" in link or "/preferences/" in link]
    ours += [link for link in links if "/archive/" in link]
    assert any("/preferences/" in link for link in ours), links
    assert any("/archive/" in link for link in ours), links
    assert all(link.startswith(f"{base}/") for link in ours), ours
    # The desk's "issue sent" email links the issue on the same server.
    notice = _wait_for_mail(outbox, seen, pattern="desk-notification-*.eml")
    _notice, notice_links = _links(notice[0])
    assert any(link.startswith(f"{base}/issues/") for link in notice_links), notice_links
    assert not any(":8000" in link for link in links), links
    for link in ours:
        assert httpx.get(link).status_code == 200, link


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0", "--no-embedded"], ["worker"]], ids=["web", "worker"]
)
def test_scaled_out_processes_refuse_to_start_without_public_base_url(
    tmp_path: Path, command: list[str]
) -> None:
    env = _environment(tmp_path)
    env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    refused = _cli(env, *command)
    assert refused.returncode == 2
    assert "PUBLIC_BASE_URL is not set" in refused.stderr
    assert "REDIS_URL is set" in refused.stderr


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0", "--no-embedded"], ["worker"]], ids=["web", "worker"]
)
def test_scaled_out_processes_refuse_the_demo_publisher_and_sender(
    tmp_path: Path, command: list[str]
) -> None:
    """Production mail must not go out as the demo magazine: each missing setting is named."""
    env = _environment(tmp_path)
    env.update(REDIS_URL="redis://127.0.0.1:6379/15", PUBLIC_BASE_URL="https://news.example.org")
    refused = _cli(env, *command)
    assert refused.returncode == 2
    for name in ("MAIL_FROM", "PUBLISHER_NAME", "PUBLISHER_ADDRESS"):
        assert f"{name} is not set" in refused.stderr
    assert "PUBLIC_BASE_URL is not set" not in refused.stderr
    assert "SECRET_KEY is not set" not in refused.stderr
    env.pop("SECRET_KEY")
    env.update(MAIL_FROM="news@news.example.org", PUBLISHER_NAME="The Example Review")
    refused = _cli(env, *command)
    assert refused.returncode == 2
    assert "SECRET_KEY is not set" in refused.stderr
    assert "PUBLISHER_ADDRESS is not set" in refused.stderr
    assert "MAIL_FROM is not set" not in refused.stderr
