"""A fast path for the common case: a well-formed ISO 2709 record in valid UTF-8.

pymarc builds a full object per field and subfield, and that costs more than all of the ingest's own
work; for the clean records that make up most exports, this reads the directory and subfields
straight into light objects with the part of pymarc's Field interface the catalogue's mapping uses.
Anything unusual -- another encoding, a directory that does not add up, missing indicators, odd
subfield codes -- returns ``None`` and the record goes through pymarc, which stays the reference:
the tests check that both paths give the same catalogue fields on every real file.
"""

from __future__ import annotations

from pymarc import Subfield

_FT = 0x1E
_SF = b"\x1f"


class LightField:
    __slots__ = ("data", "indicator1", "indicator2", "subfields", "tag")

    def __init__(
        self,
        tag: str,
        data: str = "",
        indicators: tuple[str, str] = (" ", " "),
        subfields: list[Subfield] | None = None,
    ) -> None:
        self.tag = tag
        self.data = data
        self.indicator1, self.indicator2 = indicators
        self.subfields = subfields if subfields is not None else []

    def is_control_field(self) -> bool:
        return self.tag < "010" and self.tag.isdigit()

    def get(self, code: str, default: str | None = None) -> str | None:
        for sf in self.subfields:
            if sf.code == code:
                return sf.value
        return default

    def get_subfields(self, *codes: str) -> list[str]:
        return [sf.value for sf in self.subfields if sf.code in codes]


class LightRecord:
    __slots__ = ("fields", "leader")

    def __init__(self, leader: str, fields: list[LightField]) -> None:
        self.leader = leader
        self.fields = fields


def _valid_code(code: int) -> bool:
    return 48 <= code <= 57 or 97 <= code <= 122 or 65 <= code <= 90


def parse(raw: bytes) -> LightRecord | None:
    """The record, or ``None`` when it needs pymarc's careful (and slower) handling."""
    if len(raw) < 26 or raw[9:10] != b"a" or raw[-1] != 0x1D:
        return None
    try:
        raw.decode("utf-8")
        base = int(raw[12:17])
    except ValueError:
        return None
    if base <= 24 or base >= len(raw) or raw[base - 1] != _FT:
        return None
    directory = raw[24 : base - 1]
    if len(directory) % 12:
        return None
    fields: list[LightField] = []
    for i in range(0, len(directory), 12):
        entry = directory[i : i + 12]
        if not entry.isdigit() and not entry[3:].isdigit():
            return None
        length = int(entry[3:7])
        start = base + int(entry[7:12])
        end = start + length
        if length < 1 or end > len(raw) or raw[end - 1] != _FT:
            return None
        tag = entry[:3].decode("ascii", errors="replace")
        body = raw[start : end - 1]
        if tag < "010" and tag.isdigit():
            fields.append(LightField(tag, data=body.decode("utf-8")))
            continue
        parts = body.split(_SF)
        if len(parts[0]) != 2:
            return None
        subfields = []
        for part in parts[1:]:
            if not part:
                continue
            if not _valid_code(part[0]):
                return None
            subfields.append(Subfield(chr(part[0]), part[1:].decode("utf-8")))
        fields.append(LightField(tag, indicators=(chr(parts[0][0]), chr(parts[0][1])), subfields=subfields))
    if not fields:
        return None
    return LightRecord(raw[:24].decode("ascii", errors="replace"), fields)
