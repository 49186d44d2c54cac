"""The desk's dates, sizes, report figures and status words in the desk's language; English
keeps the forms the desk always showed."""

from __future__ import annotations

from datetime import UTC, datetime

from distributor.i18n import use_language
from distributor.web.templating import format_bytes, format_datetime, report_rows, status_label

MOMENT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def test_english_dates_sizes_and_figures_are_unchanged() -> None:
    assert format_datetime(MOMENT, "Asia/Taipei") == "2026-12-06 17:30 CST"
    assert format_datetime(MOMENT, "Asia/Taipei", language="en") == "2026-12-06 17:30 CST"
    assert format_datetime(None) == "—"
    with use_language("en"):
        assert format_bytes(45_678) == "45.7 kB"
        assert format_bytes(999) == "999 B"
        assert report_rows({"recipients": 1200, "complaint_rate": 0.0012, "status": "sent"}) == [
            ("Recipients", "1200"),
            ("Complaint rate", "0.1%"),
        ]
        assert status_label("partially_failed") == "partially failed"


def test_dates_follow_the_desk_language_with_the_zone_kept() -> None:
    assert format_datetime(MOMENT, "Europe/Paris", language="fr") == "6 déc. 2026 10:30 CET"
    assert (
        format_datetime(MOMENT, "Asia/Taipei", language="zh-Hant") == "2026年12月6日 下午5:30 CST"
    )
    assert format_datetime(MOMENT, "UTC", language="es") == "6 dic 2026 9:30 UTC"
    assert "دسامبر" in format_datetime(MOMENT, "UTC", language="fa")


def test_sizes_figures_and_statuses_follow_the_desk_language() -> None:
    with use_language("fr"):
        assert format_bytes(45_678) == "45,7 kB"
        assert report_rows({"recipients": 1200, "complaint_rate": 0.0012}) == [
            ("Destinataires", "1\u202f200"),
            ("Taux de plaintes", "0,1\u00a0%"),
        ]
        assert status_label("partially_failed") == "partiellement en échec"
    with use_language("es"):
        assert report_rows({"delivered": 1200}) == [("Entregados", "1.200")]
    with use_language("zh-Hant"):
        assert status_label("scheduled") == "已排程"
        assert status_label("held") == "已暫緩"
