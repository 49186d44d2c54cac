"""Fixed words of the newsletter ("Continue reading", "Unsubscribe"...) per language (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from distributor.domain.languages import (
    LanguageTagError,
    normalise_language_tag,
    primary_language,
    script_of,
)

_RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ku"})


@dataclass(frozen=True, slots=True)
class EmailLabels:
    """Words the email template needs, in one language."""

    by: str
    continue_reading: str
    credit: str
    about_the_author: str
    from_the_editor: str
    greeting_before: str  # the greeting is before + first name + after
    greeting_after: str
    fallback_first_name: str
    why_received: str  # "{list}" and "{publisher}" are filled in
    unsubscribe: str
    manage_preferences: str
    view_in_browser: str
    name_separator: str
    colon: str  # between a label and its value ("Unsubscribe: URL")
    last_name_separator: str
    italic_notes: bool


ENGLISH = EmailLabels(
    by="By ",
    continue_reading="Continue reading",
    credit="Credit: ",
    about_the_author="About the author",
    from_the_editor="From the editor",
    greeting_before="Dear ",
    greeting_after=",",
    fallback_first_name="reader",
    why_received="You are receiving this email because you subscribed to {list} from {publisher}.",
    unsubscribe="Unsubscribe",
    manage_preferences="Manage preferences",
    view_in_browser="View in browser",
    name_separator=", ",
    colon=": ",
    last_name_separator=" and ",
    italic_notes=True,
)

SIMPLIFIED_CHINESE = EmailLabels(
    by="作者：",
    continue_reading="继续阅读",
    credit="图片来源：",
    about_the_author="关于作者",
    from_the_editor="编者按",
    greeting_before="亲爱的",
    greeting_after="：",
    fallback_first_name="读者",
    why_received="您收到这封邮件，是因为您订阅了{publisher}的《{list}》。",
    unsubscribe="退订",
    manage_preferences="管理订阅设置",
    view_in_browser="在浏览器中查看",
    name_separator="、",
    colon="：",
    last_name_separator="和",
    italic_notes=False,
)

TRADITIONAL_CHINESE = EmailLabels(
    by="作者：",
    continue_reading="繼續閱讀",
    credit="圖片來源：",
    about_the_author="關於作者",
    from_the_editor="編者按",
    greeting_before="親愛的",
    greeting_after="：",
    fallback_first_name="讀者",
    why_received="您收到這封郵件，是因為您訂閱了{publisher}的《{list}》。",
    unsubscribe="退訂",
    manage_preferences="管理訂閱設定",
    view_in_browser="在瀏覽器中查看",
    name_separator="、",
    colon="：",
    last_name_separator="和",
    italic_notes=False,
)


def check_language_tag(language: str) -> str:
    """``language`` as canonical BCP 47 (``zh-hans`` -> ``zh-Hans``), else ValueError."""
    try:
        return normalise_language_tag(language or "")
    except LanguageTagError as error:
        raise ValueError(
            f"language must be a BCP 47 tag such as 'en' or 'zh-Hans' (got {language!r}): {error}"
        ) from None


def primary_subtag(language: str) -> str:
    """The language part of a tag, lower-cased (``zh-Hans`` -> ``zh``)."""
    return primary_language(language)


def text_direction(language: str) -> str:
    """``rtl`` for right-to-left scripts, else ``ltr``."""
    return "rtl" if primary_subtag(language) in _RIGHT_TO_LEFT else "ltr"


def labels_for(language: str) -> EmailLabels:
    """Labels for ``language``; unknown languages get English."""
    if primary_subtag(language) != "zh":
        return ENGLISH
    # The script given or likely: zh-Hant, zh-TW, zh-HK and zh-MO are all Traditional.
    return TRADITIONAL_CHINESE if script_of(language) == "Hant" else SIMPLIFIED_CHINESE


def join_names(names: list[str], labels: EmailLabels) -> str:
    """Names joined for a byline ("A, B and C" / "甲、乙和丙")."""
    if len(names) <= 1:
        return "".join(names)
    return labels.name_separator.join(names[:-1]) + labels.last_name_separator + names[-1]
