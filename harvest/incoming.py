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


# The largest record each reader takes. ISO 2709 writes a record's length in five digits; a MARCXML
# or MARC-in-JSON rendering of the largest such record is a few times that, and a record with
# thousands of items still far below these. A longer one is reported alone and skipped: reading on
# until it ends would hold all of it in memory (an unterminated record runs to the end of the file).
MAX_RECORD_BYTES = {"iso2709": 99_999, "marcxml": 16 * 1024 * 1024, "marcjson": 16 * 1024 * 1024}
# How much of an oversized record is kept with its rejection.
OVERSIZED_KEPT = 1024


def oversized(number: int, offset: int | None, raw: bytes, raw_format: str) -> Incoming:
    """The rejection of a record longer than its format's :data:`MAX_RECORD_BYTES`."""
    limit = MAX_RECORD_BYTES[raw_format]
    return Incoming(
        number=number,
        offset=offset,
        raw=raw[:OVERSIZED_KEPT],
        raw_format=raw_format,
        error=f"the record is longer than {limit:,} bytes, the most a {raw_format} record may be: skipped",
    )
