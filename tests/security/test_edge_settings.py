"""Unusable settings are refused at start, naming the variable, in one line (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distributor.config import ConfigurationError, load_settings
from tests.conftest import REPO_ROOT, free_port

BAD_VALUES = [
    ("SECRET_KEY", "a"),
    ("SECRET_KEY", "short-key-1234"),
    ("MAIL_FROM", "news@x.example\r\nBcc: victim@example.org"),
    ("MAIL_FROM", "News <news@x.example>"),
    ("MAIL_FROM_NAME", "News\r\nBcc: victim@example.org"),
    ("MAIL_REPLY_TO", "reply@x.example\r\nX-Evil: 1"),
    ("PUBLIC_BASE_URL", 'http://x.example/"><script>alert(1)</script>'),
    ("PUBLISHER_URL", 'http://x/"onmouseover=alert(1)'),
    ("BRAND_PRIMARY_COLOR", "red;}</style><script>alert(1)</script>"),
    ("BRAND_TEXT_COLOR", "#12345"),
    ("BRAND_BACKGROUND_COLOR", "url(javascript:alert(1))"),
    ("BRAND_FONT_STACK", "Georgia;} body{display:none"),
    ("BRAND_LOGO_URL", "javascript:alert(1)"),
    ("BRAND_LOGO_URL", 'https://cdn.example/logo.png" onerror="alert(1)'),
    ("SENDGRID_WEBHOOK_PUBLIC_KEY", "notbase64"),
    ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_a_bad_value_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({variable: value})
    message = str(refused.value)
    assert message.startswith(f"bad configuration: {variable}: ")
    assert "\n" not in message


def test_good_values_are_accepted() -> None:
    settings = load_settings(
        {
            "SECRET_KEY": "x" * 40,
            "MAIL_FROM": "news@magazine.example.org",
            "MAIL_FROM_NAME": "The Magazine 週報",
            "BRAND_PRIMARY_COLOR": "#0a0",
            "BRAND_TEXT_COLOR": "black",
            "BRAND_FONT_STACK": "'Noto Serif CJK SC', \"Songti SC\", serif",
            "BRAND_LOGO_URL": "https://cdn.example.org/logo.png?v=2",
            "TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12, ::1",
        }
    )
    assert settings.trusted_proxies == ["10.0.0.1", "172.16.0.0/12", "::1"]


def test_serve_refuses_a_short_secret_key_in_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL"}}
    env.update({"DATA_DIR": str(tmp_path / "var"), "SECRET_KEY": "a", "COLUMNS": "200"})
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "distributor.cli.main", "serve", "--port", str(free_port())],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started with SECRET_KEY=a instead of refusing it")
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error: bad configuration: SECRET_KEY: ")
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "var" / "distributor.db").exists()
