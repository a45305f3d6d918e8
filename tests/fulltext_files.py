"""Real files for the full-text tests: PDFs written with reportlab (Vietnamese text in DejaVu Sans,
embedded as a TrueType font), and EPUBs written with zipfile."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Sequence
from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@functools.cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
    return "DejaVuSans"


def write_pdf(path: Path, pages: Sequence[str], password: str | None = None) -> Path:
    """A PDF with one page per text of ``pages`` (lines wrapped at 80 characters); an empty text
    draws only a rectangle, as a scan without a text layer has no text."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), encrypt=password)
    for text in pages:
        if text:
            pdf.setFont(_font(), 11)
            y = 800
            words = text.split()
            while words:
                line: list[str] = []
                while words and len(" ".join([*line, words[0]])) <= 80:
                    line.append(words.pop(0))
                if not line:
                    line.append(words.pop(0))
                pdf.drawString(40, y, " ".join(line))
                y -= 14
        else:
            pdf.rect(40, 40, 500, 700, fill=1)
        pdf.showPage()
    pdf.save()
    return path


def write_epub(path: Path, chapters: Sequence[str], extra: dict[str, bytes] | None = None) -> Path:
    """An EPUB 3 whose reading order holds one XHTML document per text of ``chapters`` (a text that
    is an XML document already is written as it is)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>'
            for n in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for n, text in enumerate(chapters):
            document = (
                text
                if text.startswith("<?xml")
                else '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>c{n}</title><style>p {{}}</style></head><body><p>{text}</p></body></html>"
            )
            archive.writestr(f"OEBPS/c{n}.xhtml", document, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path
