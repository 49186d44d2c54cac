"""Feed use cases: rebuild stored feed documents, look them up, manage partners, push.

Feeds are built when content changes (a task calls :func:`rebuild_feeds`) and stored as
``feed_documents`` rows, one per document key (see :mod:`.addresses`). The web app serves the
stored bytes; nothing is rendered per request.

One module per use case; this package re-exports their public names:

- ``addresses``  URL paths and storage keys of documents
- ``audiences``  the public and each partner: selection, policy, feed spec
- ``documents``  rendering an audience's current documents and archive pages
- ``storage``    rebuilding the stored documents after a change (:func:`rebuild_feeds`)
- ``websub``     pinging the hub for changed public feeds
- ``changes``    "this commit changed feeds": marks on the session, rebuild after commit
- ``freshness``  the periodic safety net: watermark, releases, partners never built
- ``serving``    stored documents, partner keys and fetch counts for the web app
- ``partners``   partner settings, keys, push log, on-demand render for the CLI
- ``pushes``     signed webhook pushes: claim, send, record, retry
"""

from __future__ import annotations

from distributor.services.feeds.addresses import (
    PUBLIC_KEY,
    document_key,
    partner_audience_key,
    partner_feed_format,
    partner_path,
    public_feed_format,
    public_path,
)
from distributor.services.feeds.audiences import (
    Audience,
    partner_audience,
    partner_formats,
    partner_selection,
    public_audience,
)
from distributor.services.feeds.changes import (
    FeedChanges,
    RebuildSender,
    has_feed_changes,
    partner_changed,
    rebuild_after_commit,
    send_rebuilds_with,
    take_feed_changes,
)
from distributor.services.feeds.documents import (
    BuiltDocument,
    audience_articles,
    build_documents,
    load_articles,
)
from distributor.services.feeds.freshness import (
    articles_released_since,
    feeds_are_stale,
    last_build_time,
    next_embargo_end,
    partners_never_built,
)
from distributor.services.feeds.partners import (
    CreatedPartner,
    PartnerError,
    PartnerSettings,
    change_partner,
    create_partner,
    find_partner,
    list_partners,
    partner_push_log,
    partner_settings,
    render_for,
    rotate_partner_key,
    update_partner,
    validate_partner_settings,
)
from distributor.services.feeds.pushes import (
    PUSH_LEASE,
    ClaimedPush,
    PushRunReport,
    claim_due_pushes,
    push_due_partners,
    record_push_result,
    skip_push,
)
from distributor.services.feeds.serving import (
    PartnerAccess,
    StoredFeed,
    authenticate_partner,
    load_feed_document,
    record_partner_fetches,
)
from distributor.services.feeds.storage import (
    RebuildReport,
    entity_tag,
    gzip_body,
    rebuild_feeds,
)
from distributor.services.feeds.websub import notify_hub

__all__ = [
    "PUBLIC_KEY",
    "PUSH_LEASE",
    "Audience",
    "BuiltDocument",
    "ClaimedPush",
    "CreatedPartner",
    "FeedChanges",
    "PartnerAccess",
    "PartnerError",
    "PartnerSettings",
    "PushRunReport",
    "RebuildReport",
    "RebuildSender",
    "StoredFeed",
    "articles_released_since",
    "audience_articles",
    "authenticate_partner",
    "build_documents",
    "change_partner",
    "claim_due_pushes",
    "create_partner",
    "document_key",
    "entity_tag",
    "feeds_are_stale",
    "find_partner",
    "gzip_body",
    "has_feed_changes",
    "last_build_time",
    "list_partners",
    "load_articles",
    "load_feed_document",
    "next_embargo_end",
    "notify_hub",
    "partner_audience",
    "partner_audience_key",
    "partner_changed",
    "partner_feed_format",
    "partner_formats",
    "partner_path",
    "partner_push_log",
    "partner_selection",
    "partner_settings",
    "partners_never_built",
    "public_audience",
    "public_feed_format",
    "public_path",
    "push_due_partners",
    "rebuild_after_commit",
    "rebuild_feeds",
    "record_partner_fetches",
    "record_push_result",
    "render_for",
    "rotate_partner_key",
    "send_rebuilds_with",
    "skip_push",
    "take_feed_changes",
    "update_partner",
    "validate_partner_settings",
]
