"""A fast path for the common case: a well-formed ISO 2709 record in valid UTF-8.

pymarc builds a full object per field and subfield, and that costs more than all of the ingest's own
work; for the clean records that make up most exports, this reads the directory straight into light
objects with the part of pymarc's Field interface the catalogue's mapping uses. A field's subfields
are split only when the mapping first asks for them: most fields of a record (040, 043, 9xx ...) are
never read. The whole record is checked first, so that a lazy split cannot fail later.
Anything unusual -- another encoding, a directory that does not add up, missing indicators, odd
subfield codes -- returns ``None`` and the record goes through pymarc, which stays the reference:
the tests check that both paths give the same catalogue fields on every real file.
"""

from __future__ import annotations

import re

from catalog.light_record import LightField, LightRecord

_FT = 0x1E
_SF = 0x1F
_CHR = [chr(i) for i in range(256)]
_DIRECTORY = re.compile(r"(?:.{3}\d{9})*", re.DOTALL | re.ASCII)
# A subfield delimiter not followed by a valid code (a-z, A-Z, 0-9); an empty subfield is skipped.
_BAD_CODE = re.compile(rb"\x1f[^0-9A-Za-z\x1e\x1f]")


def parse(raw: bytes) -> LightRecord | None:
    """The record, or ``None`` when it needs pymarc's careful (and slower) handling."""
    if len(raw) < 26 or raw[9:10] != b"a" or raw[-1] != 0x1D:
        return None
    try:
        text = raw.decode("utf-8")
        base = int(raw[12:17])
        if base <= 24 or base >= len(raw) or raw[base - 1] != _FT or _BAD_CODE.search(raw, base):
            return None
        directory = raw[24 : base - 1].decode("ascii", errors="replace")
        if len(directory) % 12 or not _DIRECTORY.fullmatch(directory):
            return None
        return _fields(raw, text if len(text) == len(raw) else None, base, directory)
    except (ValueError, IndexError):  # a directory pointing into the middle of a character, and such
        return None


def _fields(raw: bytes, ascii_text: str | None, base: int, directory: str) -> LightRecord | None:
    fields: list[LightField] = []
    size = len(raw)
    for i in range(0, len(directory), 12):
        length = int(directory[i + 3 : i + 7])
        start = base + int(directory[i + 7 : i + 12])
        end = start + length
        if length < 1 or end > size or raw[end - 1] != _FT:
            return None
        tag = directory[i : i + 3]
        if tag < "010" and tag.isdigit():
            data = ascii_text[start : end - 1] if ascii_text is not None else raw[start : end - 1].decode()
            fields.append(LightField(tag, data))
            continue
        # Two indicators, then subfields (or nothing): exactly two bytes before the first delimiter.
        if length < 3 or raw[start] == _SF or raw[start + 1] == _SF or (length > 3 and raw[start + 2] != _SF):
            return None
        body = (
            ascii_text[start + 2 : end - 1] if ascii_text is not None else raw[start + 2 : end - 1].decode()
        )
        fields.append(LightField(tag, "", (_CHR[raw[start]], _CHR[raw[start + 1]]), None, body))
    if not fields:
        return None
    return LightRecord(raw[:24].decode("ascii", errors="replace"), fields)
