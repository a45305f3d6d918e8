"""The text of a digital object, page by page: PDF pages with pypdfium2, EPUB chapters with zipfile and
lxml (entities never expanded, nothing fetched). Images have no text layer: OCR is not done.

Extraction runs in a child process (:func:`extract_to_file`) with its memory, CPU time and wall time
limited, so that a hostile file (a page tree of millions of pages, a zip bomb, a font that makes
the PDF library loop or crash) fails its own extraction with a clear reason and never the worker.
The child writes one JSON line per page to a file; the caller reads it page by page."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from catalog.digital.objects import EPUB, PDF
from catalog.text import display

MAX_PAGES = 10_000  # a file claiming more pages is refused (no thesis has them; a hostile file may)
MAX_PAGE_CHARS = 100_000  # text kept of one page (a page of 8-point text holds some 10,000)
MAX_EPUB_ENTRY_BYTES = 20 * 1024**2  # one chapter of an EPUB, uncompressed
MAX_EPUB_BYTES = 200 * 1024**2  # all the chapters of an EPUB, uncompressed
MEMORY_LIMIT_BYTES = 500 * 1024**2  # address space of the extracting process
CPU_SECONDS = 300
WALL_SECONDS = 600


class ExtractionError(ValueError):
    """The file's text cannot be extracted; the reason is shown to its library as is."""


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


def page_text(raw: str) -> str:
    """A page's text as stored: display text (NFC, marks repaired, single spaces), bounded."""
    return display(raw[: MAX_PAGE_CHARS * 2])[:MAX_PAGE_CHARS]


# ------------------------------------------------------------------------------------------ PDF
def _pdf_pages(path: Path) -> Iterator[tuple[int, str]]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ExtractionError("the PDF is encrypted with a password; its text cannot be read") from exc
        raise ExtractionError(f"the PDF is damaged and cannot be read ({exc})") from exc
    try:
        count = len(document)
        if count > MAX_PAGES:
            raise ExtractionError(f"the PDF has {count} pages; at most {MAX_PAGES} are read")
        if count == 0:
            raise ExtractionError("the PDF has no pages")
        for number in range(count):
            try:
                page = document[number]
            except pdfium.PdfiumError as exc:
                raise ExtractionError(f"page {number + 1} of the PDF is damaged ({exc})") from exc
            try:
                textpage = page.get_textpage()
                try:
                    yield number + 1, page_text(textpage.get_text_range())
                finally:
                    textpage.close()
            finally:
                page.close()
    finally:
        document.close()


# ----------------------------------------------------------------------------------------- EPUB
def _read_entry(archive: zipfile.ZipFile, name: str, budget: list[int]) -> bytes:
    """An entry of at most MAX_EPUB_ENTRY_BYTES, read in chunks (the sizes a zip declares may lie)."""
    try:
        handle: BinaryIO = archive.open(name)  # type: ignore[assignment]
    except KeyError as exc:
        raise ExtractionError(f"the EPUB names {name!r}, which it does not hold") from exc
    out = bytearray()
    with handle:
        while chunk := handle.read(1 << 16):
            out += chunk
            budget[0] -= len(chunk)
            if len(out) > MAX_EPUB_ENTRY_BYTES or budget[0] < 0:
                raise ExtractionError("the EPUB unpacks to more than the size allowed (a zip bomb?)")
    return bytes(out)


def _xml(data: bytes):  # type: ignore[no-untyped-def]
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    root = etree.fromstring(data, parser)
    if root is None:
        raise ExtractionError("the EPUB's package files are not XML")
    return root


def _html_text(data: bytes) -> str:
    from lxml import etree

    parser = etree.HTMLParser(no_network=True, huge_tree=False, remove_comments=True, remove_pis=True)
    root = etree.fromstring(data, parser)
    if root is None:
        return ""
    body = next(iter(root.iter("body", "{*}body")), root)  # the head's title is not the page's text
    for element in body.iter("script", "style", "{*}script", "{*}style"):
        element.text = None
    return " ".join(body.itertext())


def _epub_pages(path: Path) -> Iterator[tuple[int, str]]:
    """One page per document of the EPUB's reading order (its spine)."""
    from posixpath import dirname, join, normpath

    budget = [MAX_EPUB_BYTES]
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError("the EPUB file is damaged") from exc
    with archive:
        container = _xml(_read_entry(archive, "META-INF/container.xml", budget))
        rootfiles = [e.get("full-path") for e in container.iter("{*}rootfile") if e.get("full-path")]
        if not rootfiles:
            raise ExtractionError("the EPUB has no package document")
        package_name = rootfiles[0]
        package = _xml(_read_entry(archive, package_name, budget))
        base = dirname(package_name)
        manifest = {item.get("id"): item.get("href") for item in package.iter("{*}item") if item.get("href")}
        spine = [ref.get("idref") for ref in package.iter("{*}itemref")]
        if len(spine) > MAX_PAGES:
            raise ExtractionError(f"the EPUB has {len(spine)} documents; at most {MAX_PAGES} are read")
        page = 0
        for idref in spine:
            href = manifest.get(idref)
            if not href:
                continue
            name = normpath(join(base, href.split("#", 1)[0]))
            if name.startswith(("../", "/")):
                raise ExtractionError(f"the EPUB points outside itself ({href!r})")
            page += 1
            yield page, page_text(_html_text(_read_entry(archive, name, budget)))
        if page == 0:
            raise ExtractionError("the EPUB has no readable documents")


# ------------------------------------------------------------------------------------ the child
def pages_of(path: Path, content_type: str) -> Iterator[tuple[int, str]]:
    """The pages of ``path`` (in this process: see :func:`extract_to_file` for the guarded way)."""
    if content_type == PDF:
        return _pdf_pages(path)
    if content_type == EPUB:
        return _epub_pages(path)
    raise ExtractionError(f"no text is extracted from {content_type} files")


def has_text_layer(content_type: str) -> bool:
    """Whether files of ``content_type`` may carry text (images do not: OCR is not done)."""
    return content_type in (PDF, EPUB)


def _child(source: str, content_type: str, target: str) -> int:
    """Run in the child process: pages to ``target``; the reason on stderr and 2 when it fails."""
    try:
        with open(target, "wb") as out:
            for page, text in pages_of(Path(source), content_type):
                out.write(orjson.dumps([page, text]) + b"\n")
    except ExtractionError as exc:
        sys.stderr.write(str(exc))
        return 2
    except MemoryError:
        sys.stderr.write("the file needs more memory to read than is allowed")
        return 2
    return 0


def _limits() -> None:
    """The child's own limits, set before it opens the file (no preexec hook: the worker may run
    threads, and a fork must not run Python code before its exec)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def extract_to_file(path: Path, content_type: str, workdir: Path | None = None) -> Extracted:
    """Extract the pages of ``path`` in a child process with limited memory and time, into a JSON
    lines file in ``workdir`` (the caller removes it). ExtractionError with the reason when the file
    cannot be read, whatever happens to the child."""
    if not has_text_layer(content_type):
        raise ExtractionError(f"no text is extracted from {content_type} files")
    handle, target = tempfile.mkstemp(prefix="pages-", suffix=".jsonl", dir=workdir)
    os.close(handle)
    out = Path(target)
    command = [sys.executable, "-m", "catalog.digital.extract", str(path), content_type, target]
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


if __name__ == "__main__":  # the child of extract_to_file
    _limits()
    sys.exit(_child(sys.argv[1], sys.argv[2], sys.argv[3]))
