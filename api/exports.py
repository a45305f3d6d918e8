"""Exports: a source record as received (or converted), and a union record as one merged MARC record."""

from __future__ import annotations

import json
import re
from typing import Any

from pymarc import Field, Indicators, Record, Subfield
from sqlalchemy import Connection, select

from catalog.copy_safe import CopySafeRules, copy_safe
from catalog.dedup.merge import completeness
from catalog.models import Library, SourceRecord
from harvest import sources
from harvest.incoming import Incoming

from . import marcxml

FORMATS = {
    "marcxml": "application/marcxml+xml",
    "iso2709": "application/marc",
    "marcjson": "application/json",
}
ALIASES = {"xml": "marcxml", "marc": "iso2709", "mrc": "iso2709", "json": "marcjson"}
# What the ``format`` parameter of an export takes (in any case), as the OpenAPI document lists it.
FORMAT_NAMES = [*FORMATS, *ALIASES]
SR = SourceRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]


class ExportError(ValueError):
    pass


def normalise(fmt: str) -> str:
    key = ALIASES.get(fmt.lower(), fmt.lower())
    if key not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use marcxml, iso2709 or marcjson")
    return key


def decode(raw: bytes, raw_format: str) -> Record:
    """The stored raw record as a pymarc record (the same readers as the ingest)."""
    context = None
    if raw_format == "marcxml":  # the record's own prefix, whatever the file declared it as
        match = re.match(rb"\s*<(?:([A-Za-z_][\w.-]*):)?record", raw)
        prefix = match.group(1) if match and match.group(1) else b""
        context = ({prefix: b"http://www.loc.gov/MARC21/slim"}, None)
    item = sources.decode(Incoming(number=1, offset=0, raw=raw, raw_format=raw_format, context=context))
    if item.record is None:
        raise ExportError(f"the stored record cannot be decoded: {item.error}")
    return item.record


def serialise(record: Record, fmt: str) -> bytes:
    if fmt == "iso2709":
        record.leader = record.leader[:9] + "a" + record.leader[10:]
        return record.as_marc()
    if fmt == "marcxml":
        return marcxml.document(record)
    return json.dumps(record.as_dict(), ensure_ascii=False).encode()


def source_export(raw: bytes, raw_format: str, fmt: str) -> bytes:
    """The record byte for byte as the library sent it when the format is the one it came in."""
    if fmt == raw_format:
        return raw
    return serialise(decode(raw, raw_format), fmt)


def union_export(
    conn: Connection, union_id: int, fmt: str, rules: CopySafeRules | None = None
) -> bytes | None:
    """The union record in ``fmt``; copy-safe (see catalog.copy_safe) with ``rules``, else with the
    members' local fields as the chosen member sent them."""
    record = union_marc(conn, union_id)
    if record is None:
        return None
    return serialise(copy_safe(record, union_id, rules) if rules else record, fmt)


def union_marc(conn: Connection, union_id: int, holders: bool = False) -> Record | None:
    """The union record as one MARC record: its most complete member, renumbered, with every member's
    number (035) and every member's ISBN (020); with ``holders``, an 850 field per holding library."""
    rows = _member_rows(conn, [union_id]).get(union_id)
    return None if not rows else _merged(union_id, rows, holders)


def union_marcs(conn: Connection, union_ids: list[int]) -> dict[int, Record]:
    """:func:`union_marc` of several union records, their members read in one statement; a record
    whose chosen member cannot be decoded is left out."""
    out = {}
    for union_id, rows in _member_rows(conn, union_ids).items():
        try:
            out[union_id] = _merged(union_id, rows, False)
        except ExportError:
            continue
    return out


def _member_rows(conn: Connection, union_ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    if not union_ids:
        return found
    rows = conn.execute(
        select(SR.c.union_record_id, SR.c.raw, SR.c.raw_format, SR.c.fields, SR.c.local_id, LIBRARY.c.code)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(SR.c.union_record_id.in_(union_ids), SR.c.status == "active")
    ).all()
    for row in rows:
        found.setdefault(row.union_record_id, []).append(row)
    return found


def _merged(union_id: int, rows: list[Any], holders: bool) -> Record:
    members: list[Any] = sorted(rows, key=lambda r: (-completeness(r.fields or {}), r.code, r.local_id))
    record = decode(members[0].raw, members[0].raw_format)
    for field in record.get_fields("001", "003"):
        record.remove_field(field)
    record.add_ordered_field(Field(tag="001", data=f"union-{union_id}"))
    record.add_ordered_field(Field(tag="003", data="UNIONCAT"))
    present = {f.get("a") for f in record.get_fields("035")}
    for member in members:
        number = f"({member.code}){member.local_id}"
        if number not in present:
            record.add_ordered_field(
                Field(tag="035", indicators=Indicators(" ", " "), subfields=[Subfield("a", number)])
            )
    isbns = {v for f in record.get_fields("020") for v in f.get_subfields("a")}
    from catalog.identifiers import isbn13

    known = {isbn13(v) for v in isbns}
    for member in members[1:]:
        for isbn in (member.fields or {}).get("isbns", []):
            if isbn not in known:
                known.add(isbn)
                record.add_ordered_field(
                    Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn)])
                )
    if holders:
        for code in sorted({member.code for member in members}):
            record.add_ordered_field(
                Field(tag="850", indicators=Indicators(" ", " "), subfields=[Subfield("a", code)])
            )
    return record
