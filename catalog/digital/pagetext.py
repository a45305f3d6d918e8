"""Reading the text of a file page by page: PDF pages with pypdfium2, EPUB chapters with zipfile and
lxml (entities never expanded, nothing fetched). This module is what the extracting child process
runs (``python -m catalog.digital.pagetext FILE KIND OUT``, see :mod:`catalog.digital.extract`): it
imports no more than it needs, so that a child starts in a few tens of milliseconds."""

from __future__ import annotations

import resource
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from catalog.text import display

MAX_PAGES = 10_000  # a file claiming more pages is refused (no thesis has them; a hostile file may)
MAX_PAGE_CHARS = 100_000  # text kept of one page (a page of 8-point text holds some 10,000)
MAX_EPUB_ENTRY_BYTES = 20 * 1024**2  # one chapter of an EPUB, uncompressed
MAX_EPUB_BYTES = 200 * 1024**2  # all the chapters of an EPUB, uncompressed
MEMORY_LIMIT_BYTES = 500 * 1024**2  # address space of the extracting process
CPU_SECONDS = 300


class ExtractionError(ValueError):
    """The file's text cannot be extracted; the reason is shown to its library as is."""


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


READERS = {"pdf": _pdf_pages, "epub": _epub_pages}


def read_pages(path: Path, kind: str) -> Iterator[tuple[int, str]]:
    """The pages (number, text) of ``path``, a file of ``kind`` (a key of READERS)."""
    return READERS[kind](path)


def _child(source: str, kind: str, target: str) -> int:
    """Run in the child process: pages to ``target``; the reason on stderr and 2 when it fails."""
    try:
        with open(target, "wb") as out:
            for page, text in read_pages(Path(source), kind):
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


def _limits() -> None:
    """The child's own limits, set before it opens the file (no preexec hook: the worker may run
    threads, and a fork must not run Python code before its exec)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


if __name__ == "__main__":  # the child of catalog.digital.extract.extract_to_file
    _limits()
    sys.exit(_child(sys.argv[1], sys.argv[2], sys.argv[3]))
