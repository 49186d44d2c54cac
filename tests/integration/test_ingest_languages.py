"""Stories in every shipped language, read by the feed pipeline: the caption's credit is split
off, the byline gives the authors, the bio leaves the body for its author, the note is
recognised, whatever language the story is in (and whatever its channel says it is in).

Each story is shaped as newsroom CMSs publish them (SEED-STORY: a byline at the top, quotes,
a photo with its caption line after it, a figure, a names-changed note, an author bio at the
end), in the story's own language and typography.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import pytest

from distributor.domain.articles import Article
from distributor.domain.text import normalise_space
from distributor.ingest.pipeline import parse_feed

BASE = "https://fixture.example.org/"


@dataclass(frozen=True)
class Story:
    language: str  # as the channel declares it
    title: str
    byline: str  # the block at the top
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]
    caption_line: str  # the paragraph after the first photo
    caption: str
    credit: str
    figure_caption: str  # the second photo's figcaption
    figure_credit: str
    note: str
    bio_heading: str
    bio: str

    def body(self) -> str:
        first, *rest = self.paragraphs
        return (
            f"<p>{self.byline}</p><p>{first}</p>"
            f'<p><img src="/media/{self.language}-1.jpg" width="1200"></p>'
            f"<p>{self.caption_line}</p>"
            + "".join(f"<p>{p}</p>" for p in rest)
            + f'<figure><img src="/media/{self.language}-2.jpg">'
            f"<figcaption>{self.figure_caption}</figcaption></figure>"
            f"<p>{self.note}</p><h3>{self.bio_heading}</h3><p>{self.bio}</p>"
        )


STORIES: dict[str, Story] = {
    "en": Story(
        language="en",
        title="After the storm, the harbour wakes early",
        byline="BY ROSA WHITCOMBE",
        authors=("Rosa Whitcombe",),
        paragraphs=(
            "Three days after the storm, the first boats left the harbour at Newlyn.",
            "“We lost a third of the season,” says Tom Penrose*, who has fished here for twenty "
            "years.",
        ),
        caption_line="Trawlers moored at the north quay at dawn. Photo: Imran Qadir",
        caption="Trawlers moored at the north quay at dawn.",
        credit="Imran Qadir",
        figure_caption="The fish market before the auction. Photograph by Ellen Hart",
        figure_credit="Ellen Hart",
        note="*Names have been changed to protect the sources.",
        bio_heading="About the author",
        bio="Rosa Whitcombe is a journalist based in Cornwall who covers fishing and the coast.",
    ),
    "zh-Hans": Story(
        language="zh-CN",
        title="台风过后，渔港的清晨",
        byline="文｜许清和",
        authors=("许清和",),
        paragraphs=(
            "台风离开后的第三天，舟山沈家门渔港的渔船陆续出海。",
            "船长陈建国*说，今年的渔获比去年少了三成，“油钱都快赚不回来了”。",
        ),
        caption_line="清晨的沈家门渔港，渔民在整理渔网。摄影：罗一舟",
        caption="清晨的沈家门渔港，渔民在整理渔网。",
        credit="罗一舟",
        figure_caption="水产市场的拍卖。图片来源：新华社",
        figure_credit="新华社",
        note="*应受访者要求，文中人名均为化名。",
        bio_heading="作者简介",
        bio="许清和，常驻宁波的记者，关注海洋渔业与劳动者。",
    ),
    "zh-Hant": Story(
        language="zh-TW",
        title="颱風過後，漁港的早晨",
        byline="文／林怡君",
        authors=("林怡君",),
        paragraphs=(
            "颱風離開後的第三天，基隆八斗子漁港的漁船陸續出海。",
            "船長陳建宏*說，今年的漁獲比去年少了三成，「油錢都快賺不回來了」。",
        ),
        caption_line="清晨的八斗子漁港，漁民正在整理漁網。攝影：王小明",
        caption="清晨的八斗子漁港，漁民正在整理漁網。",
        credit="王小明",
        figure_caption="崁仔頂魚市的清晨拍賣。圖片來源：中央社",
        figure_credit="中央社",
        note="*應受訪者要求，文中人名皆為化名。",
        bio_heading="關於作者",
        bio="林怡君，自由撰稿人，長期關注台灣漁業與海洋議題。",
    ),
    "es": Story(
        language="es",
        title="Después de la tormenta, el puerto despierta temprano",
        byline="Por Lucía Fernández",
        authors=("Lucía Fernández",),
        paragraphs=(
            "Tres días después del temporal, los primeros barcos salieron del puerto de Burela.",
            "«Hemos perdido un tercio de la temporada», dice Ramón*, que faena aquí desde hace "
            "veinte años.",
        ),
        caption_line="Pesqueros amarrados en el muelle norte al amanecer. Foto: Ana Ruiz",
        caption="Pesqueros amarrados en el muelle norte al amanecer.",
        credit="Ana Ruiz",
        figure_caption="La lonja antes de la subasta. Foto de Marcos Ibáñez",
        figure_credit="Marcos Ibáñez",
        note="*Los nombres han sido cambiados para proteger a las fuentes.",
        bio_heading="Sobre la autora",
        bio="Lucía Fernández es periodista en Lugo y escribe sobre pesca y medio ambiente.",
    ),
    "fr": Story(
        language="fr",
        title="Après la tempête, le port se réveille tôt",
        byline="Par Camille Durand",
        authors=("Camille Durand",),
        paragraphs=(
            "Trois jours après la tempête, les premiers chalutiers ont quitté le port de Sète.",
            "« On a perdu un tiers de la saison », confie Julien*, pêcheur depuis vingt ans.",
        ),
        caption_line="Les chalutiers amarrés au quai de la Marine, à l’aube. "
        "Crédit photo\u00a0: Léa Martin",
        caption="Les chalutiers amarrés au quai de la Marine, à l’aube.",
        credit="Léa Martin",
        figure_caption="La criée avant la vente. Photo de Marc Lefèvre",
        figure_credit="Marc Lefèvre",
        note="*Le prénom a été modifié.",
        bio_heading="À propos de l’autrice",
        bio="Camille Durand est journaliste indépendante à Montpellier. Elle couvre la pêche "
        "et le littoral.",
    ),
    "ar": Story(
        language="ar",
        title="بعد العاصفة، يستيقظ الميناء باكرًا",
        byline="بقلم سارة المنصوري",
        authors=("سارة المنصوري",),
        paragraphs=(
            "بعد ثلاثة أيام من العاصفة، غادرت أولى قوارب الصيد ميناء الإسكندرية.",
            "يقول أحمد*، وهو صياد منذ عشرين عامًا: «خسرنا ثلث الموسم».",
        ),
        caption_line="قوارب الصيد راسية في الرصيف الشمالي عند الفجر. تصوير: محمد عادل",
        caption="قوارب الصيد راسية في الرصيف الشمالي عند الفجر.",
        credit="محمد عادل",
        figure_caption="سوق السمك قبل المزاد، بعدسة ليلى حسن",
        figure_credit="ليلى حسن",
        note="*تم تغيير الأسماء لحماية المصادر.",
        bio_heading="عن الكاتبة",
        bio="سارة المنصوري صحفية مستقلة مقيمة في الإسكندرية، تكتب عن البيئة والعمل.",
    ),
    "fa": Story(
        language="fa",
        title="پس از توفان، بندر زود بیدار می‌شود",
        byline="نوشته‌ی مریم احمدی",
        authors=("مریم احمدی",),
        paragraphs=(
            "سه روز پس از توفان، نخستین قایق‌ها از بندر انزلی به دریا رفتند.",
            "رضا* که بیست سال است ماهیگیری می‌کند، می‌گوید: «یک‌سوم فصل را از دست دادیم».",
        ),
        caption_line="قایق‌های ماهیگیری در اسکله‌ی شمالی هنگام سحر. عکس: علی رضایی",
        caption="قایق‌های ماهیگیری در اسکله‌ی شمالی هنگام سحر.",
        credit="علی رضایی",
        figure_caption="بازار ماهی پیش از حراج. منبع تصویر: ایرنا",
        figure_credit="ایرنا",
        note="*نام‌ها تغییر کرده‌اند.",
        bio_heading="درباره‌ی نویسنده",
        bio="مریم احمدی روزنامه‌نگار مستقل و ساکن رشت است و درباره‌ی محیط زیست می‌نویسد.",
    ),
}
LANGUAGES = sorted(STORIES)


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [f"{case[0]}-{index}" for index, case in enumerate(cases)]


def feed_of(*stories: Story, channel_language: str | None = None) -> bytes:
    """An RSS 2.0 document with one item per story (content:encoded, no dc:creator: the
    authors come from the byline)."""
    items = []
    for index, story in enumerate(stories):
        items.append(
            f"<item><title>{escape(story.title)}</title>"
            f"<link>{BASE}stories/{index}</link><guid>{BASE}stories/{index}</guid>"
            f"<pubDate>Mon, 24 Nov 2025 02:00:00 +0000</pubDate>"
            f"<content:encoded><![CDATA[{story.body()}]]></content:encoded></item>"
        )
    language = channel_language or stories[0].language
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Harbour</title><link>{BASE}</link><description>d</description>"
        f"<language>{language}</language>{''.join(items)}</channel></rss>"
    ).encode()


def read(story: Story, channel_language: str | None = None) -> Article:
    articles, report = parse_feed(
        feed_of(story, channel_language=channel_language), "harbour.rss", BASE
    )
    assert not report.skipped
    (article,) = articles
    return article


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {language: read(story) for language, story in STORIES.items()}


@pytest.mark.parametrize("language", LANGUAGES)
def test_caption_line_credit_is_split(language: str, articles: dict[str, Article]) -> None:
    story, article = STORIES[language], articles[language]
    first = next(i for i in article.images if i.url.endswith(f"/{story.language}-1.jpg"))
    assert (first.caption, first.credit) == (story.caption, story.credit)
    # The caption line became the photo's figure; the credit is no longer in the text.
    assert f"<figcaption>{normalise_space(story.caption_line)}" in article.body_html


@pytest.mark.parametrize("language", LANGUAGES)
def test_figure_caption_credit_is_split(language: str, articles: dict[str, Article]) -> None:
    story, article = STORIES[language], articles[language]
    second = next(i for i in article.images if i.url.endswith(f"/{story.language}-2.jpg"))
    expected_caption = story.figure_caption[: -len(story.figure_credit)]
    assert second.credit == story.figure_credit
    assert second.caption is not None
    assert expected_caption.startswith(second.caption)
    assert story.figure_credit not in second.caption


@pytest.mark.parametrize("language", LANGUAGES)
def test_byline_gives_the_authors(language: str, articles: dict[str, Article]) -> None:
    story, article = STORIES[language], articles[language]
    assert tuple(a.name for a in article.authors) == story.authors
    assert story.byline not in article.body_html


@pytest.mark.parametrize("language", LANGUAGES)
def test_bio_leaves_the_body_for_its_author(language: str, articles: dict[str, Article]) -> None:
    story, article = STORIES[language], articles[language]
    assert article.authors[0].bio == story.bio
    assert story.bio_heading not in article.body_html
    assert story.bio not in article.body_html


@pytest.mark.parametrize("language", LANGUAGES)
def test_note_travels_with_the_story(language: str, articles: dict[str, Article]) -> None:
    story, article = STORIES[language], articles[language]
    assert article.notes == (story.note,)
    assert story.note not in article.body_html
    # The story itself stays.
    for paragraph in story.paragraphs:
        assert paragraph in article.body_html


@pytest.mark.parametrize("language", ["zh-Hant", "es", "fr", "ar", "fa"])
def test_forms_are_read_whatever_the_channel_declares(language: str) -> None:
    """A story in a mislabelled channel (an English one) still has its forms recognised."""
    story = STORIES[language]
    article = read(story, channel_language="en")
    assert tuple(a.name for a in article.authors) == story.authors
    assert article.authors[0].bio == story.bio
    assert article.notes == (story.note,)
    assert {(i.caption, i.credit) for i in article.images} >= {(story.caption, story.credit)}


def test_a_feed_mixing_every_language_reads_each_story_in_its_own() -> None:
    stories = [STORIES[language] for language in LANGUAGES]
    articles, report = parse_feed(feed_of(*stories, channel_language="en"), "mixed", BASE)
    assert not report.skipped
    for story, article in zip(stories, articles, strict=True):
        assert tuple(a.name for a in article.authors) == story.authors
        assert article.authors[0].bio == story.bio
        assert article.notes == (story.note,)


# More forms of each language, each through the pipeline: (language, the caption line after
# a photo, caption, credit).
CAPTION_FORMS = [
    ("zh-Hant", "夜市的攤販收攤。圖／中央社", "夜市的攤販收攤。", "中央社"),
    ("zh-Hant", "海堤上的釣客。照片來源：海洋委員會", "海堤上的釣客。", "海洋委員會"),
    ("zh-Hant", "漁會的倉庫（中央社記者張皓安攝）", "漁會的倉庫", "中央社記者張皓安攝"),
    ("es", "La lonja de Vigo al amanecer. Fotografía: Europa Press", "La lonja de Vigo al "
     "amanecer.", "Europa Press"),
    ("es", "Redes secándose al sol (EFE)", "Redes secándose al sol", "EFE"),
    ("es", "El faro de Burela. Cortesía de la Cofradía de Pescadores", "El faro de Burela.",
     "Cortesía de la Cofradía de Pescadores"),
    ("fr", "Le port au petit matin. Photo : AFP", "Le port au petit matin.", "AFP"),
    ("fr", "Un filet réparé à la main. Avec l’aimable autorisation de la famille Roux",
     "Un filet réparé à la main.", "Avec l’aimable autorisation de la famille Roux"),
    ("ar", "الصيادون يصلحون الشباك. المصدر: رويترز", "الصيادون يصلحون الشباك.", "رويترز"),
    ("ar", "منارة الميناء القديمة (أ ف ب)", "منارة الميناء القديمة", "أ ف ب"),
    ("ar", "سوق السمك. الصورة مقدمة من نقابة الصيادين", "سوق السمك.",
     "الصورة مقدمة من نقابة الصيادين"),
    ("fa", "تورهای ماهیگیری روی اسکله. عکس از رویترز", "تورهای ماهیگیری روی اسکله.", "رویترز"),
    # Persian typed on an Arabic keyboard: ي and ك for ی and ک.
    ("fa", "تورهای ماهيگيري روی اسكله. عكس: علي رضايي", "تورهای ماهيگيري روی اسكله.",
     "علي رضايي"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "line", "caption", "credit"), CAPTION_FORMS, ids=_ids(CAPTION_FORMS)
)
def test_more_caption_forms(language: str, line: str, caption: str, credit: str) -> None:
    story = STORIES[language]
    article = read(
        Story(**{**story.__dict__, "caption_line": line, "caption": caption, "credit": credit})
    )
    first = next(i for i in article.images if i.url.endswith(f"/{story.language}-1.jpg"))
    assert (first.caption, first.credit) == (caption, credit)


@pytest.mark.parametrize(
    "line",
    [
        "Foto de la lonja al amanecer",  # "photo of": no capital after "de"
        "Photo de famille sur le quai",
        "Le quai (Nepal)",  # "epa" inside a word is not the agency
    ],
)
def test_photo_of_is_not_a_credit(line: str) -> None:
    story = STORIES["es"]
    article = read(Story(**{**story.__dict__, "caption_line": line}))
    first = next(i for i in article.images if i.url.endswith(f"/{story.language}-1.jpg"))
    assert first.credit is None  # not taken as a caption either: it has no credit


# (language, byline block, authors)
BYLINE_FORMS = [
    ("zh-Hant", "記者：林怡君、陳志明", ("林怡君", "陳志明")),
    ("zh-Hant", "撰文｜林怡君", ("林怡君",)),
    ("es", "Por Lucía Fernández y Marcos Ibáñez", ("Lucía Fernández", "Marcos Ibáñez")),
    ("es", "Texto: Lucía Fernández", ("Lucía Fernández",)),
    ("fr", "Par Camille Durand et Léa Martin", ("Camille Durand", "Léa Martin")),
    ("fr", "Propos recueillis par Camille Durand", ("Camille Durand",)),
    ("ar", "بقلم: سارة المنصوري", ("سارة المنصوري",)),
    ("ar", "كتبت: سارة المنصوري", ("سارة المنصوري",)),
    ("fa", "نویسنده: مریم احمدی", ("مریم احمدی",)),
    ("fa", "به قلم مریم احمدی", ("مریم احمدی",)),
    ("fa", "نوشته ي مريم احمدي", ("مريم احمدي",)),
]  # fmt: skip


@pytest.mark.parametrize(("language", "byline", "authors"), BYLINE_FORMS, ids=_ids(BYLINE_FORMS))
def test_more_byline_forms(language: str, byline: str, authors: tuple[str, ...]) -> None:
    story = STORIES[language]
    article = read(Story(**{**story.__dict__, "byline": byline, "authors": authors}))
    assert tuple(a.name for a in article.authors) == authors
    assert byline not in article.body_html


def test_por_before_a_lower_case_word_is_not_a_byline() -> None:
    story = STORIES["es"]
    article = read(Story(**{**story.__dict__, "byline": "Por qué importa la pesca"}))
    assert article.authors == ()
    assert "Por qué importa la pesca" in article.body_html


# (language, bio heading, inline?)  Inline: "Heading: bio" in one paragraph.
BIO_FORMS = [
    ("zh-Hant", "作者簡介", True),
    ("zh-Hant", "作者小檔案", False),
    ("es", "Sobre el autor", False),
    ("es", "Acerca de la autora", True),
    ("fr", "À propos de l'auteur", False),
    ("fr", "L’autrice", True),
    ("ar", "نبذة عن الكاتبة", False),
    ("ar", "عن الكاتب", True),
    ("fa", "درباره نویسنده", False),
    ("fa", "دربارهٔ نویسنده", True),
    ("fa", "دربارۀ نویسنده", False),  # the ezafe as one letter
    ("fa", "درباره ي نويسنده", False),  # Arabic yeh, a space for the ZWNJ
]  # fmt: skip


@pytest.mark.parametrize(("language", "heading", "inline"), BIO_FORMS, ids=_ids(BIO_FORMS))
def test_more_bio_forms(language: str, heading: str, inline: bool) -> None:
    story = STORIES[language]
    colon = "：" if language.startswith("zh") else ": "
    body = story.body().replace(
        f"<h3>{story.bio_heading}</h3><p>{story.bio}</p>",
        f"<p>{heading}{colon}{story.bio}</p>"
        if inline
        else f"<h4>{heading}</h4><p>{story.bio}</p>",
    )
    assert body != story.body()
    data = feed_of(story).replace(story.body().encode(), body.encode())
    (article,), _ = parse_feed(data, "harbour.rss", BASE)
    assert article.authors[0].bio == story.bio
    assert heading not in article.body_html


# (language, note paragraph)
NOTE_FORMS = [
    ("zh-Hant", "編按：本文原刊於作者個人網站，經授權轉載。"),
    ("zh-Hant", "應受訪者要求，陳建宏為化名。"),
    ("es", "Nota de la redacción: este reportaje se actualizó el 25 de noviembre."),
    ("es", "Ramón no es su nombre real."),
    ("fr", "NDLR : cet article a été mis à jour le 25 novembre."),
    ("fr", "Les prénoms ont été modifiés à la demande des intéressés."),
    ("ar", "ملاحظة المحرر: حُدّثت هذه المادة في 25 نوفمبر."),
    ("ar", "أحمد ليس اسمه الحقيقي."),
    ("fa", "یادداشت سردبیر: این گزارش در ۴ آذر به‌روز شد."),
    ("fa", "نام‌ها تغییر داده شده‌اند تا هویت منابع محفوظ بماند."),
    ("fa", "اسامي تغيير كرده اند تا از منابع محافظت شود."),  # Arabic keyboard, no ZWNJ
]  # fmt: skip


@pytest.mark.parametrize(("language", "note"), NOTE_FORMS, ids=_ids(NOTE_FORMS))
def test_more_note_forms(language: str, note: str) -> None:
    story = STORIES[language]
    article = read(Story(**{**story.__dict__, "note": note}))
    assert article.notes == (note,)
    assert note not in article.body_html


@pytest.mark.parametrize(
    ("block", "name", "bio", "notes"),
    [
        ("本文作者：許清和<br>作者簡介：自由撰稿人，關注漁業。<br>原文連結：https://example.org/a",
         "許清和", "自由撰稿人，關注漁業。", ("原文連結：https://example.org/a",)),
        ("本文作者：许清和<br>作者简介：自由撰稿人，关注渔业。 原文链接：https://example.org/a",
         "许清和", "自由撰稿人，关注渔业。", ("原文链接：https://example.org/a",)),
    ],
    ids=["zh-Hant", "zh-Hans"],
)  # fmt: skip
def test_reprint_block_at_the_end_gives_author_bio_and_notes(
    block: str, name: str, bio: str, notes: tuple[str, ...]
) -> None:
    story = STORIES["zh-Hant"]
    body = story.body().replace(
        f"<p>{story.note}</p><h3>{story.bio_heading}</h3><p>{story.bio}</p>", f"<p>{block}</p>"
    )
    assert body != story.body()
    data = feed_of(story).replace(story.body().encode(), body.encode())
    data = data.replace(f"<p>{story.byline}</p>".encode(), b"")
    (article,), _ = parse_feed(data, "harbour.rss", BASE)
    assert [(a.name, a.bio) for a in article.authors] == [(name, bio)]
    assert article.notes == notes
    assert "本文作者" not in article.body_html
