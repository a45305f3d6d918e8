"""What every reader yields: one record as found in a file, decoded or with the reason it is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymarc import Record

from catalog.pickling import by_constructor


@by_constructor  # sent to a worker for every record read (see catalog.pickling)
@dataclass(slots=True)
class Incoming:
    number: int  # 1-based position in the file (or in the zip member)
    offset: int | None  # byte offset of the record in the (decompressed) stream
    raw: bytes  # the record's bytes exactly as they stand in the file
    raw_format: str  # iso2709, marcxml or marcjson
    record: Record | None = None
    error: str | None = None  # why the record cannot be used, when record is None
    warnings: list[str] = field(default_factory=list)
    member: str | None = None  # name inside a zip archive
    context: Any = None  # what decoding needs besides the bytes (XML namespaces and encoding)


class FormatError(ValueError):
    """The file as a whole cannot be read in the requested or detected format."""
