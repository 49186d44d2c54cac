"""Telling the WebSub hub that public feeds changed."""

from __future__ import annotations

from collections.abc import Sequence

from distributor.adapters.websub import WebSubPublisher
from distributor.config import Settings


def notify_hub(
    settings: Settings, publisher: WebSubPublisher, topic_urls: Sequence[str]
) -> list[str]:
    """Ping the WebSub hub for changed public feeds (call after commit). No hub: no-op."""
    if not settings.WEBSUB_HUB_URL or not topic_urls:
        return []
    return publisher.publish(settings.WEBSUB_HUB_URL, sorted(set(topic_urls)))
