"""Opening an export: decompression (gzip, zip), format detection, and the matching reader."""

from __future__ import annotations

import gzip
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from harvest import iso2709, marcjson, marcxml
from harvest.incoming import FormatError, Incoming

FORMATS = ("iso2709", "marcxml", "marcjson")
AUTO = "auto"
_SPLITTERS: dict[str, Callable[[BinaryIO], Iterator[Incoming]]] = {
    "iso2709": iso2709.split,
    "marcxml": marcxml.split,
    "marcjson": marcjson.split,
}
_DECODERS: dict[str, Callable[[Incoming], Incoming]] = {
    "iso2709": iso2709.decode_item,
    "marcxml": marcxml.decode_item,
    "marcjson": marcjson.decode_item,
}


def decode(item: Incoming) -> Incoming:
    """Decode a split record: fills ``item.record`` (and warnings) or ``item.error``."""
    return _DECODERS[item.raw_format](item)


_FORMAT_ALIASES = {
    "marc": "iso2709",
    "mrc": "iso2709",
    "xml": "marcxml",
    "json": "marcjson",
    "marc-in-json": "marcjson",
}
# What a format option may name (in any case), as the API's OpenAPI document lists it.
FORMAT_NAMES = [AUTO, *FORMATS, *_FORMAT_ALIASES]


def normalise_format(name: str | None) -> str:
    """The canonical name of a format option (``auto`` when none is given)."""
    if not name:
        return AUTO
    key = name.strip().lower()
    key = _FORMAT_ALIASES.get(key, key)
    if key != AUTO and key not in FORMATS:
        raise FormatError(f"unknown format {name!r}; use one of: auto, {', '.join(FORMATS)}")
    return key


_JSON_START = re.compile(rb'^(?:\{\s*"|\[\s*[{\]])')


def sniff(head: bytes) -> str:
    """The format of a (decompressed) stream from its first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    if not text:
        raise FormatError("the file is empty")
    if text[:1] == b"<":
        return "marcxml"
    if _JSON_START.match(text):
        return "marcjson"
    if text[:5].isdigit() and text[12:17].isdigit():
        return "iso2709"
    raise FormatError("not a MARC file: neither ISO 2709, MARCXML nor MARC-in-JSON")


# What one upload may decompress to: this many times its own size, and at least RATIO_FLOOR (a
# small file of real records may compress better than that). Real MARC exports compress 4 to 10
# times; a gigabyte of zeros, 1000 times.
MAX_RATIO = 100
RATIO_FLOOR = 256 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


class Budget:
    """How many decompressed bytes the upload (all of a zip's members together) may still give."""

    def __init__(self, compressed_size: int) -> None:
        self.limit = max(RATIO_FLOOR, MAX_RATIO * compressed_size)
        self.left = self.limit

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise FormatError(
                f"the file decompresses to more than {self.limit:,} bytes ({MAX_RATIO} times its size "
                "or more): refused, as a compression bomb would be"
            )


class _Decompressed(io.RawIOBase):
    """A decompressed stream that stops with a :class:`FormatError` once past the budget."""

    def __init__(self, stream: BinaryIO, budget: Budget) -> None:
        self.stream = stream
        self.budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        self.budget.take(len(data))
        buffer[: len(data)] = data
        return len(data)


def _peek(stream: BinaryIO, size: int = 512) -> tuple[bytes, BinaryIO]:
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    return buffered.peek(size)[:size], buffered


def _read_stream(
    stream: BinaryIO, fmt: str, member: str | None, budget: Budget, gunzipped: bool = False
) -> Iterator[Incoming]:
    """The records of a stream that is not a zip archive (the file, or a member of one): gzip is read
    once (x.mrc.gz, or x.mrc.gz in a zip); a gzip in a gzip, or a zip in either, is refused (a
    bomb's nesting, or an export compressed twice by mistake)."""
    head, stream = _peek(stream)
    nested = "a gzip" if head[:2] == GZIP_MAGIC and gunzipped else "a zip" if head[:4] == ZIP_MAGIC else None
    if nested:
        where = f"{member}: " if member else ""
        raise FormatError(
            f"{where}{nested} file inside a compressed file: compress the export only once "
            "(x.mrc.gz, or x.mrc or x.mrc.gz in a zip)"
        )
    if head[:2] == GZIP_MAGIC:
        unpacked = _Decompressed(gzip.GzipFile(fileobj=stream), budget)  # type: ignore[arg-type]
        yield from _read_stream(unpacked, fmt, member, budget, gunzipped=True)  # type: ignore[arg-type]
        return
    try:
        chosen = sniff(head) if fmt == AUTO else fmt
    except FormatError as exc:
        if member:
            raise FormatError(f"{member}: {exc}") from None
        raise
    for item in _SPLITTERS[chosen](stream):
        item.member = member
        yield item


def read_path(path: Path, fmt: str | None = None, decoded: bool = True) -> Iterator[Incoming]:
    """Every record in the file at ``path``, whatever its compression and (unless forced) format.

    With ``decoded=False`` the records are only split out of the file; :func:`decode` finishes them
    (in another process, say).
    """
    items = split_path(path, fmt)
    return (decode(item) for item in items) if decoded else items


def split_path(path: Path, fmt: str | None = None) -> Iterator[Incoming]:
    fmt = normalise_format(fmt)
    with open(path, "rb") as raw:
        budget = Budget(os.fstat(raw.fileno()).st_size)
        head, stream = _peek(raw)  # type: ignore[arg-type]
        try:
            if head[:4] == ZIP_MAGIC:
                yield from _read_zip(stream, fmt, budget)
                return
            yield from _read_stream(stream, fmt, None, budget)
        except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile) as exc:
            raise FormatError(f"the compressed file is damaged: {exc}") from None


def _read_zip(stream: BinaryIO, fmt: str, budget: Budget) -> Iterator[Incoming]:
    try:
        archive = zipfile.ZipFile(stream)  # type: ignore[arg-type]
    except zipfile.BadZipFile as exc:
        raise FormatError(f"the zip file is damaged: {exc}") from None
    with archive:
        members = [
            m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")
        ]
        if not members:
            raise FormatError("the zip file holds no file")
        for info in members:
            with archive.open(info) as member:
                unpacked = _Decompressed(member, budget)  # type: ignore[arg-type]
                yield from _read_stream(unpacked, fmt, info.filename, budget)  # type: ignore[arg-type]
