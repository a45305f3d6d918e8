"""Pages of a PDF as images for the reader in the browser: drawn by pdfium (pypdfium2) in a child
process bounded in memory and time (a page deposited long ago may still hide a stream built to
exhaust a reader), at one of a few widths, and kept on disk by content and width, so a page is
drawn once whoever reads it. The PNG is written here (zlib), so no imaging library is needed."""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import BinaryIO

WIDTHS = (400, 800, 1200, 1600)
MEMORY_LIMIT = 400 * 1024 * 1024
TIME_LIMIT_S = 60.0


class PageError(RuntimeError):
    """The page could not be drawn (the reason is for the log and the reader alike)."""


def bounded_width(wanted: int | None) -> int:
    """The smallest of :data:`WIDTHS` at least ``wanted`` (the largest when none is)."""
    if wanted is None:
        return WIDTHS[1]
    return next((w for w in WIDTHS if w >= wanted), WIDTHS[-1])


def cached_page(cache: Path, sha256: str, page: int, width: int) -> Path:
    return cache / sha256[:2] / sha256 / f"{page}-{width}.png"


def page_image(cache: Path, sha256: str, source: BinaryIO, page: int, width: int) -> Path:
    """The PNG of 1-based ``page`` of the PDF ``source`` (an open file), ``width`` pixels wide,
    drawn now or earlier."""
    target = cached_page(cache, sha256, page, width)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    fd = source.fileno()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "catalog.digital.pages", f"/dev/fd/{fd}", str(page), str(width),
             str(partial), str(MEMORY_LIMIT)],
            capture_output=True, timeout=TIME_LIMIT_S, pass_fds=(fd,), check=False,
        )  # fmt: skip
        if done.returncode != 0 or not partial.is_file():
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason"]
            raise PageError(f"page {page} could not be drawn within the limits: {reason[0][:200]}")
        os.replace(partial, target)
    except subprocess.TimeoutExpired:
        raise PageError(f"page {page} could not be drawn within {TIME_LIMIT_S:g} seconds") from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def png(width: int, height: int, rows: bytes, channels: int, stride: int | None = None) -> bytes:
    """A PNG of ``height`` rows of ``width`` pixels of ``channels`` bytes (1 grey, 3 RGB, 4 RGBA),
    each row starting ``stride`` bytes after the one before."""
    colour = {1: 0, 3: 2, 4: 6}[channels]
    size = width * channels
    stride = stride or size
    raw = b"".join(b"\x00" + rows[y * stride : y * stride + size] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def _draw(path: str, page: int, width: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        if not 1 <= page <= len(pdf):
            raise SystemExit(f"no page {page}")
        sheet = pdf[page - 1]
        scale = width / max(1.0, sheet.get_width())
        if sheet.get_height() * scale > 4 * width:  # a strip many times taller than wide: bounded too
            scale = 4 * width / max(1.0, sheet.get_height())
        bitmap = sheet.render(scale=scale, rev_byteorder=True, fill_color=(255, 255, 255, 255))
        return png(bitmap.width, bitmap.height, bytes(bitmap.buffer), bitmap.n_channels, bitmap.stride)
    finally:
        pdf.close()


if __name__ == "__main__":  # the child: bounded, then the page written to the given path
    limit = int(sys.argv[5])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    Path(sys.argv[4]).write_bytes(_draw(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
