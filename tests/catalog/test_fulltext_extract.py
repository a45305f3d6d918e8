"""Extracting the text of digital objects: real PDFs (Vietnamese text in an embedded TrueType font),
EPUBs, and the files that must fail alone with a clear reason."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest

from catalog.digital.extract import ExtractionError, extract_to_file, pages_of
from catalog.digital.objects import EPUB, PDF, PNG
from catalog.search.pages import snippet
from catalog.search.query import parse
from tests.fulltext_files import write_epub, write_pdf

VIETNAMESE = "Luận văn thạc sĩ: trồng rau mầm thủy canh ở Đồng bằng sông Cửu Long, năm 2019."


def test_a_pdf_gives_the_text_of_each_page_in_nfc_with_its_diacritics(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "luan-van.pdf", [VIETNAMESE, "", "Trang ba: kết luận và kiến nghị."])
    extracted = extract_to_file(pdf, PDF, tmp_path)
    pages = list(extracted.pages())
    assert extracted.page_count == 3 and extracted.pages_with_text == 2
    assert [p for p, _t in pages] == [1, 2, 3]
    assert pages[0][1] == VIETNAMESE
    assert unicodedata.is_normalized("NFC", pages[0][1])
    assert pages[1][1] == ""  # a page without a text layer
    assert pages[2][1] == "Trang ba: kết luận và kiến nghị."


def test_a_scan_without_a_text_layer_has_pages_but_no_text(tmp_path: Path) -> None:
    extracted = extract_to_file(write_pdf(tmp_path / "scan.pdf", ["", ""]), PDF, tmp_path)
    assert extracted.page_count == 2 and extracted.pages_with_text == 0


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: write_pdf(d / "locked.pdf", [VIETNAMESE], password="bí mật"), "encrypted with a password"),
        (lambda d: _truncated(write_pdf(d / "cut.pdf", [VIETNAMESE] * 3)), "damaged"),
        (lambda d: _write(d / "junk.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 1000), "damaged"),
        (lambda d: _write(d / "empty.pdf", b""), "damaged"),
    ],
)
def test_a_bad_pdf_fails_with_a_clear_reason(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(ExtractionError, match=reason):
        extract_to_file(path, PDF, tmp_path)
    assert not list(tmp_path.glob("pages-*"))  # nothing half-written is left


def test_images_have_no_text_to_extract_ocr_is_not_done(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="no text is extracted from image/png"):
        extract_to_file(_write(tmp_path / "x.png", b"\x89PNG\r\n\x1a\n"), PNG, tmp_path)


def test_an_epub_gives_one_page_per_document_of_its_reading_order(tmp_path: Path) -> None:
    epub = write_epub(tmp_path / "sach.epub", [VIETNAMESE, "Chương hai &amp; <b>kết thúc</b>"])
    extracted = extract_to_file(epub, EPUB, tmp_path)
    assert [t for _p, t in extracted.pages()] == [VIETNAMESE, "Chương hai & kết thúc"]


def test_an_epub_never_expands_entities_nor_reads_outside_itself(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("mật khẩu quản trị")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file://{secret}">'
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<html><body><p>&x; &b; chữ</p></body></html>"
    )
    epub = write_epub(tmp_path / "xxe.epub", [hostile])
    text = " ".join(t for _p, t in extract_to_file(epub, EPUB, tmp_path).pages())
    assert "mật khẩu" not in text and "aaaaaaaaaa" not in text


def test_a_zip_bomb_epub_fails_alone(tmp_path: Path) -> None:
    epub = tmp_path / "bomb.epub"
    write_epub(epub, ["x", "y"])
    with zipfile.ZipFile(epub) as archive:
        kept = {i.filename: archive.read(i) for i in archive.infolist() if i.filename != "OEBPS/c1.xhtml"}
    with zipfile.ZipFile(epub, "w") as archive:  # the second chapter: 300 MB of zeros
        for name, data in kept.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/c1.xhtml", b"\0" * (300 * 1024**2), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(ExtractionError, match="zip bomb"):
        list(pages_of(epub, EPUB))


def test_snippets_are_escaped_and_only_the_matched_words_are_marked() -> None:
    text = "Mở đầu <script>alert(1)</script> " + " ".join(["chữ"] * 40) + " trồng rau mầm thủy canh. Hết."
    shown = snippet(text, parse("rau mam thuy canh "))
    assert "<script>" not in shown and "&lt;script&gt;" not in shown  # far from the match: cut
    assert "<mark>rau</mark> <mark>mầm</mark> <mark>thủy</mark> <mark>canh</mark>" in shown
    assert shown.startswith("… ")
    near = snippet("<b>thủy</b> canh", parse("thuy "))
    assert near == "&lt;b&gt;<mark>thủy</mark>&lt;/b&gt; canh"


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_pdf_of_more_pages_than_are_read_fails_before_any_is_read(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from catalog.digital.pagetext import MAX_PAGES

    path = tmp_path / "huge.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(10, 10), pageCompression=1)
    for _ in range(MAX_PAGES + 1):
        pdf.showPage()
    pdf.save()
    with pytest.raises(ExtractionError, match=f"has {MAX_PAGES + 1} pages; at most {MAX_PAGES} are read"):
        extract_to_file(path, PDF, tmp_path)
