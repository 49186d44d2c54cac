"""Our own sample stories and issues in every shipped language but English and Simplified
Chinese (those are in tests/factories/email_stories.py): Arabic, Persian, Traditional Chinese,
Spanish and French.

Each story has the shape of a real feature: headline, byline, a body of short paragraphs, a
lead photo with caption and credit, a second photo, a source-protection note and an "About the
author" bio. Every word is invented for these tests; the Traditional Chinese is written in
Traditional characters (Taiwan usage), the Persian with Persian letters and ZWNJ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from distributor.domain.articles import Article, Author, Image
from distributor.rendering.email import IssueContent
from tests.factories.email_stories import BASE, chinese_article, english_article, issue_content

ZWNJ = "\u200c"


@dataclass(frozen=True)
class StoryText:
    """The words of one sample story and of an issue in its language."""

    language: str
    headline: str
    paragraphs: tuple[str, ...]
    author: str
    bio: str
    caption: str
    credit: str
    note: str
    subject: str
    preheader: str
    editor_note: str
    list_title: str


STORIES: dict[str, StoryText] = {
    "ar": StoryText(
        language="ar",
        headline="صيادو الميناء القديم يتقاسمون ثلاجة واحدة ودفتر حسابات واحدًا",
        paragraphs=(
            "«لم يكن عندنا نقابة، كان عندنا مقهى»، يقول سليم*، الذي يخرج إلى البحر منذ ثلاثين "
            "عامًا. «في المقهى نعرف سعر السمك قبل أن يصل التاجر».",
            "قبل عامين ارتفع سعر الثلج إلى الضعف، فصار الصيادون يبيعون صيدهم في الصباح الباكر "
            "بأي ثمن، خوفًا من أن يفسد قبل الظهر.",
            "اشترى أحد عشر صيادًا ثلاجة كبيرة بالتقسيط، ووضعوها في مخزن قديم قرب الرصيف، "
            "واتفقوا على دفتر واحد يُكتب فيه كل صندوق يدخل ويخرج.",
            "تحتفظ منى* بالدفتر في درج مطبخها. «الحساب واضح، ومن أراد أن يراه فليأتِ ويشرب "
            "الشاي»، تقول ضاحكة.",
        ),
        author="ليلى حداد",
        bio="ليلى حداد صحفية مقيمة في بيروت، تكتب عن العمل والهجرة في شرق المتوسط، "
        "وتعمل على كتاب عن عمال الموانئ.",
        caption="قوارب الصيد راسية عند الفجر قبل خروجها إلى البحر.",
        credit="تعاونية صيادي الميناء",
        note="*غُيّرت بعض الأسماء حفاظًا على سلامة المصادر.",
        subject="هذا الأسبوع: البحر والثلاجة ودفتر الحسابات",
        preheader="ثلاث قصص جديدة ورسالة من المحرّر.",
        editor_note="نذهب في هذا العدد إلى ميناء صغير.\n\n"
        "شكرًا لكل من روى لنا قصته.\n— أسرة التحرير",
        list_title="النشرة الأسبوعية",
    ),
    "fa": StoryText(
        language="fa",
        headline=f"نانوایی محله که صف صبحگاهی{ZWNJ}اش به کلاس زبان تبدیل شد",
        paragraphs=(
            f"«ما انجمن نداریم، صف نان داریم»، این را رضا* می{ZWNJ}گوید که بیست سال است هر "
            f"صبح پشت تنور می{ZWNJ}ایستد. «خبرها در صف زودتر از روزنامه می{ZWNJ}رسد.»",
            f"زمستان گذشته چند خانوادهٔ تازه{ZWNJ}وارد به محله آمدند و زبان هیچ{ZWNJ}کدام از "
            f"همسایه{ZWNJ}ها را نمی{ZWNJ}دانستند.",
            f"یکی از مشتری{ZWNJ}های همیشگی، معلم بازنشسته{ZWNJ}ای به نام پروین*، پیشنهاد کرد "
            f"در همان ده دقیقهٔ انتظار، هر روز چند کلمه یاد بدهد.",
            f"حالا روی دیوار نانوایی تخته{ZWNJ}ای هست که کلمه{ZWNJ}های هر روز را رویش "
            f"می{ZWNJ}نویسند. «نان و کلمه، هر دو تازه»، پروین می{ZWNJ}گوید.",
        ),
        author="مریم کاظمی",
        bio=f"مریم کاظمی روزنامه{ZWNJ}نگاری ساکن تهران است که دربارهٔ زندگی شهری و کار "
        f"می{ZWNJ}نویسد و در حال نوشتن کتابی دربارهٔ کارگران شب است.",
        caption="صف نان در سحرگاهی سرد زمستانی، پیش از باز شدن نانوایی.",
        credit="آرشیو عکس محله",
        note=f"*نام برخی افراد برای حفظ امنیت آن{ZWNJ}ها تغییر کرده است.",
        subject=f"این هفته: نان، کلمه و همسایه{ZWNJ}ها",
        preheader=f"سه گزارش تازه و نامه{ZWNJ}ای از سردبیر.",
        editor_note=f"این شماره به یک محلهٔ قدیمی می{ZWNJ}رود.\n\n"
        f"از همهٔ کسانی که داستانشان را گفتند سپاسگزاریم.\n— تحریریه",
        list_title="خبرنامهٔ هفتگی",
    ),
    "zh-Hant": StoryText(
        language="zh-Hant",
        headline="港邊的修船師傅，把手藝傳給了送外賣的年輕人",
        paragraphs=(
            "「我們沒有工會，我們有船塢。」在港邊修了三十年船的阿成*說，「船塢裡什麼消息都聽得到。」",
            "去年，外送平台又調降了短程單的運費，幾個年輕騎手乾脆在下雨天跑到船塢躲雨，順便幫忙搬木料。",
            "阿成看他們手腳俐落，便開始教他們填縫、上漆。幾個月後，有人週末來打工，有人乾脆拜師。",
            "負責記帳的美玲*把每一筆工錢都寫在牆上的白板。「大家看得到，就不會吵架。」她笑著說。",
        ),
        author="林雅婷",
        bio="林雅婷是常駐臺北的記者，關注東亞的勞動與移工議題，作品散見於多家區域性雜誌，"
        "正在寫一本關於夜班工人的書。",
        caption="清晨，師傅在船塢裡檢查一艘漁船的船身。",
        credit="港灣影像工作室",
        note="*為保護受訪者安全，文中部分人名為化名。",
        subject="本週精選：船塢、騎手與白板上的帳",
        preheader="三篇新報導與一封編輯來信。",
        editor_note="這一期我們去了港邊的船塢。\n\n謝謝每一位願意說出自己故事的人。\n——編輯部",
        list_title="每週電子報",
    ),
    "es": StoryText(
        language="es",
        headline="Las costureras de un barrio de Lima que convirtieron su taller en guardería",
        paragraphs=(
            "«No tenemos sindicato, tenemos una olla común», dice Rosa*, que cose uniformes "
            "escolares desde hace quince años. «La olla junta más gente que cualquier asamblea».",
            "Cuando la fábrica dejó de pagar a tiempo, seis vecinas alquilaron un local con dos "
            "máquinas de segunda mano y un patio donde los niños podían jugar.",
            "Hoy se turnan: mientras unas cosen, otras cuidan a los hijos de todas. Los pedidos "
            "llegan por WhatsApp y se anotan en un cuaderno que nadie se lleva a casa.",
            "¿Y si la fábrica vuelve a llamar? «Que venga a vernos», responde Carmen*. «Aquí "
            "sabemos cuánto vale una hora».",
        ),
        author="Lucía Ferrer",
        bio="Lucía Ferrer es periodista y vive en Lima. Escribe sobre trabajo, migración y "
        "cuidados en América Latina, y prepara un libro sobre trabajadoras nocturnas.",
        caption="Dos costureras terminan un pedido de uniformes al caer la tarde.",
        credit="Colectivo Aguja y Hilo",
        note="*Algunos nombres se han cambiado para proteger a las fuentes.",
        subject="Esta semana: costureras, ollas comunes y un cuaderno",
        preheader="Tres reportajes nuevos y una carta de la redacción.",
        editor_note="Este número nos lleva a un barrio de Lima.\n\n"
        "Gracias a todas las personas que nos contaron su historia.\n— La redacción",
        list_title="El Boletín Semanal",
    ),
    "fr": StoryText(
        language="fr",
        headline="Dans un village des Cévennes, l’épicerie fait aussi office de bureau de poste",
        paragraphs=(
            "«\u202fOn n’a pas de mairie ouverte tous les jours, on a l’épicerie\u202f», "
            "résume Hélène*, qui tient la caisse depuis douze ans.",
            "Quand le bureau de poste a fermé, les habitants ont obtenu que l’épicerie reçoive "
            "les colis et vende des timbres, contre une petite commission.",
            "Le mardi, jour du marché, la file d’attente déborde sur la place\u202f: on y vient "
            "chercher une lettre recommandée, du pain et des nouvelles.",
            "Faut-il s’en inquiéter\u202f? «\u202fTant qu’on est là, le village tient\u202f», "
            "répond Marcel*, le livreur.",
        ),
        author="Camille Roussel",
        bio="Camille Roussel est journaliste à Montpellier. Elle couvre le travail et la vie "
        "rurale dans le sud de la France et prépare un livre sur les métiers de nuit.",
        caption="La place du village un jour de marché, devant l’épicerie.",
        credit="Atelier photo des Cévennes",
        note="*Les prénoms ont été modifiés pour protéger les personnes interrogées.",
        subject="Cette semaine\u202f: une épicerie, un marché et des colis",
        preheader="Trois nouveaux reportages et une lettre de la rédaction.",
        editor_note="Ce numéro nous emmène dans les Cévennes.\n\n"
        "Merci à toutes celles et ceux qui nous ont raconté leur histoire.\n— La rédaction",
        list_title="La Lettre de la semaine",
    ),
}


def story(language: str, index: int = 0) -> Article:
    """A sample feature in ``language`` (``ar``, ``fa``, ``zh-Hant``, ``es``, ``fr``; ``en``
    and ``zh-Hans`` come from the shared factories)."""
    if language == "en":
        return english_article(index)
    if language == "zh-Hans":
        return chinese_article(index)
    words = STORIES[language]
    slug = f"{language.lower()}-story-{index}"
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in words.paragraphs)
    body += f'\n<figure><img src="{BASE}/media/{slug}-2.jpg"><figcaption>{words.caption}'
    body += "</figcaption></figure>"
    return Article(
        guid=f"{BASE}/?p={language}-{index}",
        title=words.headline,
        canonical_url=f"{BASE}/{language.lower()}/stories/{slug}",
        body_html=body,
        language=language,
        authors=(
            Author(
                name=words.author,
                bio=words.bio,
                avatar_url=f"{BASE}/media/authors/{slug}.jpg",
                profile_url=f"{BASE}/{language.lower()}/authors/{index}",
            ),
        ),
        images=(
            Image(
                url=f"{BASE}/media/{slug}-lead.jpg",
                caption=words.caption,
                credit=words.credit,
                width=1600,
                height=1000,
                is_lead=True,
            ),
            Image(url=f"{BASE}/media/{slug}-2.jpg", caption=words.caption, credit=words.credit),
        ),
        notes=(words.note,),
        published_at=datetime(2026, 11, 2 + index, 9, 0, tzinfo=UTC),
        id=5000 + index,
    )


def issue_in(language: str, count: int = 2, **overrides: object) -> IssueContent:
    """An issue for a list in ``language`` with ``count`` stories in that language."""
    if language not in STORIES:  # English and Simplified Chinese: the shared factories
        return issue_content(count, language, issue_id=18, **overrides)
    words = STORIES[language]
    content = IssueContent(
        subject=words.subject,
        preheader=words.preheader,
        editor_note=words.editor_note,
        language=language,
        articles=tuple(story(language, index) for index in range(count)),
        list_title=words.list_title,
        issue_id=18,
        greeting=True,
    )
    return replace(content, **overrides)  # type: ignore[arg-type]
