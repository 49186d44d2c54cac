"""Caption layouts seen in real CMS bodies (our own markup, written for these tests)."""

from __future__ import annotations

from distributor.ingest.extract import extract_body

BASE = "https://magazine.example.org/stories/harbour"


def _images(markup: str) -> list[tuple[str, str | None, str | None]]:
    return [
        (image.url.rsplit("/", 1)[1], image.caption, image.credit)
        for image in extract_body(markup, BASE).images
    ]


def test_caption_text_after_the_image_inside_a_caption_box() -> None:
    markup = (
        "<p>Before.</p>"
        '<div class="image-desc"><img src="/img/dock.jpg"> 渔船在清晨回港 | 港口通讯社</div>'
        '<div class="image-desc"><img src="/img/crane.jpg"> '
        "<span>Cranes at dusk over the harbour | Staff photographer</span></div>"
        "<p>After.</p>"
    )
    assert _images(markup) == [
        ("dock.jpg", "渔船在清晨回港", "港口通讯社"),
        ("crane.jpg", "Cranes at dusk over the harbour", "Staff photographer"),
    ]
    body = extract_body(markup, BASE).body_html
    assert body.count("<figcaption>") == 2
    assert "港口通讯社" in body


def test_caption_line_after_an_image_box_with_empty_decoration() -> None:
    markup = (
        "<p>Before.</p>"
        '<div style="text-align: center;"><span> </span><img src="/img/boats.jpg"></div>'
        '<div style="text-align: center;">渔民在码头上修补渔网｜网络</div>'
        "<p>After.</p>"
    )
    assert _images(markup) == [("boats.jpg", "渔民在码头上修补渔网", "网络")]


def test_a_caption_box_with_text_but_two_images_is_left_alone() -> None:
    markup = '<div class="image-desc"><img src="/img/a.jpg"><img src="/img/b.jpg"> Two boats</div>'
    assert _images(markup) == [("a.jpg", None, None), ("b.jpg", None, None)]


def test_body_text_beside_an_image_is_not_a_caption() -> None:
    markup = '<p><img src="/img/net.jpg"> The nets were mended by hand every morning.</p>'
    assert _images(markup) == [("net.jpg", None, None)]


def test_a_caption_line_after_two_images_belongs_to_neither() -> None:
    markup = (
        '<div><img src="/img/a.jpg"><span> </span><img src="/img/b.jpg"></div>'
        "<div>Two boats at the quay｜网络</div>"
    )
    assert _images(markup) == [("a.jpg", None, None), ("b.jpg", None, None)]
