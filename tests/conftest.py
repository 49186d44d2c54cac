"""Shared fixtures: settings, databases (SQLite and the machine's PostgreSQL), Redis.

In CI (``CI=true``) a missing PostgreSQL, Redis or Chromium fails the test; locally it skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from distributor.config import Settings, get_settings, load_settings
from distributor.db.migrate import upgrade
from distributor.db.models import Base
from distributor.db.session import engine_for, session_factory
from tests.support.paths import REPO_ROOT, SHARED_DIR

ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

# Test runs never go through a proxy to reach their own loopback servers.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The corpus and the official schemas are test data every run needs: say so once.

    Services given a bare session (no settings) hash addresses with the process key: in tests
    that is the key of :func:`make_settings`'s fixed secret, as in every test app. Passwords
    are hashed with argon2id at small costs (the defaults cost a tenth of a second a hash).
    """
    from distributor.services.suppression import use_address_key
    from distributor.services.users import use_password_hasher

    use_address_key(load_settings({"SECRET_KEY": TEST_SECRET_KEY}))
    use_password_hasher(TEST_PASSWORD_HASHER)
    if not (SHARED_DIR / "schemas").is_dir() or not (SHARED_DIR / "corpus" / "feeds").is_dir():
        pytest.exit(
            f"test data not found at {SHARED_DIR} (schemas/ and corpus/feeds/): put the shared"
            " folder beside the project or point DISTRIBUTOR_SHARED_DIR at it",
            returncode=4,
        )


# Fixtures that reach each outside service; a test using one gets the service's marker, so
# ``-m "not postgres"`` (the fast lane, ``make test-fast``) leaves it out.
_SERVICE_FIXTURES = {
    "postgres": {"postgres_url", "_postgres_database"},
    "redis": {"redis_url", "private_redis"},
    "browser": {"chromium_path"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the services its fixtures use (a fixture parametrised over
    databases, such as ``database_url``, counts as PostgreSQL in its ``postgres`` run)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and any(
            isinstance(value, str) and value == "postgres" for value in callspec.params.values()
        ):
            fixtures.add("postgres_url")
        for marker, names in _SERVICE_FIXTURES.items():
            if fixtures & names:
                item.add_marker(marker)


def require_service(available: bool, what: str) -> None:
    """Skip locally, fail in CI, when a real service the test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"
# Still argon2id, at costs that take a millisecond instead of a tenth of a second.
TEST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def default_password_costs() -> Iterator[None]:
    """argon2-cffi's default costs for one test (one that compares how long checks take)."""
    from distributor.services.users import use_password_hasher

    use_password_hasher(PasswordHasher())
    try:
        yield
    finally:
        use_password_hasher(TEST_PASSWORD_HASHER)


def make_settings(tmp_path: Path, database_url: str = "", **overrides: str) -> Settings:
    """Settings for a test: everything under ``tmp_path``, a fixed secret, outbox sender."""
    environ = {
        "DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_BASE_URL": "https://news.example.org",
        "LOG_FORMAT": "text",
        # Test servers listen on 127.0.0.1; tests of the refusal turn this off.
        "FETCH_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    environ.update(overrides)
    return load_settings(environ)


# ------------------------------------------------------------------------------ databases
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    engine_for(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A freshly migrated SQLite database file for this test."""
    path = tmp_path / "distributor.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str | None]:
    host_ok = _port_open("127.0.0.1", 5432)
    if not host_ok:
        yield None
        return
    name = f"distributor_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(url: str) -> None:
    """Empty every table (PostgreSQL), restarting id sequences."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    # A thread a test started (a webhook delivery, a worker finishing a batch) can still hold a
    # row lock for a moment; TRUNCATE then deadlocks with it. Wait a little and try again.
    for attempt in range(5):
        try:
            with engine_for(url).begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))


@pytest.fixture
def postgres_url(_postgres_database: str | None) -> Iterator[str]:
    """The test PostgreSQL database (migrated once per run), emptied after each test."""
    require_service(_postgres_database is not None, "PostgreSQL on 127.0.0.1:5432")
    assert _postgres_database is not None
    truncate_all(_postgres_database)
    yield _postgres_database
    truncate_all(_postgres_database)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    """A session on ``database_url`` (SQLite and PostgreSQL in turn), rolled back after."""
    session = session_factory(database_url)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings on a fresh SQLite database under ``tmp_path``."""
    return make_settings(tmp_path, sqlite_url)


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session on the ``settings`` database; committed work stays for the test's life."""
    db = session_factory(settings.database_url)()
    try:
        yield db
    finally:
        db.rollback()
        db.close()


@pytest.fixture
def use_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[[Settings], Settings]:
    """Make ``get_settings()`` (CLI, tasks, web) return the given settings for this test."""

    def apply(chosen: Settings) -> Settings:
        for name in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in chosen.model_dump(exclude_none=True).items():
            monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()
        return get_settings()

    yield apply  # type: ignore[misc]
    get_settings.cache_clear()


# ---------------------------------------------------------------------------------- redis
@pytest.fixture
def redis_url() -> Iterator[str]:
    """The machine's Redis, on a database number of this test process's own, flushed."""
    import redis

    require_service(_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    db = 1 + os.getpid() % 15
    url = f"{REDIS_TEST_URL}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port (no persistence), restartable."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL of database 0 of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("private redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server (everything in memory is lost)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis server for fault-injection tests."""
    require_service(
        shutil.which("redis-server") is not None or Path("/usr/bin/redis-server").exists(),
        "redis-server binary",
    )
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


# -------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; required in CI."""
    require_service(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests write screenshots and other files for a person to look at."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR
