"""Caption lines split into caption and credit, for every house form we support."""

from __future__ import annotations

import pytest

from distributor.ingest.credits import (
    _COPYRIGHT_TRAIL,
    _PIPE,
    is_credit_line,
    split_caption,
)
from distributor.ingest.forms import ingest_forms


@pytest.mark.parametrize(
    ("line", "caption", "credit"),
    [
        ("Riders wait in the rain. Credit: Harbour Light Collective",
         "Riders wait in the rain.", "Harbour Light Collective"),
        ("Riders wait. Credits: A and B", "Riders wait.", "A and B"),
        ("A street at dusk. Photo: Jane Doe", "A street at dusk.", "Jane Doe"),
        ("A street at dusk. Photograph: Jane Doe/Getty Images", "A street at dusk.",
         "Jane Doe/Getty Images"),
        ("A street at dusk. Photo by Jane Doe", "A street at dusk.", "Jane Doe"),
        ("A street at dusk. Photos by Jane Doe.", "A street at dusk.", "Jane Doe"),
        ("A map of the district. Image: City Archive", "A map of the district.", "City Archive"),
        ("The old mill. Courtesy of the Miller family", "The old mill.",
         "Courtesy of the Miller family"),
        ("Protesters in the square. (Jane Doe/Getty Images)", "Protesters in the square.",
         "Jane Doe/Getty Images"),
        ("The summit opens. (AP Photo/Li Wei)", "The summit opens.", "AP Photo/Li Wei"),
        ("The harbour at night. © Tideline 2025", "The harbour at night.", "© Tideline 2025"),
        ("Village de conteneurs. Mars 2013, Aly Song, Reuters ©.",
         "Village de conteneurs. Mars 2013", "Aly Song, Reuters"),
        ("陈师傅量尺寸。图片来源：河岸影像小组", "陈师傅量尺寸。", "河岸影像小组"),
        ("纽扣按颜色排列。摄影：周晓", "纽扣按颜色排列。", "周晓"),
        ("终点站的调度室。图：何夕", "终点站的调度室。", "何夕"),
        ("夜色中的码头（图片来源：视觉中国）", "夜色中的码头", "视觉中国"),
        ("特来电母公司营收与毛利润 | 极客公园制图", "特来电母公司营收与毛利润", "极客公园制图"),
    ],
)  # fmt: skip
def test_split_caption_forms(line: str, caption: str, credit: str) -> None:
    parts = split_caption(line)
    assert parts.caption == caption
    assert parts.credit == credit


@pytest.mark.parametrize(
    "line",
    [
        "A quiet street in the old town after the rain",
        "地图：城市规划",  # "地图" (map) is not the credit label "图"
        "下载客户端，在工具-选项中开启 | 目前仅支持 Windows 7/8/10 系统，macOS 后续支持",
        # GeekPark: a body sentence ending in a parenthesis with version numbers.
        "下载客户端，就能使用。（目前仅支持 Windows 7/8/10 系统，macOS 版本后续会支持。）",
        "Prices fell again in 2020 (1/2)",
    ],
)
def test_lines_without_a_credit_stay_captions(line: str) -> None:
    parts = split_caption(line)
    assert parts.credit is None
    assert parts.caption == line


def test_empty_and_credit_only_lines() -> None:
    assert split_caption("   ").caption is None
    assert is_credit_line("Credit: Tideline Photo Collective")
    assert not is_credit_line("A harbour. Credit: Tideline")


@pytest.mark.parametrize(
    "line",
    [
        "A dock. Photo By Jane", "A dock. PHOTOS BY JANE DOE", "A dock (COURTESY OF THE PORT)",
        "A dock. (C) Port Authority", "A dock. COPYRIGHT Port", "A dock. CREDIT: Jane",
        "A dock (Reuters)", "Port Authority ©", "A dock | Port", "A dock. Photo bY Jane",
        "A dock. Courteſy of the port", "A dock. Copyrİght Port", "A dock. Copyrıght Port",
    ],
)  # fmt: skip
def test_lines_the_cheap_tests_let_through(line: str) -> None:
    forms = ingest_forms()
    patterns = (
        forms.credit_labelled,
        forms.credit_by,
        forms.credit_courtesy,
        forms.agency_paren,
        forms.copyright_lead,
    )
    matched = any(pattern.search(line) for pattern in (*patterns, _COPYRIGHT_TRAIL))
    assert matched or _PIPE.match(line), f"no pattern matches {line!r}: the example is wrong"
    assert split_caption(line).credit is not None
