"""Real PDFs for the digital library's tests: made with reportlab (text on every page), and the
hostile ones a member might send, made from real ones (encrypted, damaged, truncated) or written
out by hand (a page tree claiming a million pages, a content stream that inflates to a gigabyte)."""

from __future__ import annotations

import zlib
from pathlib import Path

from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas


def text_pdf(path: Path, pages: int = 3, words: str = "Luận văn thạc sĩ", encrypt: object = None) -> Path:
    """A PDF of ``pages`` pages, each with a line of text and its number."""
    page = canvas.Canvas(str(path), pagesize=(300, 400), encrypt=encrypt)  # type: ignore[arg-type]
    for number in range(1, pages + 1):
        page.drawString(30, 350, f"{words} - trang {number}")
        page.rect(20, 20, 260, 300)
        page.showPage()
    page.save()
    return path


def password_pdf(path: Path) -> Path:
    return text_pdf(path, 1, encrypt="secret")


def owner_encrypted_pdf(path: Path) -> Path:
    """Encrypted without a password to open it (only an owner password restricting use)."""
    return text_pdf(path, 1, encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner", canPrint=0))


def handmade_pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (1 0 obj ...), with its cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>"


def million_pages_pdf(path: Path) -> Path:
    """One real page in a page tree that claims a million."""
    path.write_bytes(
        handmade_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>",
                _PAGE,
                b"<< /Length 0 >>\nstream\n\nendstream",
            ]
        )
    )
    return path


def inflating_pdf(path: Path, inflated_mb: int = 1024) -> Path:
    """One page whose FlateDecode content stream is about 1 MB and inflates to ``inflated_mb`` MB."""
    squeeze = zlib.compressobj(6)
    block = b"0 0 m 1 1 l S\n" * (1024 * 1024 // 14)
    stream = bytearray()
    for _ in range(inflated_mb):
        stream += squeeze.compress(block)
    stream += squeeze.flush()
    path.write_bytes(
        handmade_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                _PAGE,
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                + bytes(stream)
                + b"\nendstream",
            ]
        )
    )
    return path


def damaged_pdf(path: Path, good: Path) -> Path:
    """A real PDF whose body after its header is overwritten with other bytes."""
    data = good.read_bytes()
    path.write_bytes(data[:9] + bytes(range(256)) * (len(data) // 256 + 1))
    return path


def truncated_pdf(path: Path, good: Path) -> Path:
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
