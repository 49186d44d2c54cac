from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from distributor.domain.articles import Article, Author, Image
from distributor.domain.issues import ScheduleError, parse_schedule, resolve_send_time
from distributor.domain.subscribers import AddressHasher, address_digest, normalise_email


def _article(**changes: object) -> Article:
    base = Article(
        guid="urn:test:1",
        title="Title",
        canonical_url="https://magazine.example.org/stories/1",
        authors=(Author("Lin Qiao", bio="Writes on labour."), Author("Sam Hart")),
        images=(Image("https://img.example.org/a.jpg", caption="A rally.", credit="Collective"),),
    )
    return base.__class__(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def test_byline_joins_names() -> None:
    assert _article().byline == "Lin Qiao and Sam Hart"
    three = _article(authors=(Author("A"), Author("B"), Author("C")))
    assert three.byline == "A, B and C"
    assert _article(authors=()).byline == ""


def test_lead_image_prefers_marked_one() -> None:
    first = Image("https://img.example.org/1.jpg")
    lead = Image("https://img.example.org/2.jpg", is_lead=True)
    assert _article(images=(first, lead)).lead_image == lead
    assert _article(images=(first,)).lead_image == first
    assert _article(images=()).lead_image is None


def test_alt_text_falls_back_to_caption() -> None:
    assert Image("u", alt="Explicit", caption="Cap").alt_text == "Explicit"
    assert Image("u", caption="Cap").alt_text == "Cap"
    assert Image("u").alt_text == ""


def test_content_hash_ignores_bookkeeping_but_sees_edits() -> None:
    original = _article()
    assert _article(id=7, revision=3, source_id=2).content_hash() == original.content_hash()
    assert _article(title="Edited").content_hash() != original.content_hash()
    assert _article(notes=("Names have been changed.",)).content_hash() != original.content_hash()


def test_embargo() -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert _article(embargo_until=now + timedelta(hours=1)).is_embargoed(now)
    assert not _article(embargo_until=now - timedelta(seconds=1)).is_embargoed(now)
    assert not _article().is_embargoed(now)


def test_schedule_in_london_winter_and_summer() -> None:
    winter = resolve_send_time(datetime(2026, 12, 1, 8, 0), "Europe/London")
    summer = resolve_send_time(datetime(2026, 7, 1, 8, 0), "Europe/London")
    assert winter == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert summer == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_parse_schedule_forms() -> None:
    assert parse_schedule("2026-12-01T08:00+01:00") == (datetime(2026, 12, 1, 7, tzinfo=UTC), "UTC")
    assert parse_schedule("2026-12-01T08:00", "Asia/Shanghai")[0] == datetime(
        2026, 12, 1, 0, tzinfo=UTC
    )
    with pytest.raises(ScheduleError, match="ISO-8601"):
        parse_schedule("tomorrow at eight")
    with pytest.raises(ScheduleError, match="unknown time zone"):
        parse_schedule("2026-12-01T08:00", "Mars/Olympus")


def test_email_hash_is_case_insensitive() -> None:
    email_hash = AddressHasher(b"k" * 32)
    assert normalise_email("  Reader@Example.ORG ") == "reader@example.org"
    assert email_hash("Reader@Example.org") == email_hash("reader@example.org ")
    assert email_hash("a@example.org") != email_hash("b@example.org")


def test_the_address_hash_is_keyed_and_not_the_plain_digest() -> None:
    first, second = AddressHasher(b"a" * 32), AddressHasher(b"b" * 32)
    assert first("reader@example.org") != second("reader@example.org")
    assert first("reader@example.org") != address_digest("reader@example.org")
    # What migration 0010 relies on: the keyed hash is computed from the old stored digest.
    assert first.of_digest(address_digest("reader@example.org")) == first("reader@example.org")
    # It is plain HMAC-SHA256 (RFC 2104), whatever shortcut computes it.
    expected = hmac.new(b"a" * 32, address_digest("reader@example.org").encode(), "sha256")
    assert first(" Reader@Example.org") == expected.hexdigest()
    inner, outer = first.hmac_pads()
    digest = address_digest("reader@example.org").encode()
    by_pads = hashlib.sha256(outer + hashlib.sha256(inner + digest).digest()).hexdigest()
    assert by_pads == expected.hexdigest()
