"""Opening an export: decompression (gzip, zip), format detection, and the matching reader."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

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


def _peek(stream: BinaryIO, size: int = 512) -> tuple[bytes, BinaryIO]:
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    return buffered.peek(size)[:size], buffered


def _read_stream(stream: BinaryIO, fmt: str, member: str | None) -> Iterator[Incoming]:
    head, stream = _peek(stream)
    if head[:2] == b"\x1f\x8b":
        yield from _read_stream(gzip.GzipFile(fileobj=stream), fmt, member)  # type: ignore[arg-type]
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
        head, stream = _peek(raw)  # type: ignore[arg-type]
        if head[:4] == b"PK\x03\x04":
            yield from _read_zip(stream, fmt)
            return
        try:
            yield from _read_stream(stream, fmt, None)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise FormatError(f"the compressed file is damaged: {exc}") from None


def _read_zip(stream: BinaryIO, fmt: str) -> Iterator[Incoming]:
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
                yield from _read_stream(member, fmt, info.filename)  # type: ignore[arg-type]
