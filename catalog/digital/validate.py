"""A deeper look at a PDF before the digital library takes it: opened with pdfium (pypdfium2) in a
child process whose memory and time are bounded, so that no file (a stream that inflates to
gigabytes, a page tree claiming a million pages, a damaged cross-reference table) can take the
service down with it. Encrypted files, damaged ones and files with more pages than the limit are
refused with the reason; the page count of a good one is kept.

The child loads every page object (cheap: no drawing) and the text of the first pages (which
decodes their content streams, where a compression bomb would go off)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_PAGES = 5000
MEMORY_LIMIT = 400 * 1024 * 1024  # the child's address space: below the 500 MB any file may cost
TIME_LIMIT_S = 60.0
PAGES_DECODED = 3  # pages whose content streams are decoded while checking

# pdfium's error codes (FPDF_GetLastError)
_ERR_FILE, _ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 2, 3, 4, 5


class PdfRefused(ValueError):
    """Why a PDF is not taken (shown to the member as is)."""


@dataclass(frozen=True)
class PdfInfo:
    pages: int


def check_pdf(
    path: Path,
    max_pages: int = DEFAULT_MAX_PAGES,
    memory_limit: int = MEMORY_LIMIT,
    time_limit: float = TIME_LIMIT_S,
) -> PdfInfo:
    """Open ``path`` with pdfium in a child process bounded to ``memory_limit`` bytes and
    ``time_limit`` seconds; its page count, or :class:`PdfRefused` with the reason."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "catalog.digital.validate", str(path), str(max_pages), str(memory_limit)],
            capture_output=True,
            timeout=time_limit,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfRefused(f"the PDF could not be read within {time_limit:g} seconds") from None
    try:
        answer = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise PdfRefused(
            f"the PDF could not be read within {memory_limit // (1024 * 1024)} MB of memory "
            "(a damaged file or one built to exhaust the reader)"
        ) from None
    if "error" in answer:
        raise PdfRefused(str(answer["error"]))
    return PdfInfo(pages=int(answer["pages"]))


def _inspect(path: str, max_pages: int) -> dict[str, object]:
    """What the child reports: the page count, or the reason the PDF is refused."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (_ERR_PASSWORD, _ERR_SECURITY):
            return {"error": "the PDF is protected by a password; deposit it without one"}
        if code == _ERR_FILE:
            return {"error": "the PDF could not be opened"}
        return {"error": "the PDF is damaged (its structure cannot be read)"}
    try:
        if raw.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
            return {"error": "the PDF is encrypted; deposit it without encryption"}
        pages = len(pdf)
        if pages <= 0:
            return {"error": "the PDF has no pages"}
        if pages > max_pages:
            return {"error": f"the PDF has {pages} pages; the limit is {max_pages}"}
        for number in range(pages):
            try:
                page = pdf[number]
            except pdfium.PdfiumError:
                return {"error": f"the PDF is damaged: page {number + 1} cannot be read"}
            if number < PAGES_DECODED:
                page.get_textpage().close()
            page.close()
        return {"pages": pages}
    finally:
        pdf.close()


if __name__ == "__main__":  # the child: bounded before pdfium is loaded, then one JSON line on stdout
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        result = _inspect(sys.argv[1], int(sys.argv[2]))
    except MemoryError:
        result = {"error": "the PDF needs more memory than a file may take to read"}
    sys.stdout.write(json.dumps(result) + "\n")
