"""ISO 2709 (binary MARC) reading: record splitting that survives broken lengths, and decoding that
believes the bytes over a wrong leader/09 encoding flag."""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from pymarc import Record
from pymarc.exceptions import BadSubfieldCodeWarning

from harvest.chunked import ByteWindow
from harvest.incoming import MAX_RECORD_BYTES, Incoming, oversized

END_OF_RECORD = b"\x1d"
MAX_RECORD = MAX_RECORD_BYTES["iso2709"]
_FILLER = re.compile(rb"[\r\n\t \x00\x1a]*")
_ESC = 0x1B


def split_records(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(byte offset, record bytes) for each record, reading ``stream`` in chunks.

    The leader's record length is trusted when the byte at that length ends a record; otherwise the
    record runs to the next end-of-record byte (0x1D), which is where exports that miscount lengths
    or contain multibyte text still put it. A record with no end-of-record byte within
    :data:`MAX_RECORD` bytes is given as its first ``MAX_RECORD + 1`` bytes (longer than any record
    can be: :func:`split` rejects it), and the rest of it, up to the next end-of-record byte, skipped.
    """
    window = ByteWindow(stream)
    skipping = False
    while window.fill():
        buffer, eof, offset = window.data, window.eof, window.offset
        start = 0
        if skipping:  # the rest of an oversized record
            terminator = buffer.find(END_OF_RECORD)
            if terminator == -1:
                window.consume(len(buffer))
                continue
            start, skipping = terminator + 1, False
        while start < len(buffer):
            # Skip filler between records (newlines, spaces, NULs some exporters put there).
            start = _FILLER.match(buffer, start).end()  # type: ignore[union-attr]
            if start >= len(buffer):
                break
            length_field = buffer[start : start + 5]
            length = int(length_field) if len(length_field) == 5 and length_field.isdigit() else 0
            end = start + length
            if not (length >= 24 and end <= len(buffer) and buffer[end - 1 : end] == END_OF_RECORD):
                terminator = buffer.find(END_OF_RECORD, start, start + MAX_RECORD)
                if terminator == -1 and len(buffer) - start > MAX_RECORD:
                    yield offset + start, buffer[start : start + MAX_RECORD + 1]
                    terminator = buffer.find(END_OF_RECORD, start + MAX_RECORD)
                    if terminator == -1:
                        skipping, start = True, len(buffer)
                        break
                    start = terminator + 1
                    continue
                if terminator == -1 and not eof:
                    break  # the record goes on in the next chunk
                end = len(buffer) if terminator == -1 else terminator + 1
            yield offset + start, buffer[start:end]
            start = end
        window.consume(start)


def _looks_utf8(data: bytes) -> bool:
    """True when ``data`` has multibyte UTF-8 sequences and decodes as UTF-8 without error."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Bytes that MARC-8's default sets (ASCII + ANSEL) never use, and runs of letters typical of Cyrillic
# Windows-1251 text: exports from some systems write their native code page under a MARC-8 flag.
_NOT_ANSEL = re.compile(rb"[\x80-\x87\x8a-\x8c\x8f-\xa0\xc9-\xdf\xff]")
_CYRILLIC_RUN = re.compile(rb"[\xc0-\xff]{3,}")


def choose_encoding(raw: bytes) -> tuple[str, str | None]:
    """(encoding, warning or None) for one record, by its flag and by what its bytes are.

    The encoding is 'utf-8', 'utf-8-replace' (invalid bytes replaced), 'marc8', or a legacy code page.
    """
    flag = raw[9:10]
    body = raw[24:]
    if flag == b"a":
        if body.isascii():
            return "utf-8", None
        try:
            body.decode("utf-8")
            return "utf-8", None
        except UnicodeDecodeError:
            if _ESC in body:
                return "marc8", "leader/09 says UTF-8 but the bytes are MARC-8: decoded as MARC-8"
            return "utf-8-replace", "leader/09 says UTF-8 but some bytes are not valid UTF-8: replaced"
    if _looks_utf8(body):
        return "utf-8", "leader/09 says MARC-8 but the bytes are UTF-8: decoded as UTF-8"
    if _ESC not in body and _NOT_ANSEL.search(body):
        legacy = "cp1251" if _CYRILLIC_RUN.search(body) else "cp1252"
        return legacy, f"leader/09 says MARC-8 but the bytes are not MARC-8: decoded as {legacy}"
    return "marc8", None


# pymarc reports oddities through logging ("missing indicators") and warnings (bad subfield codes);
# they are collected per record, thread by thread, as the record's warnings instead.
warnings.filterwarnings("ignore", category=BadSubfieldCodeWarning)
_collector = threading.local()


class _PymarcLogCollector(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        notes = getattr(_collector, "notes", None)
        if notes is not None:
            notes.append(record.getMessage()[:200])


_pymarc_logger = logging.getLogger("pymarc")
_pymarc_logger.addHandler(_PymarcLogCollector())
_pymarc_logger.propagate = False


def _odd_subfield_codes(record: Record) -> list[str]:
    odd = set()
    for field in record.fields:
        if not field.is_control_field():
            odd.update(sf.code for sf in field.subfields if not (sf.code.isascii() and sf.code.isalnum()))
    if not odd:
        return []
    return [f"subfield code(s) that are not a letter or digit: {', '.join(sorted(map(repr, odd)))}"]


def decode(raw: bytes) -> tuple[Record, list[str]]:
    """A pymarc record from ISO 2709 bytes, and the warnings its decoding raised."""
    notes: list[str] = []
    _collector.notes = notes
    try:
        record = _decode(raw, notes)
    finally:
        _collector.notes = None
    notes.extend(_odd_subfield_codes(record))
    return record, notes


def _decode(raw: bytes, notes: list[str]) -> Record:
    encoding, note = choose_encoding(raw)
    if note:
        notes.append(note)
    if encoding == "utf-8":
        record = Record(raw, to_unicode=True, force_utf8=True, utf8_handling="strict")
    elif encoding == "utf-8-replace":
        record = Record(raw, to_unicode=True, force_utf8=True, utf8_handling="replace")
    else:
        if encoding == "marc8":
            record = Record(raw, to_unicode=True, force_utf8=False, hide_utf8_warnings=True)
        else:
            record = Record(raw, to_unicode=True, file_encoding=encoding)
        record.leader = record.leader[:9] + "a" + record.leader[10:]  # the text is Unicode now
    return record


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    reasons = {
        "RecordLengthInvalid": "invalid record length in the leader",
        "RecordLeaderInvalid": "invalid leader",
        "BaseAddressNotFound": "no base address of data in the leader",
        "BaseAddressInvalid": "base address of data beyond the end of the record",
        "RecordDirectoryInvalid": "invalid directory",
        "NoFieldsFound": "no fields in the record",
        "TruncatedRecord": "record shorter than its leader says",
        "EndOfRecordNotFound": "no end-of-record byte",
        "FieldNotFound": "field missing",
    }
    if isinstance(exc, UnicodeDecodeError):
        return f"bytes that are not text in the leader or directory (position {exc.start})"
    if isinstance(exc, ValueError) and "invalid literal for int()" in text:
        return f"a number in the leader or directory is not a number ({text.split(':', 1)[-1].strip()})"
    reason = reasons.get(name)
    if reason:
        return f"{reason}" + (f" ({text})" if text and text != reason else "")
    return f"{name}: {text}" if text else name


def split(stream: BinaryIO) -> Iterator[Incoming]:
    """The records of ``stream``, not yet decoded."""
    for number, (offset, raw) in enumerate(split_records(stream), start=1):
        if len(raw) > MAX_RECORD:
            yield oversized(number, offset, raw, "iso2709")
        else:
            yield Incoming(number=number, offset=offset, raw=raw, raw_format="iso2709")


def decode_item(item: Incoming) -> Incoming:
    """Fill in ``item.record`` and its warnings, or ``item.error``."""
    raw = item.raw
    if len(raw) < 24 or not raw[:5].isdigit():
        item.error = "not an ISO 2709 record (no valid leader)"
        return item
    try:
        item.record, item.warnings = decode(raw)
    except Exception as exc:  # pymarc raises many types for broken records
        item.error = _describe(exc)
    else:
        if not item.record.fields:
            item.record, item.error = None, "no fields could be read from the directory"
    return item
