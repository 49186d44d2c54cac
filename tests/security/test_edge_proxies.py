"""X-Forwarded-For is believed only from the proxies named in TRUSTED_PROXIES.

Against a real ``distributor serve``: the signup rate limit counts per client address, so a
forged header from an untrusted peer must not give each request a fresh address.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from distributor.db.session import engine_for, unit_of_work
from distributor.services.subscribers import create_list
from tests.security.edge_server import migrate, serve

pytestmark = pytest.mark.slow

LIMIT = 2


def _seed(tmp_path: Path) -> None:
    url = migrate(tmp_path / "var")
    with unit_of_work(url) as db:
        create_list(db, "weekly", title="The Weekly")
    engine_for(url).dispose()


def _signups(base_url: str, forwarded_for: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for number, address in enumerate(forwarded_for):
            response = client.post(
                "/signup/weekly",
                json={"email": f"reader{number}@example.org"},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


def test_only_trusted_proxies_name_the_client(tmp_path: Path) -> None:
    forged = [f"198.51.100.{n}" for n in range(1, 6)]
    _seed(tmp_path / "default")
    with serve(tmp_path / "default", SIGNUP_RATE_LIMIT_PER_HOUR=str(LIMIT)) as served:
        untrusted = _signups(served.base_url, forged)
    # By default no proxy is trusted: all five come from 127.0.0.1, whatever they claim,
    # and the limit applies after two.
    assert untrusted == [200, 200, 429, 429, 429]

    _seed(tmp_path / "proxied")
    with serve(
        tmp_path / "proxied",
        SIGNUP_RATE_LIMIT_PER_HOUR=str(LIMIT),
        TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1",
    ) as served:
        distinct = _signups(served.base_url, forged)
        same = _signups(served.base_url, ["203.0.113.9"] * 3)
        # The proxy appends the peer it saw; an address the client put first is not believed.
        chained = _signups(served.base_url, [f"192.0.2.{n}, 203.0.113.10" for n in range(1, 4)])
    assert distinct == [200] * 5
    assert same == [200, 200, 429]
    assert chained == [200, 200, 429]
