from __future__ import annotations

from pathlib import Path

import pytest

from distributor.config import ConfigurationError, load_settings


def test_embedded_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    assert settings.embedded
    assert settings.broker_url == "memory://localhost//"
    assert settings.sender_kind == "outbox"
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/distributor.db"
    assert settings.outbox_dir == tmp_path / "outbox"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    first = settings.secret_key()
    assert len(first) >= 40
    assert load_settings({"DATA_DIR": str(tmp_path)}).secret_key() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_explicit_services_are_chosen(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://u@db:5432/d",
            "REDIS_URL": "redis://cache:6379/0",
            "SENDGRID_API_KEY": "SG.x",
            "SMTP_URL": "smtp://mail:25",
        }
    )
    assert not settings.embedded
    assert settings.database_url == "postgresql+psycopg://u@db:5432/d"
    assert settings.sender_kind == "sendgrid"
    assert load_settings({"SMTP_URL": "smtp+starttls://m:587"}).sender_kind == "smtp"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://not-redis"),
        ("SMTP_URL", "ftp://mail"),
        ("PUBLIC_BASE_URL", "news.example.org"),
        ("MAIL_FROM", "not-an-address"),
        ("SEND_BATCH_SIZE", "5000"),
        ("SCHEDULER_TICK_SECONDS", "soon"),
    ],
)
def test_bad_configuration_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({variable: value})
    assert variable in str(info.value)


def test_mail_backend_names_the_sender(tmp_path: Path) -> None:
    both = {"DATA_DIR": str(tmp_path), "SENDGRID_API_KEY": "SG.x", "SMTP_URL": "smtp://mail:25"}
    assert load_settings({**both, "MAIL_BACKEND": "smtp"}).sender_kind == "smtp"
    assert load_settings({**both, "MAIL_BACKEND": " Outbox "}).sender_kind == "outbox"
    assert load_settings({**both, "MAIL_BACKEND": ""}).sender_kind == "sendgrid"  # today's rule
    assert load_settings({**both, "MAIL_BACKEND": "sendgrid"}).sender_kind == "sendgrid"


def test_mail_backend_builds_the_named_sender(tmp_path: Path) -> None:
    from distributor.adapters.email_base import MAIL_BACKENDS, email_sender_for
    from distributor.adapters.outbox import OutboxEmailSender
    from distributor.adapters.smtp import SmtpEmailSender

    assert set(MAIL_BACKENDS) == {"sendgrid", "smtp", "outbox"}
    base = {"DATA_DIR": str(tmp_path), "SMTP_URL": "smtp://mail:25"}
    assert isinstance(email_sender_for(load_settings(base)), SmtpEmailSender)
    chosen = email_sender_for(load_settings({**base, "MAIL_BACKEND": "outbox"}))
    assert isinstance(chosen, OutboxEmailSender)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"MAIL_BACKEND": "sendgrid"},
            "MAIL_BACKEND: MAIL_BACKEND=sendgrid needs SENDGRID_API_KEY",
        ),
        ({"MAIL_BACKEND": "smtp", "SENDGRID_API_KEY": "SG.x"}, "needs SMTP_URL"),
        ({"MAIL_BACKEND": "postmark"}, "unknown mail backend 'postmark': use one of outbox,"),
    ],
)
def test_mail_backend_is_refused_at_start(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(environ)
    assert "MAIL_BACKEND" in str(info.value)
    assert expected in str(info.value)


def test_the_sender_is_the_publication_unless_named(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path), "PUBLISHER_NAME": "The Harbour Post"})
    assert settings.MAIL_FROM_NAME == "The Harbour Post"
    named = load_settings({"DATA_DIR": str(tmp_path), "MAIL_FROM_NAME": "Harbour Desk"})
    assert named.MAIL_FROM_NAME == "Harbour Desk"


def test_newsroom_timezone_is_an_iana_zone(tmp_path: Path) -> None:
    assert load_settings({"DATA_DIR": str(tmp_path)}).NEWSROOM_TIMEZONE == "UTC"
    taipei = load_settings({"DATA_DIR": str(tmp_path), "NEWSROOM_TIMEZONE": "Asia/Taipei"})
    assert taipei.NEWSROOM_TIMEZONE == "Asia/Taipei"
    for wrong in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ConfigurationError, match="NEWSROOM_TIMEZONE"):
            load_settings({"DATA_DIR": str(tmp_path), "NEWSROOM_TIMEZONE": wrong})


def test_a_deployment_must_name_its_publisher_sender_key_and_address() -> None:
    from distributor.config import DEPLOYMENT_REQUIRED

    complete = {
        "SECRET_KEY": "k" * 32,
        "PUBLIC_BASE_URL": "https://news.example.org",
        "MAIL_FROM": "news@news.example.org",
        "PUBLISHER_NAME": "The Example Review",
        "PUBLISHER_ADDRESS": "2 Example Road, Hong Kong",
    }
    assert set(complete) == set(DEPLOYMENT_REQUIRED)
    assert load_settings(complete).missing_for_deployment() == []
    for name in complete:
        given = {key: value for key, value in complete.items() if key != name}
        assert [found for found, _why in load_settings(given).missing_for_deployment()] == [name]
    blank = {**complete, "PUBLISHER_ADDRESS": "  "}
    assert [n for n, _ in load_settings(blank).missing_for_deployment()] == ["PUBLISHER_ADDRESS"]
    # A demo needs only working links.
    assert [n for n, _ in load_settings({"DEMO_MODE": "true"}).missing_for_deployment()] == [
        "PUBLIC_BASE_URL"
    ]
