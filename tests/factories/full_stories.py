"""Whole stories for the full layout: long bodies with 3 to 6 photos placed in the text, each
followed by its caption line ("<caption> Credit: <who>"), a subheading, a source-protection
note and an "About the author" block, in English and Chinese. Every word is invented.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from distributor.domain.articles import Article, Author, Image
from distributor.rendering.email import IssueContent

BASE = "https://harbour.example.org"

EN_PARAGRAPHS = (
    "The first boat of the morning leaves the harbour at 5.40, before the fish market opens, "
    "and the women who mend nets are already waiting on the steps.",
    "“We count the holes before we count the fish,” said Auntie Wen*, who has repaired nets "
    "on this quay for twenty-two years. A net costs 900 yuan (£98) new; mending one costs 40.",
    "The county announced in April that the quay would be paved for a tourist promenade. "
    "Nobody asked the menders where they would sit.",
    "Some of them moved under the road bridge, where the concrete is cold but dry. Others stay "
    "at home now and wait for the boats to bring the nets to their doors.",
    "Xu Lan*, the youngest of them at 51, keeps a list of every boat and every net. “If the "
    "list is lost, the harbour forgets who owes what,” she said.",
    "A petition on a local forum asking for a covered corner on the new promenade has "
    "collected 1,200 names — more than the harbour has fishermen.",
)

ZH_PARAGRAPHS = (
    "清晨五点四十分，第一条船驶离港口，鱼市还没开门，补网的阿姨们已经坐在台阶上等着了。",
    "“先数网上的洞，再数网里的鱼。”在这个码头补了二十二年网的文姨*说。一张新网要九百元，补一张只要四十元。",
    "四月，县里宣布码头要铺成观光步道。没有人问过补网的人以后坐在哪里。",
    "有些人搬到了公路桥下，水泥地很凉，但不淋雨。也有人干脆待在家里，等船把网送上门。",
    "五十一岁的许岚*是她们中最年轻的，她把每一条船、每一张网都记在本子上。“本子丢了，港口就忘了谁欠谁。”她说。",
    "本地论坛上有一份请愿书，要求在新步道上留一个有顶棚的角落，已经有一千二百人签名，比港口的渔民还多。",
)

EN_NOTE = "*Names have been changed to ensure the safety of sources."
ZH_NOTE = "*为保护消息来源的安全，文中人名均为化名。"
EN_HEADING = "What the promenade will cost"
ZH_HEADING = "步道的代价"


def _photo(language: str, story: int, number: int) -> Image:
    if language == "en":
        caption = f"Menders at work on the quay, story {story}, photo {number}, before the tide."
        credit = f"Harbour Light Collective {story}-{number}"
    else:
        caption = f"潮水来之前，补网人在码头干活，第{story}篇第{number}张照片。"
        credit = f"港湾光影合作社{story}-{number}"
    return Image(
        url=f"{BASE}/media/{language}-{story}-{number}.jpg",
        caption=caption,
        credit=credit,
        width=1600,
        height=1067,
        is_lead=number == 1,
    )


def _paragraph(language: str, story: int, index: int) -> str:
    texts = EN_PARAGRAPHS if language == "en" else ZH_PARAGRAPHS
    return f"{texts[index % len(texts)]} ({story}.{index + 1})"


def paragraph_count(story: int) -> int:
    """How many running-text paragraphs story number ``story`` has."""
    return 12 + story % 5


def story_paragraphs(language: str, story: int) -> list[str]:
    """The running-text paragraphs of :func:`full_story` ``story``, in order (the oracle)."""
    short = "en" if language == "en" else "zh"
    return [_paragraph(short, story, index) for index in range(paragraph_count(story))]


def _body(language: str, story: int, images: tuple[Image, ...]) -> str:
    paragraphs = paragraph_count(story)
    credit_word = "Credit: " if language == "en" else "图片来源："
    heading = EN_HEADING if language == "en" else ZH_HEADING
    bio_heading = "About the author" if language == "en" else "关于作者"
    parts = ['<div class="loading">Loading…</div>']
    photos = list(images)
    for index in range(paragraphs):
        if index == paragraphs // 2:
            parts.append(f"<h3>{escape(heading)}</h3>")
        parts.append(f"<p>{escape(_paragraph(language, story, index))}</p>")
        if index % 4 == 1 and photos:
            photo = photos.pop(0)
            if index % 8 == 1:
                parts.append(
                    f'<figure><img src="{photo.url}"><figcaption>{escape(photo.caption or "")} '
                    f"{credit_word}{escape(photo.credit or '')}</figcaption></figure>"
                )
            else:
                parts.append(f'<p><img src="{photo.url}"></p>')
                line = f"{photo.caption or ''} {credit_word}{photo.credit or ''}"
                parts.append(f"<p>{escape(line)}</p>")
    for photo in photos:
        parts.append(f'<p><img src="{photo.url}"></p>')
    note = EN_NOTE if language == "en" else ZH_NOTE
    parts.append(f"<p>{escape(note)}</p>")
    parts.append(f"<h3>{bio_heading}</h3><p>{escape(_bio(language, 0))}</p>")
    return "\n".join(parts)


def _bio(language: str, story: int) -> str:
    if language == "en":
        return (
            f"Iris Calder-{story} is a reporter based in Hong Kong who covers coastal towns "
            "and the people who work on the water. Her reporting has appeared in several "
            "regional magazines."
        )
    return (
        f"林晓雾{story}是常驻香港的记者，关注沿海小镇和在水上讨生活的人。"
        "她的报道曾刊登于多家区域性杂志。"
    )


def full_story(language: str = "en", story: int = 0, photos: int = 4) -> Article:
    """A whole story in ``language`` (``en`` or ``zh-Hans``) with ``photos`` photos (lead first)."""
    short = "en" if language == "en" else "zh"
    images = tuple(_photo(short, story, number) for number in range(1, photos + 1))
    title = (
        f"The net menders of the old harbour, story {story}, and the promenade that has no room"
        if short == "en"
        else f"老港口的补网人（第{story}篇），和一条容不下她们的步道"
    )
    author = Author(
        name=f"Iris Calder-{story}" if short == "en" else f"林晓雾{story}",
        bio=_bio(short, story),
        profile_url=f"{BASE}/authors/{short}-{story}",
    )
    return Article(
        guid=f"{BASE}/?p={short}-{story}",
        title=title,
        canonical_url=f"{BASE}/{short}/stories/{story}",
        body_html=_body(short, story, images),
        language=language,
        authors=(author,),
        images=images,
        notes=(EN_NOTE if short == "en" else ZH_NOTE,),
        published_at=datetime(2026, 11, 1 + story % 28, 9, 0, tzinfo=UTC),
        id=5000 + story if short == "en" else 6000 + story,
    )


def full_issue(count: int = 10, language: str = "en") -> IssueContent:
    """A full-layout issue of ``count`` whole stories with 3 to 6 photos each."""
    return IssueContent(
        subject="The harbour issue" if language == "en" else "港口特辑",
        preheader="",
        editor_note="Every story in full this week." if language == "en" else "本期全文刊登。",
        language=language,
        articles=tuple(full_story(language, story, 3 + story % 4) for story in range(count)),
        list_title="The Harbour Letter" if language == "en" else "港口通讯",
        issue_id=11,
        layout="full",
    )
