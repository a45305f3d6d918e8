"""PDFs are opened in a bounded child process at deposit: encrypted, damaged, over-long and
inflating ones are refused with the reason, each alone, and reading any of them stays under 500 MB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog.digital.objects import PDF, DigitalError, check_file
from catalog.digital.validate import PdfRefused, check_pdf
from tests.digital_files import (
    damaged_pdf,
    inflating_pdf,
    million_pages_pdf,
    owner_encrypted_pdf,
    password_pdf,
    text_pdf,
    truncated_pdf,
)


def peak_of_children(statement: str) -> int:
    """The peak memory (KiB) of the child processes ``statement`` starts, run in a fresh process
    (whose children are only those), the refusal it raises caught."""
    script = (
        "import resource\nfrom pathlib import Path\nfrom catalog.digital.validate import check_pdf\n"
        f"try:\n    {statement.replace(chr(10), chr(10) + '    ')}\nexcept Exception:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    peak = int(done.stdout.strip().splitlines()[-1])
    assert peak > 10_000  # the child did run (pdfium loaded)
    return peak


def test_a_good_pdf_is_taken_with_its_page_count(tmp_path: Path) -> None:
    checked = check_file(text_pdf(tmp_path / "ok.pdf", pages=4), 10_000_000)
    assert (checked.content_type, checked.page_count) == (PDF, 4)
    assert check_pdf(tmp_path / "ok.pdf").pages == 4


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (password_pdf, "protected by a password"),
        (owner_encrypted_pdf, "encrypted"),
        (million_pages_pdf, "has 1000000 pages; the limit is 5000"),
        (lambda p: damaged_pdf(p, text_pdf(p.with_name("good.pdf"))), "damaged"),
        (lambda p: truncated_pdf(p, text_pdf(p.with_name("good.pdf"), pages=5)), "damaged"),
    ],
    ids=["password", "owner-encrypted", "million-pages", "damaged", "truncated"],
)
def test_bad_pdfs_are_refused_with_their_reason(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(DigitalError, match=reason):
        check_file(path, 10_000_000)


def test_the_page_limit_is_configurable(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "ok.pdf", pages=6)
    with pytest.raises(DigitalError, match="has 6 pages; the limit is 5"):
        check_file(path, 10_000_000, max_pages=5)
    assert check_file(path, 10_000_000, max_pages=6).page_count == 6


def test_a_stream_inflating_to_a_gigabyte_is_refused_within_500_mb(tmp_path: Path) -> None:
    path = inflating_pdf(tmp_path / "bomb.pdf")
    assert path.stat().st_size < 5_000_000
    with pytest.raises(PdfRefused, match="within 400 MB of memory"):
        check_pdf(path)
    assert peak_of_children(f"check_pdf(Path({str(path)!r}))") < 500 * 1024


def test_a_slow_pdf_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "ok.pdf", pages=2)
    with pytest.raises(PdfRefused, match=r"within 0\.001 seconds"):
        check_pdf(path, time_limit=0.001)


def test_drawing_a_page_is_bounded_too(tmp_path: Path) -> None:
    """A page is drawn in a child process under the same memory limit: a page hiding a stream that
    inflates to a gigabyte fails alone, and a good page is drawn as a PNG of the width asked."""
    from catalog.digital.pages import PageError, bounded_width, page_image

    bomb = inflating_pdf(tmp_path / "bomb.pdf")
    with bomb.open("rb") as source, pytest.raises(PageError, match="could not be drawn"):
        page_image(tmp_path / "cache", "ab" * 32, source, 1, 800)
    drawing = (
        "from catalog.digital.pages import page_image\n"
        f"with open({str(bomb)!r}, 'rb') as f:\n"
        f"    page_image(Path({str(tmp_path / 'c2')!r}), 'ef' * 32, f, 1, 800)"
    )
    assert peak_of_children(drawing) < 500 * 1024
    assert not list((tmp_path / "cache").rglob("*.png"))
    good = text_pdf(tmp_path / "ok.pdf", pages=2)
    with good.open("rb") as source:
        image = page_image(tmp_path / "cache", "cd" * 32, source, 2, bounded_width(500))
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 800
