"""Reading an article body: images and credits, bylines, bios, notes, and site chrome.

A CMS body is more than the story. :func:`extract_body` takes the raw body HTML and returns the
story (sanitised) plus what it found around it:

- **images** from ``<figure>``/``<figcaption>``, ``<img data-caption data-credit>``, a caption
  element after an image (``.image-desc``, ``.wp-caption-text``, ``.caption``), a caption box
  holding the image and then its caption text (``<div class="image-desc"><img> Caption |
  Credit</div>``) and the newsroom form "<p><img></p><p>Caption sentence. Credit: Who</p>"
  (an image block may also hold empty decoration such as ``<span> </span>``); each is turned
  into a figure.
  Tracking pixels and hidden images are dropped, not counted.
- the **byline** ("BY JANE DOE", "文｜张三", "文／張三", "Por Ana Ruiz", "بقلم سارة") near the
  top, removed from the body.
- **bios**: an "About the author" (or "About the writer", "关于作者", "關於作者", "Sobre la
  autora", "À propos de l'auteur", "عن الكاتبة", "درباره‌ی نویسنده") heading and the paragraphs
  after it, or an inline "About the author: …" paragraph, moved out of the body; the trailing
  Chinese credit block "本文作者：X / 作者简介：Y / 链接：Z" likewise.
- **notes** that must travel with the story ("*Names have been changed…", "Editor's note: …",
  "化名", "Les prénoms ont été modifiés", "تم تغيير الأسماء"), moved out of the body into
  ``notes``.

The words of those forms, in every shipped language, are data: one table per language,
``distributor/locale/<locale>/ingest.toml``, read by :mod:`distributor.ingest.forms`; every
language's forms are tried on every story.
- **chrome**: "Loading…", share/newsletter/related boxes, "Continue reading…", "The post …
  appeared first on …", the section label before the byline, a repeated headline.

This is stage 4 of the feed pipeline (:mod:`distributor.ingest.pipeline`). The body is parsed
as a browser parses it (:mod:`distributor.ingest.parsing`); :func:`extract_story` leaves the
story unsanitised for the next stage, :func:`extract_body` sanitises it too
(:mod:`distributor.ingest.sanitise`). Pure: lxml in memory (the form tables of
:mod:`distributor.ingest.forms`, package data, are read once per process).

One module per pass, run in this order by :mod:`.body`: :mod:`.chrome`, :mod:`.bylines`,
:mod:`.bios`, :mod:`.chinese_credits`, :mod:`.notes`, :mod:`.images`; :mod:`.markup` holds the
lxml helpers they share.
"""

from distributor.ingest.extract.bios import BioBlock, assign_bios
from distributor.ingest.extract.body import ExtractedBody, extract_body, extract_story
from distributor.ingest.extract.bylines import split_names, title_case_if_shouting
from distributor.ingest.extract.markup import BLOCK_TAGS, HEADING_TAGS

__all__ = [
    "BLOCK_TAGS",
    "HEADING_TAGS",
    "BioBlock",
    "ExtractedBody",
    "assign_bios",
    "extract_body",
    "extract_story",
    "split_names",
    "title_case_if_shouting",
]
