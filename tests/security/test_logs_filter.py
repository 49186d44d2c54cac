"""The redaction filter on log records of every shape our code, uvicorn and Celery produce."""

from __future__ import annotations

import logging

import pytest

from distributor.logging_setup import RedactPersonalData

READER = "reader.at.risk@example.org"


def test_the_filter_redacts_records_of_any_shape(caplog: pytest.LogCaptureFixture) -> None:
    redactor = RedactPersonalData()
    logger = logging.getLogger("distributor.test.redaction")
    caplog.handler.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger="distributor.test.redaction"):
            logger.info("sent to %s@%s", "reader", "example.org")
            logger.info(
                '%s - "%s %s HTTP/%s" %d',
                "127.0.0.1:5000",
                "GET",
                "/unsubscribe/AQ2QOpuRsecret",
                "1.1",
                200,
            )
            logger.info("extra", extra={"email": READER})
            try:
                raise ValueError(f"no such user <{READER}>")
            except ValueError:
                logger.exception("failed")
    finally:
        caplog.handler.removeFilter(redactor)
    output = caplog.text + "".join(str(vars(record)) for record in caplog.records)
    assert "reader@example.org" not in output
    assert READER not in output
    assert "AQ2QOpuRsecret" not in output
    assert "/unsubscribe/[token]" in caplog.text
