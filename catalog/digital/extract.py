"""The text of a digital object, page by page (images have no text layer: OCR is not done).

Extraction runs in a child process (:func:`extract_to_file`, running :mod:`catalog.digital.pagetext`)
with its memory, CPU time and wall time limited, so that a hostile file (a page tree of millions of
pages, a zip bomb, a font that makes the PDF library loop or crash) fails its own extraction with a
clear reason and never the worker. The child writes one JSON line per page to a file; the caller
reads it page by page."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from catalog.digital.objects import EPUB, PDF
from catalog.digital.pagetext import CPU_SECONDS, MEMORY_LIMIT_BYTES, ExtractionError, read_pages

WALL_SECONDS = 600
KINDS = {PDF: "pdf", EPUB: "epub"}  # the types whose text is read, and their reader


@dataclass(frozen=True)
class Extracted:
    """Where the child wrote the pages (one JSON line each: ``[page, text]``), and how many pages the
    file has; ``pages_with_text`` counts pages with any text (0: a scan without a text layer)."""

    path: Path
    page_count: int
    pages_with_text: int

    def pages(self) -> Iterator[tuple[int, str]]:
        with self.path.open("rb") as handle:
            for line in handle:
                page, text = orjson.loads(line)
                yield int(page), str(text)


def has_text_layer(content_type: str) -> bool:
    """Whether files of ``content_type`` may carry text (images do not: OCR is not done)."""
    return content_type in KINDS


def pages_of(path: Path, content_type: str) -> Iterator[tuple[int, str]]:
    """The pages of ``path`` read in this process (see :func:`extract_to_file` for the guarded way)."""
    if not has_text_layer(content_type):
        raise ExtractionError(f"no text is extracted from {content_type} files")
    return read_pages(path, KINDS[content_type])


def extract_to_file(path: Path, content_type: str, workdir: Path | None = None) -> Extracted:
    """Extract the pages of ``path`` in a child process with limited memory and time, into a JSON
    lines file in ``workdir`` (the caller removes it). ExtractionError with the reason when the file
    cannot be read, whatever happens to the child."""
    if not has_text_layer(content_type):
        raise ExtractionError(f"no text is extracted from {content_type} files")
    handle, target = tempfile.mkstemp(prefix="pages-", suffix=".jsonl", dir=workdir)
    os.close(handle)
    out = Path(target)
    command = [sys.executable, "-m", "catalog.digital.pagetext", str(path), KINDS[content_type], target]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=WALL_SECONDS,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        out.unlink(missing_ok=True)
        raise ExtractionError(f"reading the file took longer than {WALL_SECONDS} s") from exc
    reason = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        if done.returncode == 2 and reason:
            raise ExtractionError(reason.splitlines()[-1][:500])
        if done.returncode < 0 or "MemoryError" in reason:
            raise ExtractionError(
                "the file could not be read within the memory and time allowed "
                f"({MEMORY_LIMIT_BYTES // 1024**2} MB, {CPU_SECONDS} s of processor)"
            )
        raise ExtractionError(
            f"the file could not be read ({reason.splitlines()[-1][:300] if reason else ''})"
        )
    count = with_text = 0
    extracted = Extracted(out, 0, 0)
    for _page, text in extracted.pages():
        count += 1
        with_text += bool(text)
    return Extracted(out, count, with_text)


__all__ = ["Extracted", "ExtractionError", "extract_to_file", "has_text_layer", "pages_of"]
