"""Provider webhooks: SendGrid's Signed Event Webhook.

Every request must carry a valid ECDSA signature over ``timestamp + raw body`` made with the
key whose public half is ``SENDGRID_WEBHOOK_PUBLIC_KEY``, and a timestamp no older than
``SENDGRID_WEBHOOK_MAX_AGE_SECONDS``. Without a configured key every post is refused (503):
unsigned events would let anyone unsubscribe or suppress readers.

Events are recorded before the answer (stored once by ``sg_event_id``), so a 2xx means they
are safe; on any error SendGrid retries, and the duplicates it sends are counted once.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from distributor.adapters.sendgrid_webhook import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookRejected,
    load_public_key,
    parse_events,
    provider_events,
    verify_signature,
)
from distributor.config import Settings
from distributor.db.session import unit_of_work
from distributor.domain.provider_events import ProviderEventPost
from distributor.services.provider_events import record_provider_events

log = logging.getLogger("distributor.web.webhooks")

router = APIRouter(tags=["webhooks"])


@lru_cache(maxsize=4)
def _public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    return load_public_key(encoded)


def _reject(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


def _record(settings: Settings, post: ProviderEventPost) -> dict[str, Any]:
    with unit_of_work(settings.database_url) as session:
        return record_provider_events(session, post, soft_bounce_limit=settings.SOFT_BOUNCE_LIMIT)


@router.post("/webhooks/sendgrid")
async def sendgrid_events(request: Request) -> JSONResponse:
    """Verify, then record a batch of SendGrid events (de-duplicated by ``sg_event_id``)."""
    settings: Settings = request.app.state.settings
    if not settings.SENDGRID_WEBHOOK_PUBLIC_KEY:
        log.error("SendGrid event refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
        return _reject(503, "event webhook verification is not configured")
    try:
        public_key = _public_key(settings.SENDGRID_WEBHOOK_PUBLIC_KEY)
    except ValueError as exc:
        log.error("SendGrid event refused: %s", exc)
        return _reject(503, "event webhook verification is misconfigured")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _reject(413, "body too large")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _reject(413, "body too large")
    try:
        verify_signature(
            public_key,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            body,
            max_age_seconds=settings.SENDGRID_WEBHOOK_MAX_AGE_SECONDS,
        )
        post = provider_events(parse_events(body))
    except WebhookRejected as exc:
        log.warning("SendGrid event post refused: %s", exc.message)
        return _reject(exc.status_code, exc.message)
    summary = await run_in_threadpool(_record, settings, post)
    return JSONResponse(summary)
